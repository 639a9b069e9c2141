package cardpay

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"smartpass.city/smartpass/server/ledger"
	"smartpass.city/smartpass/server/oplog"
)

// mockBin finds stripe-mock: the Makefile installs it, pinned, into
// bin/tools (make tools); PATH otherwise.
func mockBin(t *testing.T) string {
	t.Helper()
	if p, err := filepath.Abs("../../bin/tools/stripe-mock"); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, err := exec.LookPath("stripe-mock")
	if err != nil {
		t.Fatal("stripe-mock is not installed: run `make tools` (go install github.com/stripe/stripe-mock@v0.203.0 into bin/tools)")
	}
	return p
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startMock runs stripe-mock on free ports until t ends, with fixtures
// (a JSON file's content) instead of its own when not empty, and returns
// its URL.
func startMock(t *testing.T, fixtures string) string {
	t.Helper()
	addr := freeAddr(t)
	args := []string{"-http-addr", addr, "-https-addr", freeAddr(t)}
	if fixtures != "" {
		path := filepath.Join(t.TempDir(), "fixtures.json")
		if err := os.WriteFile(path, []byte(fixtures), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-fixtures", path)
	}
	cmd := exec.Command(mockBin(t), args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("stripe-mock did not listen on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// succeeded is a fixture under which every PaymentIntent the mock returns
// has succeeded, having received ¥3,000. stripe-mock keeps no state: a
// create answers with the request's amount, a retrieve with the
// fixture's, so only a ¥3,000 top-up is confirmed; its bundled fixture
// never succeeds (requires_payment_method).
const succeeded = `{"resources":{"payment_intent":{"id":"pi_fixture","object":"payment_intent","amount":3000,"amount_received":3000,"currency":"jpy","status":"succeeded","metadata":{},"livemode":false,"payment_method":"pm_card_visa","created":1234567890}}}`

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
	ok := startMock(t, succeeded)
	plain := startMock(t, "")
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
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Request-Id", "req_decline")
		w.WriteHeader(http.StatusPaymentRequired)
		fmt.Fprint(w, `{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds.","param":""}}`)
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
