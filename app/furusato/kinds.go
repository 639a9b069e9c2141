package furusato

import (
	"errors"
	"fmt"
	"time"

	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/app/role"
	"smartpass.city/smartpass/syncproto"
)

// The op kinds of the donation counter.
const (
	// OpItem lists an item in a shop's catalogue, or replaces it (a
	// restock, a new price): the server writes it after Item.Check, so a
	// gift over 30% or not local never reaches a counter.
	OpItem = "furusato.item"
	// OpDonation is a donation taken at a shop's counter, paid.
	OpDonation = "furusato.donation"
	// OpGift is the gift of a donation handed over at the counter.
	OpGift = "furusato.gift"
)

// ErrInvalid is wrapped when an op's body breaks its kind's rules.
var ErrInvalid = errors.New("furusato: invalid record")

// ErrGift is wrapped by the fold's refusals of a gift: for no donation,
// a donation without a gift, a gift handed over twice.
var ErrGift = errors.New("furusato: no gift for this donation")

// ErrPaymentUsed is the fold's refusal of a donation whose payment paid
// for another donation already: one payment, one receipt.
var ErrPaymentUsed = errors.New("furusato: the payment paid for another donation")

// Listing is the body of OpItem: an item of one shop.
type Listing struct {
	Shop string `json:"shop"`
	Item
}

// Validate applies the gift rules (Item.Check) to a listing.
func (l Listing) Validate() error {
	if l.Shop == "" {
		return fmt.Errorf("%w: a listing names no shop", ErrInvalid)
	}
	return l.Item.Check()
}

// Donation is the body of OpDonation.
type Donation struct {
	Shop string `json:"shop"`
	// Donor is the donor's account (resident id): the receipt and the
	// one-stop application are theirs.
	Donor  string `json:"donor"`
	Amount int64  `json:"amount"` // yen
	// Item is the gift picked, "" for a donation without one; Gift says
	// the donor may receive it (not a resident of the city).
	Item string `json:"item,omitempty"`
	Gift bool   `json:"gift,omitempty"`
	// Payment is the payment's reference (the gateway's, or the city
	// wallet's): the receipt is for money received.
	Payment string    `json:"payment"`
	At      time.Time `json:"at"`
}

// Validate checks a donation's body.
func (d Donation) Validate() error {
	switch {
	case d.Shop == "" || d.Donor == "":
		return fmt.Errorf("%w: a donation needs a shop and a donor", ErrInvalid)
	case d.Amount <= 0:
		return fmt.Errorf("%w: donation of ¥%d", ErrInvalid, d.Amount)
	case d.Payment == "":
		return fmt.Errorf("%w: a donation without a payment reference", ErrInvalid)
	case d.At.IsZero():
		return fmt.Errorf("%w: a donation without a time", ErrInvalid)
	case d.Gift && d.Item == "":
		return fmt.Errorf("%w: a gift without an item", ErrInvalid)
	}
	return nil
}

// Handover is the body of OpGift.
type Handover struct {
	Shop string `json:"shop"`
	// Donation is the donation's record id (opkind.RecordID).
	Donation string `json:"donation"`
	Donor    string `json:"donor"`
	Item     string `json:"item"`
}

// Validate checks a handover's body.
func (h Handover) Validate() error {
	if h.Shop == "" || h.Donation == "" || h.Donor == "" || h.Item == "" {
		return fmt.Errorf("%w: a handover needs a shop, a donation, a donor and an item", ErrInvalid)
	}
	return nil
}

// Book is the folded counter: the catalogue, the donations and the gifts
// handed over.
type Book struct {
	// Items by ItemKey.
	Items map[string]Item
	// Donations by record id.
	Donations map[string]Donation
	// Given: donation record id -> the handover's record id.
	Given map[string]string
	// Paid: payment reference -> the donation record id it paid for: one
	// payment pays one donation.
	Paid map[string]string
}

// ItemKey names a shop's item in Book.Items.
func ItemKey(shop, id string) string { return shop + "\x00" + id }

// Counter is the folded part that holds the book.
var Counter = opkind.NewSlot("furusato", func() Book {
	return Book{Items: make(map[string]Item), Donations: make(map[string]Donation), Given: make(map[string]string), Paid: make(map[string]string)}
})

// The catalogue is the server's (checked against the gift rules before
// it is written) and goes to its shop's feed; donations and handovers
// are recorded by the shop's counters and stay on the shop's feed too
// (their stock and offline work need them) and in the audit log: a
// donation names a person, so no other facility receives it.
func init() {
	opkind.Register(opkind.Kind{
		Name:       OpItem,
		Body:       opkind.Over(Listing.Validate, func(l Listing) string { return l.Shop }),
		ServerOnly: true,
		Feeds:      opkind.Feeds{Facility: true},
		Audit: func(op syncproto.Op) (opkind.Entry, bool) {
			l, err := opkind.Decode[Listing](op)
			if err != nil {
				return opkind.Entry{}, false
			}
			return opkind.Entry{Action: op.Kind, Subject: l.Shop, Detail: fmt.Sprintf("%s ¥%d cost ¥%d stock %d", l.ID, l.Donation, l.Cost, l.Stock)}, true
		},
		Fold: foldItem,
	})
	opkind.Register(opkind.Kind{
		Name:  OpDonation,
		Body:  opkind.Over(Donation.Validate, func(d Donation) string { return d.Shop }),
		Roles: []role.Role{role.Counter},
		Feeds: opkind.Feeds{Facility: true},
		Audit: func(op syncproto.Op) (opkind.Entry, bool) {
			d, err := opkind.Decode[Donation](op)
			if err != nil {
				return opkind.Entry{}, false
			}
			return opkind.Entry{Action: op.Kind, Subject: d.Donor, Detail: fmt.Sprintf("%s ¥%d item %q gift %t", d.Shop, d.Amount, d.Item, d.Gift)}, true
		},
		Fold: foldDonation,
	})
	opkind.Register(opkind.Kind{
		Name:  OpGift,
		Body:  opkind.Over(Handover.Validate, func(h Handover) string { return h.Shop }),
		Roles: []role.Role{role.Counter},
		Feeds: opkind.Feeds{Facility: true},
		Audit: func(op syncproto.Op) (opkind.Entry, bool) {
			h, err := opkind.Decode[Handover](op)
			if err != nil {
				return opkind.Entry{}, false
			}
			return opkind.Entry{Action: op.Kind, Subject: h.Donor, Detail: fmt.Sprintf("%s %s for %s", h.Shop, h.Item, h.Donation)}, true
		},
		Fold: foldGift,
	})
}

// foldItem lists an item (a listing of an item already listed replaces
// it, stock included: a restock).
func foldItem(p *opkind.Parts, op syncproto.Op) error {
	l, err := opkind.DecodeValid[Listing](op)
	if err != nil {
		return err
	}
	Counter.In(p).Items[ItemKey(l.Shop, l.ID)] = l.Item
	return nil
}

// foldDonation records a donation; a gift must be an item of the shop's
// catalogue, for its donation, and its payment must not have paid for
// another donation.
func foldDonation(p *opkind.Parts, op syncproto.Op) error {
	d, err := opkind.DecodeValid[Donation](op)
	if err != nil {
		return err
	}
	b := Counter.In(p)
	if d.Item != "" {
		it, ok := b.Items[ItemKey(d.Shop, d.Item)]
		if !ok {
			return fmt.Errorf("%w: %s has no item %s", ErrGift, d.Shop, d.Item)
		}
		if d.Amount < it.Donation {
			return fmt.Errorf("%w: ¥%d is less than the ¥%d the gift %s is for", ErrGift, d.Amount, it.Donation, d.Item)
		}
	}
	id := opkind.RecordID(op)
	if other := b.Paid[d.Payment]; other != "" && other != id {
		return fmt.Errorf("%w: %s paid for %s", ErrPaymentUsed, d.Payment, other)
	}
	b.Donations[id] = d
	b.Paid[d.Payment] = id
	return nil
}

// foldGift hands a donation's gift over: one per donation, from the
// shop's stock; none left is refused.
func foldGift(p *opkind.Parts, op syncproto.Op) error {
	h, err := opkind.DecodeValid[Handover](op)
	if err != nil {
		return err
	}
	b := Counter.In(p)
	d, ok := b.Donations[h.Donation]
	switch {
	case !ok:
		return fmt.Errorf("%w: no donation %s", ErrGift, h.Donation)
	case !d.Gift || d.Item != h.Item || d.Shop != h.Shop || d.Donor != h.Donor:
		return fmt.Errorf("%w: donation %s has no gift %s for %s at %s", ErrGift, h.Donation, h.Item, h.Donor, h.Shop)
	case b.Given[h.Donation] != "":
		return fmt.Errorf("%w: the gift of %s was handed over already (%s)", ErrGift, h.Donation, b.Given[h.Donation])
	}
	k := ItemKey(h.Shop, h.Item)
	it := b.Items[k]
	if it.Stock <= 0 {
		return fmt.Errorf("%w: %s at %s", ErrOutOfStock, h.Item, h.Shop)
	}
	it.Stock--
	b.Items[k] = it
	b.Given[h.Donation] = opkind.RecordID(op)
	return nil
}

// Of returns the donations of donor, by record id.
func (b Book) Of(donor string) map[string]Donation {
	out := make(map[string]Donation)
	for id, d := range b.Donations {
		if d.Donor == donor {
			out[id] = d
		}
	}
	return out
}

// Ledger folds the counters' ops as a reader of the whole log meets
// them (the server's reports and donor pages), skipping other kinds.
type Ledger struct{ p opkind.Parts }

// Add folds op if it is one of the counter's kinds.
func (l *Ledger) Add(op syncproto.Op) {
	if op.Kind == OpItem || op.Kind == OpDonation || op.Kind == OpGift {
		opkind.Fold(&l.p, op)
	}
}

// Book is what was folded so far.
func (l *Ledger) Book() Book { return *Counter.In(&l.p) }
