package ledger

import (
	"errors"
	"testing"

	"smartpass.city/smartpass/app/furusato"
)

// TestCheckDonation: a counter's donation op is stored only when the
// ledger posted its payment into that shop's Donations account for its
// amount; an unknown payment, another amount, another shop and a
// wallet's top-up named as the payment are refused in words.
func TestCheckDonation(t *testing.T) {
	l := open(t)
	led := New(l, Config{})
	led.Audit = func(actor, action, subject, detail string) error { return nil }
	for _, tr := range []Transfer{
		{Cause: "cash:michinoeki:counter-1.q1", Kind: KindDonation, From: Clearing(Cash), To: Donations("michinoeki"), Amount: 10000, Actor: "counter-1 加賀"},
		{Cause: "card:pi_topup", Kind: KindTopUp, From: Clearing(Card), To: Wallet("r1"), Amount: 10000, Actor: "stripe"},
	} {
		if _, _, err := led.Post(tr, noon); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name    string
		shop    string
		amount  int64
		payment string
		want    error
	}{
		{"paid", "michinoeki", 10000, "cash:michinoeki:counter-1.q1", nil},
		{"never paid", "michinoeki", 10000, "cash:michinoeki:counter-1.q9", ErrUnpaidDonation},
		{"another amount", "michinoeki", 30000, "cash:michinoeki:counter-1.q1", ErrUnpaidDonation},
		{"another shop", "yamanaka", 10000, "cash:michinoeki:counter-1.q1", ErrUnpaidDonation},
		{"a wallet's top-up", "michinoeki", 10000, "card:pi_topup", ErrUnpaidDonation},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := furusato.Donation{Shop: tc.shop, Donor: "R-1", Amount: tc.amount, Payment: tc.payment, At: noon}
			if err := led.Check("counter-1", op("counter-1", 1, furusato.OpDonation, d, noon)); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	verify(t, l)
}
