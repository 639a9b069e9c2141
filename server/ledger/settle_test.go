package ledger

import (
	"testing"
	"time"

	"smartpass.city/smartpass/app/settlement"
	"smartpass.city/smartpass/app/wallet"
)

// TestMerchantLines: what two shops took and gave back reaches the
// settlement as one line per cause, a top-up and a refused payment
// none; the shops settle to what their accounts hold.
func TestMerchantLines(t *testing.T) {
	l := open(t)
	led := New(l, Config{})
	push(t, l, led, desk, op(desk.ID, 1, wallet.OpTopUpCash, wallet.TopUpCash{Resident: "r1", Amount: 5000, Staff: "山田"}, noon))
	push(t, l, led, shop,
		op(shop.ID, 1, wallet.OpPayment, wallet.Payment{Facility: "shop-a", Resident: "r1", Amount: 800}, noon),
		op(shop.ID, 2, wallet.OpRefund, wallet.Refund{Facility: "shop-a", Payment: "till-1.1", Amount: 300, Staff: "佐藤"}, noon.Add(time.Minute)),
		op(shop.ID, 3, wallet.OpPayment, wallet.Payment{Facility: "shop-a", Resident: "r1", Amount: 9000}, noon), // short: refused
	)
	push(t, l, led, shopB, op(shopB.ID, 1, wallet.OpPayment, wallet.Payment{Facility: "shop-b", Resident: "r1", Amount: 1200, Offline: true}, noon))
	// A resend posts nothing more.
	push(t, l, led, shop, op(shop.ID, 1, wallet.OpPayment, wallet.Payment{Facility: "shop-a", Resident: "r1", Amount: 800}, noon))

	lines, err := MerchantLines(l)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]settlement.Line{
		"till-1.1": {Merchant: "shop-a", Kind: settlement.Payment, Amount: 800, Terminal: "till-1"},
		"till-1.2": {Merchant: "shop-a", Kind: settlement.Refund, Amount: 300, Terminal: "till-1", Original: "till-1.1"},
		"till-b.1": {Merchant: "shop-b", Kind: settlement.Payment, Amount: 1200, Terminal: "till-b"},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines %+v, want %d", len(lines), lines, len(want))
	}
	for _, got := range lines {
		w, ok := want[got.Op]
		w.Op, w.At = got.Op, got.At
		if !ok || got != w {
			t.Errorf("line %+v, want %+v", got, w)
		}
	}
	ss, err := settlement.Settle(lines, noon.Add(-time.Hour), noon.Add(time.Hour), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ss {
		if b := balance(t, led, Merchant(s.Merchant)); b.Balance != s.Net() {
			t.Errorf("%s settles ¥%d, its account holds ¥%d", s.Merchant, s.Net(), b.Balance)
		}
	}
}
