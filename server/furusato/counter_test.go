package furusato

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"net/http"
	"testing"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/admin"
	"smartpass.city/smartpass/app/facility"
	rules "smartpass.city/smartpass/app/furusato"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/server/cardpay"
	"smartpass.city/smartpass/server/cardpay/stripemock"
	"smartpass.city/smartpass/server/ledger"
)

// TestCounter: the donation counter's endpoints against the real
// gateway client and stripe-mock (its intents succeed for ¥10,000, and
// Stripe's declined test card is declined as Stripe does): the offer
// before payment, a visitor's card donation with the gift, a resident's
// cash donation without one (said as such), retries that pay once, a
// declined card, a gift out of stock and an address that cannot be
// read refused before anything is paid, another shop's device and a
// till refused; the ledger's Donations account holds exactly what was
// paid, and Verify is clean.
func TestCounter(t *testing.T) {
	e := newEnv(t)
	led := ledger.New(e.log, ledger.Config{})
	var posted []string
	led.Audit = func(actor, action, subject, detail string) error {
		posted = append(posted, actor+" "+action+" "+subject)
		return nil
	}
	mock := stripemock.Declining(t, stripemock.Start(t, stripemock.SucceededFor(10000)))
	devices := map[string]scope.Device{}
	keys := map[string]ed25519.PublicKey{}
	tablet := func(id string, r scope.Role, f facility.Facility) donor {
		pub, key, _ := ed25519.GenerateKey(nil)
		devices[id], keys[id] = scope.Device{ID: id, Facility: f, Role: r}, pub
		return donor{acc: account.Account{ID: id}, key: key}
	}
	shop := facility.Facility{ID: "michinoeki-kaga", Kind: facility.Donation}
	counter := tablet("counter-1", scope.Counter, shop)
	other := tablet("counter-9", scope.Counter, facility.Facility{ID: "michinoeki-yamanaka", Kind: facility.Donation})
	till := tablet("till-1", scope.Shop, facility.Facility{ID: "kaga-shop", Kind: facility.Shop})
	e.svc.UseCounter(Counter{
		Lookup: func(id string) (ed25519.PublicKey, scope.Device, error) {
			if d, ok := devices[id]; ok {
				return keys[id], d, nil
			}
			return nil, scope.Device{}, fmt.Errorf("no device %s", id)
		},
		Ledger: led,
		Card:   cardpay.New(stripemock.Key, mock, e.log, led),
	})
	crab := rules.Item{ID: "crab", NameJA: "加能ガニ", Donation: 10000, Cost: 3000, Local: true, Stock: 1}
	if status, out := e.post(rules.ItemPath, ItemRequest{Request: admin.Request{Token: e.token}, Shop: shop.ID, Item: crab}); status != http.StatusOK {
		t.Fatalf("listing: %d %s", status, out)
	}
	hanako, taro, nobody := e.open(visitor), e.open(resident), e.open(odd)
	donations := func() int64 {
		t.Helper()
		b, err := led.Balance(ledger.Donations(shop.ID))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ledger.Verify(e.log); err != nil {
			t.Fatal(err)
		}
		return b.Balance
	}
	card := func(d donor, request, pm string) rules.CounterSale {
		return rules.CounterSale{Donor: d.acc.ID, Item: "crab", Method: rules.PayCard, PaymentMethod: pm, Request: request}
	}

	// Before payment: the visitor may take the crab, the resident may
	// not (and is told so), the unreadable address is refused.
	if o, ref := signed(e, counter, rules.CounterAPI.Quote, card(hanako, "q1", "pm_card_visa")); ref.Code != "" || !o.Gift || o.Amount != 10000 || o.Donor != "世＊＊ 花＊ 様" {
		t.Fatalf("visitor's offer: %+v, %+v", o, ref)
	}
	if o, ref := signed(e, counter, rules.CounterAPI.Quote, card(taro, "q2", "pm_card_visa")); ref.Code != "" || o.Gift || !o.OwnResident || o.Amount != 10000 {
		t.Fatalf("resident's offer: %+v, %+v", o, ref)
	}

	// The visitor pays by card; the counter's retry after a lost answer
	// pays nothing more.
	paid, ref := signed(e, counter, rules.CounterAPI.Pay, card(hanako, "s1", "pm_card_visa"))
	if ref.Code != "" || !paid.Donation.Gift || paid.Donation.Amount != 10000 || paid.Donation.Shop != shop.ID || paid.OwnResident {
		t.Fatalf("visitor's donation: %+v, %+v", paid, ref)
	}
	again, ref := signed(e, counter, rules.CounterAPI.Pay, card(hanako, "s1", "pm_card_visa"))
	if ref.Code != "" || again.Donation.Payment != paid.Donation.Payment {
		t.Fatalf("retried: %+v, %+v (first %s)", again, ref, paid.Donation.Payment)
	}
	if got := donations(); got != 10000 {
		t.Fatalf("donations ¥%d after one ¥10,000 donation sent twice", got)
	}
	e.record(1, rules.OpDonation, paid.Donation)
	e.record(2, rules.OpGift, rules.Handover{Shop: shop.ID, Donation: "counter-1.1", Donor: hanako.acc.ID, Item: "crab"})

	// The resident pays cash, gets no gift; sent twice, posted once.
	cash := rules.CounterSale{Donor: taro.acc.ID, Item: "crab", Method: rules.PayCash, Staff: "加賀 一郎", Request: "s2"}
	for range 2 {
		paid, ref = signed(e, counter, rules.CounterAPI.Pay, cash)
		if ref.Code != "" || paid.Donation.Gift || paid.Donation.Item != "" || !paid.OwnResident || paid.Donation.Amount != 10000 {
			t.Fatalf("resident's cash donation: %+v, %+v", paid, ref)
		}
	}
	if got := donations(); got != 20000 {
		t.Fatalf("donations ¥%d after the resident's ¥10,000 in cash sent twice", got)
	}
	e.record(3, rules.OpDonation, paid.Donation)

	// Refused, and nothing paid.
	for _, tt := range []struct {
		name string
		by   donor
		sale rules.CounterSale
		code string
	}{
		{"declined card", counter, rules.CounterSale{Donor: taro.acc.ID, Amount: 5000, Method: rules.PayCard, PaymentMethod: stripemock.DeclinedCard, Request: "s3"}, cardpay.ErrDeclined.Code},
		{"gift out of stock", counter, card(hanako, "s4", "pm_card_visa"), rules.CodeOutOfStock},
		{"address not read", counter, card(nobody, "s5", "pm_card_visa"), rules.CodeAddress},
		{"cash without staff", counter, rules.CounterSale{Donor: taro.acc.ID, Amount: 5000, Method: rules.PayCash, Request: "s6"}, rules.CodeCounter},
		{"no such donor", counter, rules.CounterSale{Donor: "R-999999", Amount: 5000, Method: rules.PayCash, Staff: "加賀", Request: "s7"}, rules.CodeNoDonor},
		{"another shop's item", other, card(hanako, "s8", "pm_card_visa"), rules.CodeItem},
		{"a shop's till", till, card(hanako, "s9", "pm_card_visa"), rules.CodeCounter},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, ref := signed(e, tt.by, rules.CounterAPI.Pay, tt.sale); ref.Code != tt.code {
				t.Fatalf("refused %+v, want %s", ref, tt.code)
			}
			if got := donations(); got != 20000 {
				t.Fatalf("donations ¥%d after a refusal", got)
			}
		})
	}
	if _, ref := signed(e, counter, rules.CounterAPI.Pay, rules.CounterSale{Donor: taro.acc.ID, Amount: 5000, Method: rules.PayCard, PaymentMethod: stripemock.DeclinedCard, Request: "s3"}); ref.Message == "" {
		t.Fatal("a decline without words")
	}

	// The receipt of the visitor's donation, to print at the counter; not
	// at another shop's counter.
	r, ref := signed(e, counter, rules.CounterAPI.Receipt, rules.CounterReceipt{Donation: "counter-1.1"})
	if ref.Code != "" || !bytes.HasPrefix(r.PDF, []byte("%PDF")) {
		t.Fatalf("receipt: %d bytes, %+v", len(r.PDF), ref)
	}
	if _, ref := signed(e, other, rules.CounterAPI.Receipt, rules.CounterReceipt{Donation: "counter-1.1"}); ref.Code != rules.CodeNoDonation {
		t.Fatalf("another shop's receipt: %+v", ref)
	}
	if len(posted) != 2 {
		t.Fatalf("ledger postings audited %v, want the card and the cash", posted)
	}
}
