// Package stripemock runs Stripe's own mock server (stripe-mock, a Go
// program the Makefile installs, pinned, into bin/tools) for tests: the
// real gateway client talks to it over HTTP on a free port.
//
// stripe-mock validates each request against Stripe's OpenAPI spec and
// answers from fixtures, keeping no state: a create answers with the
// request's own fields, a retrieve with the fixture's. It never declines
// a card (its test ids such as pm_card_chargeDeclined are accepted like
// any other); its bundled PaymentIntent fixture never succeeds
// (requires_payment_method).
package stripemock

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Succeeded is a fixture under which every PaymentIntent the mock
// returns has succeeded, having received ¥3,000: so a ¥3,000 top-up is
// confirmed, another amount is not (what the mock retrieves is ¥3,000).
const Succeeded = `{"resources":{"payment_intent":{"id":"pi_fixture","object":"payment_intent","amount":3000,"amount_received":3000,"currency":"jpy","status":"succeeded","metadata":{},"livemode":false,"payment_method":"pm_card_visa","created":1234567890}}}`

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
