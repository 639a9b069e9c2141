package cardpay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"smartpass.city/smartpass/server/cardpay/stripemock"
	"smartpass.city/smartpass/server/ledger"
	"smartpass.city/smartpass/server/oplog"
)

type books struct {
	led     *ledger.Ledger
	log     *oplog.Log
	audited []string
}

func newBooks(t *testing.T) *books {
	l, err := oplog.Open(t.TempDir(), oplog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	b := &books{led: ledger.New(l, ledger.Config{}), log: l}
	b.led.Audit = func(actor, action, subject, detail string) error {
		b.audited = append(b.audited, actor+" "+action+" "+subject)
		return nil
	}
	return b
}

func (b *books) wallet(t *testing.T, r string) int64 {
	t.Helper()
	bal, err := b.led.Balance(ledger.Wallet(r))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.Verify(b.log); err != nil {
		t.Fatal(err)
	}
	return bal.Balance
}

// TestTopUpAgainstStripeMock: a card top-up through stripe-go and
// stripe-mock posts once, however many confirmations arrive; what the
// gateway refuses, or confirms for another amount, posts nothing.
func TestTopUpAgainstStripeMock(t *testing.T) {
	ctx := context.Background()
	ok := stripemock.Start(t, stripemock.Succeeded)
	plain := stripemock.Start(t, "")
	b := newBooks(t)
	g := New("sk_test_123", ok, b.log, b.led)

	r, err := g.TopUp(ctx, "r1", 3000, "pm_card_visa", "req-1")
	if err != nil || !r.Posted || r.Entry.Seq != 1 {
		t.Fatalf("top-up: %+v, %v", r, err)
	}
	for range 3 { // the webhook, delivered again and again
		again, err := g.Confirm(ctx, r.Intent)
		if err != nil || !again.Posted || again.Entry.Seq != r.Entry.Seq {
			t.Fatalf("second confirmation: %+v, %v", again, err)
		}
	}
	if got := b.wallet(t, "r1"); got != 3000 {
		t.Fatalf("wallet after one top-up confirmed four times: ¥%d", got)
	}
	if len(b.audited) != 1 || b.audited[0] != Actor+" ledger.topup wallet:r1" {
		t.Fatalf("audited %v", b.audited)
	}

	for _, tc := range []struct {
		name string
		g    *Gateway
		do   func(g *Gateway) error
		want error
	}{
		{"another amount confirmed", g, func(g *Gateway) error {
			_, err := g.TopUp(ctx, "r2", 5000, "pm_card_visa", "req-2")
			return err
		}, ErrMismatch},
		{"not succeeded", New("sk_test_123", plain, b.log, b.led), func(g *Gateway) error {
			r, err := g.TopUp(ctx, "r2", 3000, "pm_card_chargeDeclined", "req-3")
			if err != nil || r.Posted {
				return fmt.Errorf("the create answered %+v, %v", r, err)
			}
			_, err = g.Confirm(ctx, r.Intent)
			return err
		}, ErrNotSucceeded},
		{"forged webhook", g, func(g *Gateway) error {
			_, err := g.Confirm(ctx, "pi_forged")
			return err
		}, ErrUnknownIntent},
		{"gateway refuses the request (bad key)", New("bad_key", ok, b.log, b.led), func(g *Gateway) error {
			_, err := g.TopUp(ctx, "r2", 3000, "pm_card_visa", "req-4")
			return err
		}, ErrGateway},
		{"a card number instead of a PaymentMethod", g, func(g *Gateway) error {
			_, err := g.TopUp(ctx, "r2", 3000, "4242424242424242", "req-5")
			return err
		}, ErrInvalid},
		{"no amount", g, func(g *Gateway) error {
			_, err := g.TopUp(ctx, "r2", 0, "pm_card_visa", "req-6")
			return err
		}, ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.do(tc.g); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if got := b.wallet(t, "r2"); got != 0 {
				t.Fatalf("posted ¥%d", got)
			}
		})
	}
}

// TestDecline: stripe-mock cannot decline a card (it validates requests
// against Stripe's OpenAPI spec and answers from fixtures; its test
// tokens such as pm_card_chargeDeclined succeed or not by the fixture
// alone). A decline is Stripe's 402 card_error: served here as Stripe
// sends it, it is parsed by stripe-go's own error handling into
// *stripe.Error, which this package must turn into ErrDeclined, posting
// nothing.
func TestDecline(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stripemock.Decline(w, "insufficient_funds")
	}))
	defer srv.Close()
	b := newBooks(t)
	g := New("sk_test_123", srv.URL, b.log, b.led)
	_, err := g.TopUp(context.Background(), "r1", 3000, "pm_card_visa_chargeDeclinedInsufficientFunds", "req-1")
	if !errors.Is(err, ErrDeclined) {
		t.Fatalf("got %v, want a decline", err)
	}
	if got := b.wallet(t, "r1"); got != 0 {
		t.Fatalf("a declined card posted ¥%d", got)
	}
}

// TestDecliningMock: in front of stripe-mock, Stripe's declining test
// PaymentMethods are declined as Stripe declines them, posting nothing;
// any other goes through to stripe-mock and posts.
func TestDecliningMock(t *testing.T) {
	url := stripemock.Declining(t, stripemock.Start(t, stripemock.Succeeded))
	b := newBooks(t)
	g := New(stripemock.Key, url, b.log, b.led)
	ctx := context.Background()
	for i, pm := range []string{"pm_card_visa_chargeDeclinedInsufficientFunds", "pm_card_chargeDeclined"} {
		if _, err := g.TopUp(ctx, "r1", 3000, pm, fmt.Sprint("req-d", i)); !errors.Is(err, ErrDeclined) {
			t.Fatalf("%s: got %v, want a decline", pm, err)
		}
	}
	if got := b.wallet(t, "r1"); got != 0 {
		t.Fatalf("a declined card posted ¥%d", got)
	}
	if r, err := g.TopUp(ctx, "r1", 3000, "pm_card_visa", "req-ok"); err != nil || !r.Posted {
		t.Fatalf("the paying card through the proxy: %+v, %v", r, err)
	}
	if got := b.wallet(t, "r1"); got != 3000 {
		t.Fatalf("wallet ¥%d after one top-up", got)
	}
}

// TestDonationAgainstStripeMock: a counter's donation by card posts
// once to the city's Donations account of the shop, from the card's
// clearing account, however often the counter retries or the webhook
// confirms; another amount than the intent received, a card Stripe
// declines (its test card, through stripemock.Declining) and a request
// that is not one post nothing.
func TestDonationAgainstStripeMock(t *testing.T) {
	ctx := context.Background()
	mock := stripemock.Declining(t, stripemock.Start(t, stripemock.SucceededFor(10000)))
	b := newBooks(t)
	g := New(stripemock.Key, mock, b.log, b.led)
	donations := func() int64 {
		t.Helper()
		bal, err := b.led.Balance(ledger.Donations("kaga-michinoeki"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ledger.Verify(b.log); err != nil {
			t.Fatal(err)
		}
		return bal.Balance
	}
	r, err := g.Donate(ctx, "kaga-michinoeki", "r9", 10000, "pm_card_visa", "d-1")
	if err != nil || !r.Posted || r.Entry.Kind != ledger.KindDonation {
		t.Fatalf("donation: %+v, %v", r, err)
	}
	for range 2 {
		again, err := g.Confirm(ctx, r.Intent)
		if err != nil || again.Entry.Seq != r.Entry.Seq {
			t.Fatalf("confirmed again: %+v, %v", again, err)
		}
	}
	if got := donations(); got != 10000 {
		t.Fatalf("donations after one ¥10,000 donation confirmed three times: ¥%d", got)
	}
	if bal, _ := b.led.Balance(ledger.Wallet("r9")); bal.Balance != 0 {
		t.Fatalf("the donor's wallet moved: ¥%d", bal.Balance)
	}
	for _, tc := range []struct {
		name   string
		amount int64
		pm     string
		shop   string
		want   error
	}{
		{"another amount than the intent received", 12000, "pm_card_visa", "kaga-michinoeki", ErrMismatch},
		{"Stripe's declined test card", 10000, stripemock.DeclinedCard, "kaga-michinoeki", ErrDeclined},
		{"a card number", 10000, "4242424242424242", "kaga-michinoeki", ErrInvalid},
		{"no shop", 10000, "pm_card_visa", "", ErrInvalid},
		{"no amount", 0, "pm_card_visa", "kaga-michinoeki", ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := g.Donate(ctx, tc.shop, "r9", tc.amount, tc.pm, "d-"+tc.name); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if got := donations(); got != 10000 {
				t.Fatalf("donations ¥%d after a refused one", got)
			}
		})
	}
}
