package furusato

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"smartpass.city/smartpass/app/jpaddress"
)

// Payer takes a donation's payment at the counter (the wallet issue's
// gateway: a credit card for a visitor, the city wallet for a resident)
// and returns the payment's reference. The counter calls it once per
// donation, after the gift rules passed, so nobody pays for a gift the
// counter then refuses.
type Payer interface {
	Pay(ctx context.Context, amount int64) (ref string, err error)
}

// Sale is what staff and the donor chose at the counter.
type Sale struct {
	Shop string
	// Donor is the donor's account, Name their name; Address the address
	// their card's certificate gives (the gift rule reads the
	// municipality).
	Donor, Name, Address string
	// Item is the gift picked (its ID "" for a donation without one);
	// Amount the donation when there is no item.
	Item   Item
	Amount int64
}

// Offer is what the counter tells the donor before they pay: the
// amount, and whether the gift picked can be handed over.
type Offer struct {
	Amount int64  `json:"amount"`
	Item   string `json:"item,omitempty"`
	Gift   bool   `json:"gift"`
	// OwnResident: the donor lives in the city, which may not give them
	// a gift; the donation is still taken, without it.
	OwnResident bool `json:"own_resident,omitempty"`
	// Donor is the donor's name masked as a till shows it (カ＊ タ＊＊
	// 様): the donor sees it is their own account, the queue cannot read
	// it.
	Donor string `json:"donor,omitempty"`
}

// Quote applies the gift rules to s: the amount to pay and whether the
// gift is given. A resident of city gets an offer without a gift (the
// donation is still welcome); an item out of stock, or an address that
// cannot be parsed, is refused.
func Quote(city jpaddress.Place, s Sale) (Offer, error) {
	o := Offer{Amount: s.Amount}
	if s.Item.ID != "" {
		o.Item, o.Amount = s.Item.ID, s.Item.Donation
		err := Gift(city, s.Address, s.Item)
		switch {
		case errors.Is(err, ErrOwnResident):
			o.Item, o.OwnResident = "", true
		case err != nil:
			return Offer{}, err
		default:
			o.Gift = true
		}
	}
	if o.Amount <= 0 {
		return Offer{}, fmt.Errorf("%w: donation of ¥%d", ErrInvalid, o.Amount)
	}
	return o, nil
}

// Donate applies the gift rules to s (Quote), takes the payment through
// pay and returns the OpDonation body to record. Nothing is paid for a
// sale the rules refuse.
func Donate(ctx context.Context, pay Payer, city jpaddress.Place, s Sale, now time.Time) (Donation, error) {
	o, err := Quote(city, s)
	if err != nil {
		return Donation{}, err
	}
	d := Donation{Shop: s.Shop, Donor: s.Donor, Amount: o.Amount, Item: o.Item, Gift: o.Gift, At: now.UTC()}
	// The body's rules, checked before the money moves: the reference
	// Validate wants comes after.
	pre := d
	pre.Payment = "(before payment)"
	if err := pre.Validate(); err != nil {
		return Donation{}, err
	}
	ref, err := pay.Pay(ctx, d.Amount)
	if err != nil {
		return Donation{}, fmt.Errorf("furusato: payment: %w", err)
	}
	d.Payment = ref
	return d, d.Validate()
}

// Catalogue is shop's items in b for the counter's screen, cheapest
// donation first (then by id, so the buttons keep their places).
func Catalogue(b Book, shop string) []Item {
	var out []Item
	prefix := ItemKey(shop, "")
	for k, it := range b.Items {
		if strings.HasPrefix(k, prefix) {
			out = append(out, it)
		}
	}
	slices.SortFunc(out, func(a, b Item) int {
		if a.Donation != b.Donation {
			return int(a.Donation - b.Donation)
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// Methods of payment at the counter.
const (
	// PayCard: a credit card through the gateway (cardpay): a visitor's.
	PayCard = "card"
	// PayCash: cash taken by a named member of staff.
	PayCash = "cash"
)

// CounterSale is the counter's request: the donor recognised (by face,
// or their QR pass), the item picked (or an amount without a gift), and
// how they pay. The server reads the donor's address from their account
// (the certificate's), never from the counter.
type CounterSale struct {
	Donor  string `json:"donor"`
	Item   string `json:"item,omitempty"`
	Amount int64  `json:"amount,omitempty"`
	Method string `json:"method"`
	// PaymentMethod is the gateway's id of the card (pm_...): the card
	// itself never reaches the server.
	PaymentMethod string `json:"payment_method,omitempty"`
	// Staff names who took the cash.
	Staff string `json:"staff,omitempty"`
	// Request is the counter's id of this sale: sent again after a lost
	// answer, it pays once.
	Request string `json:"request"`
}

// Validate checks a sale before it is sent and when it arrives.
func (s CounterSale) Validate() error {
	switch {
	case s.Donor == "" || s.Request == "":
		return fmt.Errorf("%w: a sale needs a donor and a request id", ErrInvalid)
	case s.Item == "" && s.Amount <= 0:
		return fmt.Errorf("%w: pick a gift or type an amount", ErrInvalid)
	case s.Method == PayCard && !strings.HasPrefix(s.PaymentMethod, "pm_"):
		return fmt.Errorf("%w: a card payment needs the card (PaymentMethod id)", ErrInvalid)
	case s.Method == PayCash && strings.TrimSpace(s.Staff) == "":
		return fmt.Errorf("%w: cash needs the name of the staff member who took it", ErrInvalid)
	case s.Method != PayCard && s.Method != PayCash:
		return fmt.Errorf("%w: payment %q", ErrInvalid, s.Method)
	}
	return nil
}

// CounterPaid answers a paid sale: the OpDonation body the counter
// records (the server made it from the rules and the payment), and
// whether the donor was refused the gift as a resident.
type CounterPaid struct {
	Donation    Donation `json:"donation"`
	OwnResident bool     `json:"own_resident,omitempty"`
}

// CounterReceipt asks for the receipt of one donation taken at the
// counter's shop (its record id, opkind.RecordID).
type CounterReceipt struct {
	Donation string `json:"donation"`
}
