package furusato

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/syncproto"
)

// Step is where a donation at the counter is.
type Step int

// The steps of a donation at the counter.
const (
	// Pick: staff pick the gift (or a donation without one).
	Pick Step = iota
	// Identify: the donor looks at the camera or shows their QR pass.
	Identify
	// Offer: the server's offer is shown (with or without the gift);
	// staff take the card or the cash.
	Quoted
	// Paying: the payment is with the server.
	Paying
	// Paid: the donation is paid and recorded; the gift, if any, is
	// handed over; the receipt can be printed.
	Paid
)

// Turn is one donor's donation at the counter: the screen draws it and
// sends what it asks; every decision of the flow is here.
type Turn struct {
	Step   Step
	Item   Item  // the gift picked; ID "" for none
	Amount int64 // without a gift: the amount picked
	Donor  string
	Offer  *Offer
	// Request is the sale's id at this counter: the same for a retry
	// after a lost answer, new after a refusal (another card).
	Request string
	Paid    *CounterPaid
	// Recorded is the donation op's record id, once recorded.
	Recorded string
	Handed   bool
	// Err is the last refusal, shown in words (Words) until the next
	// step.
	Err error
}

// Amounts are the donations without a gift the counter offers as large
// buttons.
var Amounts = []int64{5000, 10000, 30000}

// Choose picks it as the gift: one out of stock is refused in words.
func (t *Turn) Choose(it Item) {
	if t.Step != Pick {
		return
	}
	if it.Stock <= 0 {
		t.Err = fmt.Errorf("%w: %s", ErrOutOfStock, it.ID)
		return
	}
	t.Item, t.Amount, t.Err, t.Step = it, 0, nil, Identify
}

// Without picks a donation of amount yen without a gift.
func (t *Turn) Without(amount int64) {
	if t.Step != Pick || amount <= 0 {
		return
	}
	t.Item, t.Amount, t.Err, t.Step = Item{}, amount, nil, Identify
}

// Identified gives the turn the donor the camera or the pass found; it
// reports whether the turn took them (false: not waiting for a donor).
func (t *Turn) Identified(donor string) bool {
	if t.Step != Identify || donor == "" {
		return false
	}
	t.Donor = donor
	return true
}

// Quoting is the request for the server's offer for the donor.
func (t *Turn) Quoting() CounterSale {
	return CounterSale{Donor: t.Donor, Item: t.Item.ID, Amount: t.Amount, Method: PayCash, Staff: "-", Request: "quote"}
}

// Offered takes the server's offer (or its refusal: back to the pick).
func (t *Turn) Offered(o Offer, err error) {
	if t.Step != Identify {
		return
	}
	if err != nil {
		t.Err, t.Donor, t.Step = err, "", Pick
		return
	}
	t.Offer, t.Err, t.Step = &o, nil, Quoted
}

// Pay is the sale to send for method (PayCard with the card's
// PaymentMethod id, PayCash with the staff member's name), checked
// before it is sent; the turn waits for the answer.
func (t *Turn) Pay(method, paymentMethod, staff string, now time.Time) (CounterSale, error) {
	if t.Step != Quoted {
		return CounterSale{}, fmt.Errorf("%w: nothing to pay", ErrInvalid)
	}
	if t.Request == "" {
		t.Request = strconv.FormatInt(now.UnixNano(), 36)
	}
	s := CounterSale{Donor: t.Donor, Item: t.Item.ID, Amount: t.Amount, Method: method, Request: t.Request}
	switch method {
	case PayCard:
		s.PaymentMethod = strings.TrimSpace(paymentMethod)
	case PayCash:
		s.Staff = strings.TrimSpace(staff)
	}
	if err := s.Validate(); err != nil {
		t.Err = err
		return CounterSale{}, err
	}
	t.Err, t.Step = nil, Paying
	return s, nil
}

// ErrUnanswered is a payment whose answer was lost: sent again, it pays
// once (the same request id).
var ErrUnanswered = errors.New("furusato: the payment was not answered")

// Answered takes the server's answer to Pay. A refusal of the server's
// (a declined card: a *syncproto.Error) goes back to the offer with a
// new request id, so another card is a new payment; no answer at all
// keeps the id, so pressing again cannot pay twice.
func (t *Turn) Answered(p CounterPaid, err error) {
	if t.Step != Paying {
		return
	}
	var refused *syncproto.Error
	switch {
	case err != nil && !errors.As(err, &refused):
		// No answer from the server (the network, a time-out): the
		// payment may have been taken, so the retry keeps the id.
		t.Err, t.Step = fmt.Errorf("%w: %w", ErrUnanswered, err), Quoted
	case err != nil:
		t.Err, t.Request, t.Step = err, "", Quoted
	default:
		t.Paid, t.Err, t.Step = &p, nil, Paid
	}
}

// Record is the donation op's body to record, once paid; Recorded names
// it after.
func (t *Turn) Record() (Donation, bool) {
	if t.Step != Paid || t.Paid == nil || t.Recorded != "" {
		return Donation{}, false
	}
	return t.Paid.Donation, true
}

// Kept names the donation op the counter recorded for Record: its
// record id is what the handover and the receipt name.
func (t *Turn) Kept(op syncproto.Op) { t.Recorded = opkind.RecordID(op) }

// Handover is the gift's handover to record, once the donation is
// recorded with a gift not handed yet.
func (t *Turn) Handover() (Handover, bool) {
	if t.Step != Paid || t.Recorded == "" || t.Handed || !t.Paid.Donation.Gift {
		return Handover{}, false
	}
	d := t.Paid.Donation
	return Handover{Shop: d.Shop, Donation: t.Recorded, Donor: d.Donor, Item: d.Item}, true
}

// Cancel gives up the turn before it is paid.
func (t *Turn) Cancel() {
	if t.Step != Paying && t.Step != Paid {
		*t = Turn{}
	}
}

// Refused says whether the donor was refused the gift as a resident.
func (t *Turn) Refused() bool {
	return (t.Offer != nil && t.Offer.OwnResident) || (t.Paid != nil && t.Paid.OwnResident)
}

// OwnResidentWords are what the counter says to a resident of the city
// who picked a gift.
const (
	OwnResidentJA = "市内にお住まいの方には、法律により返礼品をお渡しできません。寄附はお受けできます（受領証明書をお渡しします）。"
	OwnResidentEN = "By law the city cannot give a gift to its own residents. Your donation is welcome, and you get the receipt."
)

// Words puts the turn's refusal in words (Japanese, English): the
// server's own for its refusals (a syncproto.Error reads "ja / en"),
// the counter's for its checks.
func Words(err error) (ja, en string) {
	switch {
	case err == nil:
		return "", ""
	case errors.Is(err, ErrOutOfStock):
		return "この返礼品は在庫がありません。ほかの品を選んでください。", "This gift is out of stock: pick another."
	case errors.Is(err, ErrUnanswered):
		return "支払いの結果が届きませんでした。もう一度押してください（二重には払われません）。", "The payment's answer did not arrive: press again (you will not pay twice)."
	case errors.Is(err, ErrInvalid):
		return "カードか、現金を受け取った職員の名前を確かめてください。", "Check the card, or the name of the staff member who took the cash."
	}
	var refused *syncproto.Error
	if errors.As(err, &refused) {
		if ja, en, ok := strings.Cut(refused.Message, " / "); ok {
			return ja, en
		}
		return refused.Message, refused.Message
	}
	return "うまくいきませんでした。もう一度お試しください。", "That did not work: " + err.Error()
}
