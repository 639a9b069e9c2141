// Package stripemock runs Stripe's own mock server (stripe-mock, a Go
// program the Makefile installs, pinned, into bin/tools) for tests: the
// real gateway client talks to it over HTTP on a free port.
//
// stripe-mock validates each request against Stripe's OpenAPI spec and
// answers from fixtures, keeping no state: a create answers with the
// request's own fields, a retrieve with the fixture's. It never declines
// a card (its test ids such as pm_card_chargeDeclined are accepted like
// any other); its bundled PaymentIntent fixture never succeeds
// (requires_payment_method). Declining puts Stripe's own decline in
// front of it for Stripe's declining test PaymentMethods.
package stripemock

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Succeeded is a fixture under which every PaymentIntent the mock
// returns has succeeded, having received ¥3,000: so a ¥3,000 top-up is
// confirmed, another amount is not (what the mock retrieves is ¥3,000).
var Succeeded = SucceededFor(3000)

// SucceededFor is the fixture under which every PaymentIntent the mock
// returns has succeeded, having received amount yen: a charge of that
// amount is confirmed, any other is not.
func SucceededFor(amount int64) string {
	return fmt.Sprintf(`{"resources":{"payment_intent":{"id":"pi_fixture","object":"payment_intent","amount":%d,"amount_received":%d,"currency":"jpy","status":"succeeded","metadata":{},"livemode":false,"payment_method":"pm_card_visa","created":1234567890}}}`, amount, amount)
}

// DeclinedCard is Stripe's test PaymentMethod its gateway always
// declines (card_declined; one of declines).
const DeclinedCard = "pm_card_chargeDeclined"

// Key is a secret key the mock accepts (any sk_test_ key).
const Key = "sk_test_123"

// Bin finds stripe-mock: bin/tools of the module (make installs it
// there), else PATH.
func Bin(t testing.TB) string {
	t.Helper()
	if out, err := exec.Command("go", "env", "GOMOD").Output(); err == nil {
		p := filepath.Join(filepath.Dir(string(out[:len(out)-1])), "bin", "tools", "stripe-mock")
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

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Start runs stripe-mock on free loopback ports until t ends, with
// fixtures (a JSON document) instead of its own when not empty, and
// returns its URL.
func Start(t testing.TB, fixtures string) string {
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
	cmd := exec.Command(Bin(t), args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
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

// declines are Stripe's documented test PaymentMethods whose charge the
// card issuer declines, with the decline code Stripe gives each.
var declines = map[string]string{
	"pm_card_chargeDeclined":                       "generic_decline",
	"pm_card_visa_chargeDeclined":                  "generic_decline",
	"pm_card_visa_chargeDeclinedInsufficientFunds": "insufficient_funds",
}

// Decline is Stripe's answer to a charge the issuer declines: HTTP 402
// with a card_error body, as Stripe documents and sends it.
func Decline(w http.ResponseWriter, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Request-Id", "req_decline")
	w.WriteHeader(http.StatusPaymentRequired)
	fmt.Fprintf(w, `{"error":{"type":"card_error","code":"card_declined","decline_code":%q,"message":"Your card was declined.","param":""}}`, code)
}

// Declining returns the URL of a gateway that is the stripe-mock at url
// for everything but the creation of a PaymentIntent with one of
// Stripe's declining test PaymentMethods, which it answers as Stripe
// does (Decline): stripe-mock itself never declines. It runs until t
// ends.
func Declining(t testing.TB, url string) string {
	t.Helper()
	target, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/payment_intents" {
			body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			form, _ := neturl.ParseQuery(string(body))
			if code, ok := declines[form.Get("payment_method")]; ok {
				Decline(w, code)
				return
			}
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
