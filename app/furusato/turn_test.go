package furusato

import (
	"errors"
	"strings"
	"testing"
	"time"

	"smartpass.city/smartpass/syncproto"
)

// TestTurn walks a visitor's donation with a gift through the counter:
// pick, donor, offer, a declined card (a new request id after it), a
// lost answer (the same id again), paid, recorded, handed over once.
func TestTurn(t *testing.T) {
	now := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	var tu Turn
	empty := crab
	empty.Stock = 0
	tu.Choose(empty)
	if tu.Step != Pick || !errors.Is(tu.Err, ErrOutOfStock) {
		t.Fatalf("out of stock picked: %+v", tu)
	}
	if ja, _ := Words(tu.Err); !strings.Contains(ja, "在庫") {
		t.Fatalf("out of stock in words: %q", ja)
	}
	tu.Choose(crab)
	if tu.Step != Identify || tu.Err != nil || tu.Identified("") {
		t.Fatalf("after the pick: %+v", tu)
	}
	if tu.Pay(PayCard, "pm_card_visa", "", now); tu.Step != Identify {
		t.Fatal("paid before the offer")
	}
	if !tu.Identified("R-000001") || tu.Quoting().Item != "crab" {
		t.Fatalf("donor: %+v", tu)
	}
	tu.Offered(Offer{Amount: 10000, Item: "crab", Gift: true}, nil)
	if tu.Step != Quoted {
		t.Fatalf("offer: %+v", tu)
	}
	if _, err := tu.Pay(PayCash, "", " ", now); err == nil || tu.Step != Quoted {
		t.Fatalf("cash without staff: %v, %+v", err, tu)
	}
	s1, err := tu.Pay(PayCard, "pm_card_chargeDeclined", "", now)
	if err != nil || tu.Step != Paying || s1.Request == "" {
		t.Fatalf("pay: %+v, %v", s1, err)
	}
	declined := &syncproto.Error{Code: "card-declined", Message: "カードが使えませんでした。 / The card was declined."}
	tu.Answered(CounterPaid{}, declined)
	if ja, en := Words(tu.Err); tu.Step != Quoted || tu.Request != "" || ja != "カードが使えませんでした。" || en != "The card was declined." {
		t.Fatalf("declined: %+v %q %q", tu, ja, en)
	}
	s2, _ := tu.Pay(PayCard, "pm_card_visa", "", now.Add(time.Second))
	if s2.Request == s1.Request {
		t.Fatal("another card after a decline reused the request id")
	}
	tu.Answered(CounterPaid{}, errors.New("fetch: network down"))
	if !errors.Is(tu.Err, ErrUnanswered) || tu.Request != s2.Request {
		t.Fatalf("lost answer: %+v", tu)
	}
	s3, _ := tu.Pay(PayCard, "pm_card_visa", "", now.Add(2*time.Second))
	if s3.Request != s2.Request {
		t.Fatal("a retry after a lost answer made a new request id: it could pay twice")
	}
	if _, ok := tu.Handover(); ok {
		t.Fatal("a handover before payment")
	}
	d := Donation{Shop: "michinoeki", Donor: "R-000001", Amount: 10000, Item: "crab", Gift: true, Payment: "card:pi_1", At: now}
	tu.Answered(CounterPaid{Donation: d}, nil)
	if got, ok := tu.Record(); !ok || got != d {
		t.Fatalf("record: %+v %v", got, ok)
	}
	if _, ok := tu.Handover(); ok {
		t.Fatal("a handover before the donation is recorded")
	}
	tu.Kept(syncproto.Op{Device: "counter-1", Seq: 7})
	if _, ok := tu.Record(); ok {
		t.Fatal("recorded twice")
	}
	h, ok := tu.Handover()
	if !ok || h != (Handover{Shop: "michinoeki", Donation: "counter-1.7", Donor: "R-000001", Item: "crab"}) {
		t.Fatalf("handover %+v %v", h, ok)
	}
	tu.Handed = true
	if _, ok := tu.Handover(); ok {
		t.Fatal("handed over twice")
	}
	tu.Cancel()
	if tu.Step != Paid {
		t.Fatal("a paid donation cancelled")
	}
}

// TestTurnResident: a resident who picked a gift is offered the
// donation without it, said in words; there is nothing to hand over.
func TestTurnResident(t *testing.T) {
	var tu Turn
	tu.Choose(crab)
	tu.Identified("R-000002")
	tu.Offered(Offer{Amount: 10000, OwnResident: true}, nil)
	if !tu.Refused() {
		t.Fatal("a resident's offer not refused the gift")
	}
	tu.Pay(PayCash, "", "加賀 一郎", time.Now())
	tu.Answered(CounterPaid{Donation: Donation{Shop: "s", Donor: "R-000002", Amount: 10000, Payment: "cash:s:1", At: time.Now()}, OwnResident: true}, nil)
	tu.Recorded = "counter-1.8"
	if _, ok := tu.Handover(); ok || !tu.Refused() {
		t.Fatalf("a resident's gift handed over: %+v", tu)
	}
	var other Turn
	other.Without(5000)
	other.Identified("R-000003")
	other.Offered(Offer{}, &syncproto.Error{Code: CodeAddress, Message: "住所が読めません / No address"})
	if other.Step != Pick || other.Donor != "" {
		t.Fatalf("a refused offer: %+v", other)
	}
	other.Cancel()
	if other.Step != Pick || other.Err != nil {
		t.Fatalf("cancelled: %+v", other)
	}
}
