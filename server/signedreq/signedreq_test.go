package signedreq

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/cardtest"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/server/oplog"
	"smartpass.city/smartpass/server/residents"
)

// holderOf opens Taro's account on a registry over a fresh store and
// returns the registry, his account and his device key.
func holderOf(t *testing.T) (*residents.Registry, account.Account, ed25519.PrivateKey) {
	t.Helper()
	l, err := oplog.Open(t.TempDir(), oplog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	g := &residents.Registry{Log: l, Verifier: cardtest.Verifier(t, cardtest.PKI(t)), Nonces: &jpki.Nonces{}}
	pub, priv, _ := ed25519.GenerateKey(nil)
	n := g.Nonces.Issue()
	cert, sig := cardtest.Prove(t, cardtest.Taro, card.SignKey, cardtest.Taro.SignPassword, account.Challenge(n, pub))
	a, err := g.Open(account.Request{Nonce: n, Cert: cert, Sig: sig, Key: pub})
	if err != nil {
		t.Fatal(err)
	}
	return g, a, priv
}

// signed is a request to path with body, signed by key over a fresh
// nonce of g, as JSON on the wire.
func signed(g *residents.Registry, signer string, key ed25519.PrivateKey, path, body string) []byte {
	n := g.Nonces.Issue()
	b, _ := json.Marshal(account.Signed{Signer: signer, Nonce: n, Body: []byte(body), Sig: ed25519.Sign(key, account.Message(path, n, []byte(body)))})
	return b
}

// The typed errors, each for its own fault, and the holder proven only
// when the signature is theirs.
func TestHolder(t *testing.T) {
	g, taro, key := holderOf(t)
	_, other, _ := ed25519.GenerateKey(nil)
	replayed := signed(g, taro.ID, key, account.MembersPath, `{}`)
	read := func(rd Reader, body []byte) (account.Account, account.Person, error) {
		r := httptest.NewRequest(http.MethodPost, account.MembersPath, bytes.NewReader(body))
		return Holder[account.Person](rd, httptest.NewRecorder(), r, account.MembersPath)
	}
	rd := Reader{Registry: g, Limit: 4 << 10}
	if _, _, err := read(rd, replayed); err != nil {
		t.Fatalf("the first use of a request: %v", err)
	}
	for _, c := range []struct {
		name   string
		rd     Reader
		body   []byte
		want   error
		proven bool
	}{
		{"a person", rd, signed(g, taro.ID, key, account.MembersPath, `{"resident":"R-000002"}`), nil, true},
		{"no registry", Reader{Limit: 4 << 10}, signed(g, taro.ID, key, account.MembersPath, `{}`), ErrNoRegistry, false},
		{"not JSON", rd, []byte(`signer=R-000001`), ErrMalformed, false},
		{"larger than the bound", Reader{Registry: g, Limit: 64}, signed(g, taro.ID, key, account.MembersPath, `{"resident":"`+strings.Repeat("x", 100)+`"}`), ErrMalformed, false},
		{"another key", rd, signed(g, taro.ID, other, account.MembersPath, `{}`), residents.ErrSigned, false},
		{"another path", rd, signed(g, taro.ID, key, account.HouseholdPath, `{}`), residents.ErrSigned, false},
		{"nobody's account", rd, signed(g, "R-999999", key, account.MembersPath, `{}`), residents.ErrSigned, false},
		{"replayed", rd, replayed, jpki.ErrNonce, false},
		{"a body that is not the request", rd, signed(g, taro.ID, key, account.MembersPath, `["R-000002"]`), ErrBody, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			who, p, err := read(c.rd, c.body)
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
			if got := who.ID == taro.ID; got != c.proven {
				t.Fatalf("holder %q proven %t, want %t", who.ID, got, c.proven)
			}
			if c.want == nil && p.Resident != "R-000002" {
				t.Fatalf("body %+v", p)
			}
		})
	}
	if !errors.Is(ErrBody, residents.ErrRequest) {
		t.Fatal("ErrBody does not wrap residents.ErrRequest: the account API would answer it as a failure")
	}
}

// An endpoint that takes nothing ignores what it is sent; anything else
// must decode.
func TestBody(t *testing.T) {
	if _, err := Body[account.None]([]byte(`not json`)); err != nil {
		t.Fatalf("None with junk: %v", err)
	}
	if _, err := Body[account.Person]([]byte(`not json`)); !errors.Is(err, ErrBody) {
		t.Fatalf("a Person with junk: %v, want ErrBody", err)
	}
}

// Route hands do the proven holder and answers through answer, which
// sees every error; do never runs for an unproven request.
func TestRoute(t *testing.T) {
	g, taro, key := holderOf(t)
	mux := http.NewServeMux()
	ep := account.Post[account.Person, account.None](account.ConsentPath, account.Holder)
	var ran int
	var answered []error
	Route(mux, ep, Reader{Registry: g, Limit: 4 << 10}, func(w http.ResponseWriter, r *http.Request, action string, holder account.Account, detail string, out any, err error) {
		answered = append(answered, err)
		if action != "test.action" {
			t.Errorf("action %q", action)
		}
	}, "test.action", func(ctx context.Context, holder account.Account, p account.Person) (account.None, string, error) {
		ran++
		if holder.ID != taro.ID || p.Resident != taro.ID {
			t.Errorf("do got %s, %+v", holder.ID, p)
		}
		return account.None{}, p.Resident, nil
	})
	for _, body := range [][]byte{
		signed(g, taro.ID, key, ep.Path, `{"resident":"`+taro.ID+`"}`),
		signed(g, taro.ID, key, account.MembersPath, `{"resident":"`+taro.ID+`"}`),
	} {
		mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, ep.Path, bytes.NewReader(body)))
	}
	if ran != 1 || len(answered) != 2 || answered[0] != nil || !errors.Is(answered[1], residents.ErrSigned) {
		t.Fatalf("do ran %d times, answers %v; want once, then ErrSigned", ran, answered)
	}
}

// FuzzSigned: the envelope reader takes any bytes from the network
// without panicking, and anything it accepts is a signed envelope.
func FuzzSigned(f *testing.F) {
	f.Add([]byte(`{"signer":"R-000001","nonce":"AAAA","body":"e30=","sig":"AAAA"}`))
	f.Add([]byte(`{"signer":`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := httptest.NewRequest(http.MethodPost, "/x", bytes.NewReader(b))
		s, err := Reader{Limit: 1 << 10}.Signed(httptest.NewRecorder(), r)
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("an error that is not ErrMalformed: %v", err)
		}
		if err == nil && len(b) > 1<<10 {
			t.Fatalf("%d bytes read past the bound: %+v", len(b), s)
		}
	})
}
