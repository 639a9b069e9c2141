package furusato

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"smartpass.city/smartpass/app/checkout"
	"smartpass.city/smartpass/app/facility"
	rules "smartpass.city/smartpass/app/furusato"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/server/cardpay"
	"smartpass.city/smartpass/server/ledger"
	"smartpass.city/smartpass/server/receipt"
	"smartpass.city/smartpass/server/residents"
	"smartpass.city/smartpass/server/signedreq"
	"smartpass.city/smartpass/server/store"
)

// Card charges a donation to a card at the gateway (*cardpay.Gateway):
// posted once to the shop's Donations account, the amount checked
// against the intent fetched again.
type Card interface {
	Donate(ctx context.Context, shop, donor string, amount int64, paymentMethod, request string) (cardpay.Result, error)
}

// Counter is what the donation counter's endpoints need beyond the
// donor's: the enrolled devices, the ledger cash is posted to, and the
// card gateway (nil: the counter takes cash only).
type Counter struct {
	// Lookup finds an enrolled device (devices.Registry.Lookup).
	Lookup func(id string) (ed25519.PublicKey, scope.Device, error)
	Ledger *ledger.Ledger
	Card   Card
}

// Errors of the counter's requests.
var (
	errDevice  = errors.New("furusato: only a donation counter's device may do this")
	errNoDonor = errors.New("furusato: no account for the donor")
	errNoCard  = errors.New("furusato: this server takes no card payments")
	errNoItem  = errors.New("furusato: no such item at this shop")
)

// desk serves the counter's endpoints, once UseCounter gave it what it
// needs. One sale is decided at a time: the stock read and the payment
// are not raced by a second counter of the shop.
type desk struct {
	mu sync.Mutex
	c  Counter
}

// handler is where routes go: an *http.ServeMux, or the server's route
// table.
type handler interface {
	HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request))
}

// UseCounter turns the donation counter's endpoints on (routed by
// Routes, refusing until then): the server builds the ledger and the
// card gateway with the API, after this service.
func (s *Service) UseCounter(c Counter) {
	s.desk.mu.Lock()
	defer s.desk.mu.Unlock()
	s.desk.c = c
}

func (s *Service) counterRoutes(mux handler) {
	api := rules.CounterAPI
	byCounter(s, mux, api.Quote, "furusato.counter.quote", s.quote)
	byCounter(s, mux, api.Pay, "furusato.counter.pay", s.pay)
	byCounter(s, mux, api.Receipt, "furusato.counter.receipt", s.counterReceipt)
}

// byCounter routes ep, signed by a donation counter's device (role
// counter at a facility of kind donation): do gets the device and its
// shop, under the counter's lock; audited as action by the device on
// the donor, with do's detail.
func byCounter[Req, Resp any](s *Service, mux handler, ep rules.Endpoint[Req, Resp], action string, do func(context.Context, Counter, scope.Device, Req) (Resp, string, string, error)) {
	mux.HandleFunc(ep.Pattern(), func(w http.ResponseWriter, r *http.Request) {
		signed, err := signedreq.Reader{Limit: maxBody}.Signed(w, r)
		if err != nil {
			s.refuse(w, r, action, "", fmt.Errorf("%w: %w", errMalformed, err))
			return
		}
		s.desk.mu.Lock()
		defer s.desk.mu.Unlock()
		c := s.desk.c
		if c.Lookup == nil {
			s.refuse(w, r, action, "", errDevice)
			return
		}
		var key ed25519.PublicKey
		var dev scope.Device
		key, dev, err = c.Lookup(signed.Signer)
		switch {
		case err != nil:
			err = fmt.Errorf("%w: %v", residents.ErrSigned, err)
		case dev.Role != scope.Counter || dev.Facility.Kind != facility.Donation:
			err = fmt.Errorf("%w: %s is %s at %s", errDevice, signed.Signer, dev.Role, dev.Facility.ID)
		default:
			err = s.d.Registry.CheckSigned(ep.Path, signed, key)
		}
		if err != nil {
			s.refuse(w, r, action, "", err)
			return
		}
		req, err := signedreq.Body[Req](signed.Body)
		if err != nil {
			s.refuse(w, r, action, "", fmt.Errorf("%w: %w", errMalformed, err))
			return
		}
		out, subject, detail, err := do(r.Context(), c, dev, req)
		if err != nil {
			s.d.Audit.Note(dev.ID, action+".refused", subject, errorCode(err))
			s.answer(w, r, action, err)
			return
		}
		s.d.Audit.Note(dev.ID, action, subject, detail)
		writeJSON(w, out)
	})
}

// sale reads what the counter's request names: the donor's account (the
// address is their certificate's, never the counter's) and the shop's
// item with its stock now.
func (s *Service) sale(dev scope.Device, req rules.CounterSale) (rules.Sale, error) {
	if err := req.Validate(); err != nil {
		return rules.Sale{}, err
	}
	donor, err := s.d.Registry.Person(req.Donor)
	if errors.Is(err, store.ErrNotFound) {
		return rules.Sale{}, fmt.Errorf("%w: %s", errNoDonor, req.Donor)
	}
	if err != nil {
		return rules.Sale{}, err
	}
	sale := rules.Sale{Shop: dev.Facility.ID, Donor: donor.ID, Name: donor.Facts.Name, Address: donor.Facts.Address, Amount: req.Amount}
	if req.Item != "" {
		b, err := s.book()
		if err != nil {
			return rules.Sale{}, err
		}
		it, ok := b.Items[rules.ItemKey(dev.Facility.ID, req.Item)]
		if !ok {
			return rules.Sale{}, fmt.Errorf("%w: %s", errNoItem, req.Item)
		}
		sale.Item = it
	}
	return sale, nil
}

// quote serves CounterQuotePath: the offer, before the donor pays.
func (s *Service) quote(_ context.Context, _ Counter, dev scope.Device, req rules.CounterSale) (rules.Offer, string, string, error) {
	sale, err := s.sale(dev, req)
	if err != nil {
		return rules.Offer{}, req.Donor, "", err
	}
	o, err := rules.Quote(s.d.City, sale)
	o.Donor = checkout.MaskedName(sale.Name)
	return o, req.Donor, fmt.Sprintf("%s ¥%d item %q gift %t", dev.Facility.ID, o.Amount, o.Item, o.Gift), err
}

// pay serves CounterPayPath: the rules applied again (the stock may
// have moved since the quote), the payment taken (card: at the gateway,
// posted to the shop's Donations account; cash: posted from the cash
// clearing account by the staff member named), once per request id,
// and the OpDonation body the counter records.
func (s *Service) pay(ctx context.Context, c Counter, dev scope.Device, req rules.CounterSale) (rules.CounterPaid, string, string, error) {
	sale, err := s.sale(dev, req)
	if err != nil {
		return rules.CounterPaid{}, req.Donor, "", err
	}
	p := payer{c: c, dev: dev, req: req, now: s.d.Now}
	d, err := rules.Donate(ctx, p, s.d.City, sale, s.d.Now())
	if err != nil {
		return rules.CounterPaid{}, req.Donor, "", err
	}
	paid := rules.CounterPaid{Donation: d, OwnResident: sale.Item.ID != "" && !d.Gift}
	return paid, req.Donor, fmt.Sprintf("%s ¥%d item %q gift %t by %s", d.Shop, d.Amount, d.Item, d.Gift, d.Payment), nil
}

// payer takes one sale's payment (rules.Payer).
type payer struct {
	c   Counter
	dev scope.Device
	req rules.CounterSale
	now func() time.Time
}

// Pay charges the card, or posts the cash, once per the counter's
// request id: a retried request answers the same reference and posts
// nothing more.
func (p payer) Pay(ctx context.Context, amount int64) (string, error) {
	shop := p.dev.Facility.ID
	request := p.dev.ID + "." + p.req.Request
	if p.req.Method == rules.PayCard {
		if p.c.Card == nil {
			return "", errNoCard
		}
		r, err := p.c.Card.Donate(ctx, shop, p.req.Donor, amount, p.req.PaymentMethod, request)
		if err != nil {
			return "", err
		}
		if !r.Posted {
			return "", fmt.Errorf("%w: %s", cardpay.ErrNotSucceeded, r.Intent)
		}
		return "card:" + r.Intent, nil
	}
	cause := "cash:" + shop + ":" + request
	_, _, err := p.c.Ledger.Post(ledger.Transfer{Cause: cause, Kind: ledger.KindDonation, From: ledger.Clearing(ledger.Cash),
		To: ledger.Donations(shop), Amount: amount, Actor: p.dev.ID + " " + strings.TrimSpace(p.req.Staff)}, p.now())
	if err != nil {
		return "", fmt.Errorf("furusato: post the cash: %w", err)
	}
	return cause, nil
}

// counterReceipt serves CounterReceiptPath: the receipt of one donation
// taken at the device's shop, to print for the donor there.
func (s *Service) counterReceipt(_ context.Context, _ Counter, dev scope.Device, req rules.CounterReceipt) (rules.Receipts, string, string, error) {
	b, err := s.book()
	if err != nil {
		return rules.Receipts{}, "", "", err
	}
	d, ok := b.Donations[req.Donation]
	if !ok || d.Shop != dev.Facility.ID {
		return rules.Receipts{}, "", "", errNoDonation
	}
	donor, err := s.d.Registry.Person(d.Donor)
	if err != nil {
		return rules.Receipts{}, d.Donor, "", fmt.Errorf("%w: %w", errNoDonor, err)
	}
	gift := ""
	if d.Gift {
		gift = b.Items[rules.ItemKey(d.Shop, d.Item)].NameJA
	}
	var pdf bytes.Buffer
	if err := s.d.Receipts.Write(&pdf, receipt.Issuer{CityJA: s.d.City.Municipality, MayorJA: s.d.Mayor},
		[]receipt.Donation{{Number: req.Donation, Date: d.At, DonorName: donor.Facts.Name, DonorAddress: donor.Facts.Address, Amount: d.Amount, Gift: gift}}); err != nil {
		return rules.Receipts{}, d.Donor, "", err
	}
	return rules.Receipts{PDF: pdf.Bytes()}, d.Donor, req.Donation, nil
}
