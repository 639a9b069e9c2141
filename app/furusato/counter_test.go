package furusato

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"smartpass.city/smartpass/app/jpaddress"
	"smartpass.city/smartpass/app/opkind"
)

// TestQuote: the offer the counter shows before payment: a visitor's
// gift, a resident's donation without one (said as such), a donation
// without a gift at the amount typed, and the refusals before anything
// is paid.
func TestQuote(t *testing.T) {
	kaga := jpaddress.Place{Prefecture: "石川県", Municipality: "加賀市"}
	empty := crab
	empty.Stock = 0
	for _, tt := range []struct {
		name    string
		address string
		item    Item
		amount  int64
		want    Offer
		err     error
	}{
		{"visitor with a gift", "東京都世田谷区世田谷4-21-27", crab, 0, Offer{Amount: 10000, Item: "crab", Gift: true}, nil},
		{"resident: no gift", "石川県加賀市大聖寺南町ニ41", crab, 0, Offer{Amount: 10000, OwnResident: true}, nil},
		{"resident: no gift even out of stock", "石川県加賀市大聖寺南町ニ41", empty, 0, Offer{Amount: 10000, OwnResident: true}, nil},
		{"no gift, amount typed", "東京都世田谷区世田谷4-21-27", Item{}, 5000, Offer{Amount: 5000}, nil},
		{"no gift, no amount", "東京都世田谷区世田谷4-21-27", Item{}, 0, Offer{}, ErrInvalid},
		{"out of stock", "東京都世田谷区世田谷4-21-27", empty, 0, Offer{}, ErrOutOfStock},
		{"address not parsed", "世田谷4-21-27", crab, 0, Offer{}, jpaddress.ErrUnparsed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Quote(kaga, Sale{Shop: "michinoeki", Donor: "R-1", Address: tt.address, Item: tt.item, Amount: tt.amount})
			if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

// TestDonatePaysWhatWasQuoted: a failed payment records nothing; the
// amount paid is the item's donation, not anything typed beside it.
func TestDonatePaysWhatWasQuoted(t *testing.T) {
	kaga := jpaddress.Place{Prefecture: "石川県", Municipality: "加賀市"}
	declined := errors.New("declined")
	p := &payer{err: declined}
	if _, err := Donate(context.Background(), p, kaga, Sale{Shop: "s", Donor: "R-1", Address: "東京都世田谷区世田谷4-21-27", Item: crab, Amount: 1}, time.Now()); !errors.Is(err, declined) {
		t.Fatalf("a declined payment: %v", err)
	}
	if len(p.asked) != 1 || p.asked[0] != 10000 {
		t.Fatalf("asked %v, want the item's ¥10,000 once", p.asked)
	}
}

// TestCatalogue: one shop's items only, cheapest first, in a stable
// order.
func TestCatalogue(t *testing.T) {
	var p opkind.Parts
	rice := Item{ID: "rice", NameJA: "加賀米", Donation: 5000, Cost: 1500, Local: true, Stock: 3}
	sake := Item{ID: "sake", NameJA: "地酒", Donation: 10000, Cost: 2900, Local: true, Stock: 2}
	for i, l := range []Listing{{Shop: "michinoeki", Item: crab}, {Shop: "michinoeki", Item: rice}, {Shop: "other", Item: sake}, {Shop: "michinoeki", Item: sake}} {
		opkind.Fold(&p, op(t, OpItem, uint64(i+1), l))
	}
	got := Catalogue(*Counter.In(&p), "michinoeki")
	var ids []string
	for _, it := range got {
		ids = append(ids, it.ID)
	}
	if want := []string{"rice", "crab", "sake"}; len(ids) != 3 || ids[0] != want[0] || ids[1] != want[1] || ids[2] != want[2] {
		t.Fatalf("catalogue %v, want %v", ids, want)
	}
	if len(Catalogue(*Counter.In(&p), "nowhere")) != 0 {
		t.Fatal("a shop with no items lists some")
	}
}

func TestCounterSaleValidate(t *testing.T) {
	ok := CounterSale{Donor: "R-1", Item: "crab", Method: PayCard, PaymentMethod: "pm_card_visa", Request: "q1"}
	for _, tt := range []struct {
		name string
		edit func(*CounterSale)
		bad  bool
	}{
		{"card", func(*CounterSale) {}, false},
		{"cash with staff", func(s *CounterSale) { s.Method, s.PaymentMethod, s.Staff = PayCash, "", "山田" }, false},
		{"cash without staff", func(s *CounterSale) { s.Method, s.PaymentMethod = PayCash, "" }, true},
		{"card number instead of pm", func(s *CounterSale) { s.PaymentMethod = "4242424242424242" }, true},
		{"no donor", func(s *CounterSale) { s.Donor = "" }, true},
		{"no request id", func(s *CounterSale) { s.Request = "" }, true},
		{"neither item nor amount", func(s *CounterSale) { s.Item = "" }, true},
		{"amount without item", func(s *CounterSale) { s.Item, s.Amount = "", 3000 }, false},
		{"unknown method", func(s *CounterSale) { s.Method = "wallet" }, true},
	} {
		s := ok
		tt.edit(&s)
		if err := s.Validate(); (err != nil) != tt.bad || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

// FuzzCounterSale: a counter's request as the server reads it, from any
// bytes: never a panic, and a sale Validate lets through names a donor,
// a request id, something to pay for and a way to pay it.
func FuzzCounterSale(f *testing.F) {
	f.Add([]byte(`{"donor":"R-1","item":"crab","method":"card","payment_method":"pm_card_visa","request":"q1"}`))
	f.Add([]byte(`{"donor":"R-1","amount":5000,"method":"cash","staff":"加賀","request":"q2"}`))
	f.Add([]byte(`{"donor":"","amount":-1,"method":"wallet"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s CounterSale
		if json.Unmarshal(b, &s) != nil || s.Validate() != nil {
			return
		}
		switch {
		case s.Donor == "" || s.Request == "":
			t.Fatalf("valid without a donor or request: %+v", s)
		case s.Item == "" && s.Amount <= 0:
			t.Fatalf("valid with nothing to pay for: %+v", s)
		case s.Method == PayCard && !strings.HasPrefix(s.PaymentMethod, "pm_"):
			t.Fatalf("a card payment without a card: %+v", s)
		case s.Method == PayCash && strings.TrimSpace(s.Staff) == "":
			t.Fatalf("cash without staff: %+v", s)
		case s.Method != PayCard && s.Method != PayCash:
			t.Fatalf("an unknown method: %+v", s)
		}
	})
}
