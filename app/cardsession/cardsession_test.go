package cardsession

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/apdu"
	"smartpass.city/smartpass/app/card/cardtest"
	"smartpass.city/smartpass/app/card/onestop"
	"smartpass.city/smartpass/app/card/reader"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/syncproto"
)

func TestExplain(t *testing.T) {
	refusal := &syncproto.Error{Code: "card_revoked", Message: "revoked"}
	for _, c := range []struct {
		name string
		err  error
		want Words
	}{
		{"nothing", nil, Words{}},
		{"a refusal, wrapped", fmt.Errorf("api: %w", refusal), keys("card.refused.card_revoked", "account.refused.card_revoked", errOther)},
		{"no nonce", NoNonceError{errors.New("dial tcp: refused")}, keys("card.err.server")},
		{"checked offline: revoked", fmt.Errorf("verify: %w", jpki.ErrRevoked), keys("card.refused." + jpki.Code(jpki.ErrRevoked))},
		{"checked offline: no anchors", jpki.ErrAnchors, keys("card.refused." + jpki.Code(jpki.ErrAnchors))},
		{"the page's PIN form", card.ErrPINFormat, Words{Part: "err.format"}},
		{"the linking PIN's form", LinkError{card.ErrPINFormat}, keys("card.err.format")},
		{"no card on the reader", fmt.Errorf("connect: %w", reader.ErrNoCard), keys("card.err.nocard")},
		{"a garbled answer", reader.ErrGarbled, keys("card.err.readerfail")},
		{"the reader stopped answering", context.DeadlineExceeded, keys("card.err.readerfail")},
		{"a CCID reader", reader.ErrClassReserved, keys("card.err.reader")},
		{"an unknown reader", reader.ErrUnsupported, keys("card.err.reader")},
		{"anything else", errors.New("boom"), keys(errOther)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Explain(c.err); !reflect.DeepEqual(got, c.want) {
				t.Errorf("Explain(%v) = %+v, want %+v", c.err, got, c.want)
			}
		})
	}
}

func TestProved(t *testing.T) {
	wrong := func(n int) error { return fmt.Errorf("verify: %w", &apdu.WrongPINError{Remaining: n}) }
	for _, c := range []struct {
		name             string
		err              error
		want             Words
		tries, authTries int
		blocked          bool
	}{
		{"success", nil, Words{}, 3, 3, false},
		{"wrong PIN: its tries", wrong(2), Words{Part: "wrongpin"}, 2, 3, false},
		{"wrong PIN, none left: blocked", wrong(0), Words{}, 3, 3, true},
		{"blocked", apdu.ErrPINBlocked, Words{}, 3, 3, true},
		{"the linking PIN wrong: its own tries", LinkError{wrong(1)}, Words{Keys: []string{"account.authpin.wrong"}, Args: []any{1}}, 3, 1, false},
		{"the linking PIN used up: the password still works", LinkError{wrong(0)}, keys("card.blocked"), 3, 0, false},
		{"the linking PIN blocked", LinkError{apdu.ErrPINBlocked}, keys("card.blocked"), 3, 0, false},
		{"the linking PIN's form", LinkError{card.ErrPINFormat}, keys("card.err.format"), 3, 3, false},
		{"the linking step without a nonce", LinkError{NoNonceError{errors.New("offline")}}, keys("card.err.server"), 3, 3, false},
		{"a refusal", &syncproto.Error{Code: account.CodeExists}, keys("card.refused."+account.CodeExists, "account.refused."+account.CodeExists, errOther), 3, 3, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := New(Sign)
			s.Tries, s.AuthTries = 3, 3
			got := s.Proved(c.err)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("words %+v, want %+v", got, c.want)
			}
			if s.Tries != c.tries || s.AuthTries != c.authTries || s.Blocked != c.blocked {
				t.Errorf("tries %d, auth tries %d, blocked %v; want %d, %d, %v", s.Tries, s.AuthTries, s.Blocked, c.tries, c.authTries, c.blocked)
			}
		})
	}
}

func TestTake(t *testing.T) {
	for _, c := range []struct {
		name         string
		app          App
		pin, authPIN string
		want         Typed
		err          error
		link         bool // the error is the linking PIN's
	}{
		{"a 4-digit PIN", Auth, "1234", "", Typed{PIN: "1234"}, nil, false},
		{"a short PIN never reaches the card", Auth, "123", "", Typed{}, card.ErrPINFormat, false},
		{"letters in a PIN", Info, "12a4", "", Typed{}, card.ErrPINFormat, false},
		{"a card-info PIN", Info, "0000", "", Typed{PIN: "0000"}, nil, false},
		{"a password", Sign, "KAGA2026", "", Typed{PIN: "KAGA2026"}, nil, false},
		{"a lower-case password", Sign, "kaga2026", "", Typed{}, card.ErrPINFormat, false},
		{"a password and the linking PIN", Sign, "KAGA2026", "1234", Typed{PIN: "KAGA2026", AuthPIN: "1234"}, nil, false},
		{"a bad linking PIN", Sign, "KAGA2026", "12", Typed{}, card.ErrPINFormat, true},
		{"an auth session ignores a linking PIN", Auth, "1234", "99", Typed{PIN: "1234", AuthPIN: "99"}, nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := New(c.app)
			s.PIN, s.AuthPIN = c.pin, c.authPIN
			got, err := s.Take()
			if !errors.Is(err, c.err) || got != c.want {
				t.Fatalf("Take = %+v, %v; want %+v, %v", got, err, c.want, c.err)
			}
			var link LinkError
			if errors.As(err, &link) != c.link {
				t.Errorf("error %v: linking PIN's %v, want %v", err, !c.link, c.link)
			}
			if s.PIN != "" || s.AuthPIN != "" {
				t.Error("what was typed stayed in the session")
			}
		})
	}
}

// nonces is a server's nonce endpoint that answers n, or fails with err.
type nonces struct {
	n     []byte
	err   error
	asked int
}

func (f *nonces) CardNonce(context.Context) ([]byte, error) {
	f.asked++
	return f.n, f.err
}

func TestNonce(t *testing.T) {
	server := []byte("a nonce the server issued, 32 b.")
	down := errors.New("dial tcp: connection refused")
	refused := &syncproto.Error{Code: "card_unavailable"}
	for _, c := range []struct {
		name       string
		n          nonces
		canOffline bool
		offline    bool
		noNonce    bool
		fromServer bool
	}{
		{"the server's", nonces{n: server}, true, false, false, true},
		{"the server's, no anchors needed", nonces{n: server}, false, false, false, true},
		{"server down, anchors held: made here", nonces{err: down}, true, true, false, false},
		{"server down, no anchors: no PIN sent", nonces{err: down}, false, false, true, false},
		{"server refused: no PIN sent, even with anchors", nonces{err: refused}, true, false, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			nonce, offline, err := Nonce(t.Context(), &c.n, c.canOffline)
			var nn NoNonceError
			if errors.As(err, &nn) != c.noNonce || offline != c.offline {
				t.Fatalf("offline %v, err %v; want offline %v, no nonce %v", offline, err, c.offline, c.noNonce)
			}
			switch {
			case c.noNonce:
				if nonce != nil {
					t.Error("a nonce with the error")
				}
			case c.fromServer && string(nonce) != string(server):
				t.Errorf("nonce %x, want the server's", nonce)
			case !c.fromServer && len(nonce) != jpki.NonceLen:
				t.Errorf("nonce of %d bytes, want %d", len(nonce), jpki.NonceLen)
			}
		})
	}
}

// onReader is a reader holding a card (or failing with err).
type onReader struct {
	card apdu.Transceiver
	err  error
}

func (r onReader) Connect(context.Context) (apdu.Transceiver, error) { return r.card, r.err }

// TestConnect: connecting reads each session's tries and uses none; a
// reader that fails says so; a blocked PIN shows as Blocked.
func TestConnect(t *testing.T) {
	ctx := t.Context()
	c := cardtest.Card(t, cardtest.Taro)
	for _, tc := range []struct {
		app              App
		tries, authTries int
	}{
		{Auth, 3, -1},
		{Sign, 5, 3},
		{Info, 3, -1},
	} {
		s := New(tc.app)
		if err := s.Connect(ctx, onReader{card: c})(); err != nil {
			t.Fatalf("app %d: %v", tc.app, err)
		}
		if !s.Connected() || s.Blocked || s.Tries != tc.tries || s.AuthTries != tc.authTries {
			t.Errorf("app %d: connected %v, blocked %v, tries %d/%d; want %d/%d", tc.app, s.Connected(), s.Blocked, s.Tries, s.AuthTries, tc.tries, tc.authTries)
		}
		if n, _ := s.Counts(); n == 0 {
			t.Errorf("app %d: no APDUs counted", tc.app)
		}
	}
	if n := cardtest.Verifies(c); n != 0 {
		t.Errorf("%d PINs sent by connecting", n)
	}

	s := New(Auth)
	apply := s.Connect(ctx, onReader{err: fmt.Errorf("webusb: %w", reader.ErrNoCard)})
	if s.Connected() {
		t.Error("connected before the result was applied")
	}
	if err := apply(); !errors.Is(err, reader.ErrNoCard) || s.Connected() {
		t.Errorf("no card: err %v, connected %v", err, s.Connected())
	}

	// Three wrong PINs block it; the next connect says so, with no error.
	j, err := card.OpenJPKI(ctx, card.New(c))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		j.Verify(ctx, card.AuthKey, "9999")
	}
	if err := s.Connect(ctx, onReader{card: c})(); err != nil || !s.Blocked {
		t.Errorf("blocked card: err %v, blocked %v", err, s.Blocked)
	}
	sign := New(Sign)
	if err := sign.Connect(ctx, onReader{card: c})(); err != nil || sign.Blocked || sign.AuthTries != 0 || sign.Tries != 5 {
		t.Errorf("password session on a card with its PIN blocked: err %v, blocked %v, tries %d/%d", err, sign.Blocked, sign.Tries, sign.AuthTries)
	}
}

// TestWrongPINNotRetried: a wrong PIN goes to the card once, the tries
// it reports show, and nothing is sent again until the person types
// and presses again.
func TestWrongPINNotRetried(t *testing.T) {
	ctx := t.Context()
	c := cardtest.Card(t, cardtest.Taro)
	s := New(Auth)
	if err := s.Connect(ctx, onReader{card: c})(); err != nil {
		t.Fatal(err)
	}
	n := &nonces{n: []byte("a nonce the server issued, 32 b.")}
	s.PIN = "4321"
	typed, err := s.Take()
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Check(ctx, n, typed, false)
	if w := s.Proved(err); w.Part != "wrongpin" || s.Tries != 2 || s.Blocked {
		t.Fatalf("after a wrong PIN: %+v, tries %d, blocked %v (err %v)", w, s.Tries, s.Blocked, err)
	}
	if v := cardtest.Verifies(c); v != 1 {
		t.Fatalf("%d PINs sent, want 1", v)
	}
	if _, err := s.Take(); !errors.Is(err, card.ErrPINFormat) {
		t.Errorf("a second press with nothing typed: %v, want the form refused before the card", err)
	}
	if v := cardtest.Verifies(c); v != 1 {
		t.Fatalf("%d PINs sent after the second press, want still 1", v)
	}

	s.PIN = cardtest.Taro.AuthPIN
	typed, _ = s.Take()
	p, err := s.Check(ctx, n, typed, false)
	if err != nil || !s.Proved(err).None() || p.Offline {
		t.Fatalf("the right PIN: %+v, %v", p, err)
	}
	cert, err := cardtest.Verifier(t, cardtest.PKI(t)).Certificate(p.Cert)
	if err != nil {
		t.Fatal(err)
	}
	if err := jpki.Signature(cert, p.Nonce, p.Sig); err != nil {
		t.Errorf("the proof does not verify: %v", err)
	}
	if n.asked != 2 {
		t.Errorf("%d nonces asked, want one per press", n.asked)
	}
}

// TestAccountAndMember: a password session signs the account's
// challenge and, with the 4-digit PIN, the card link; an info session
// reads the four facts, and links the card only for a household.
func TestAccountAndMember(t *testing.T) {
	ctx := t.Context()
	c := cardtest.Card(t, cardtest.Taro)
	n := &nonces{n: []byte("a nonce the server issued, 32 b.")}
	key := []byte("this device's account public key")

	s := New(Sign)
	if err := s.Connect(ctx, onReader{card: c})(); err != nil {
		t.Fatal(err)
	}
	req, err := s.Account(ctx, n, Typed{PIN: cardtest.Taro.SignPassword, AuthPIN: cardtest.Taro.AuthPIN}, key)
	if err != nil {
		t.Fatal(err)
	}
	if req.Link == nil || string(req.Key) != string(key) || len(req.Sig) == 0 {
		t.Fatalf("request %+v", req)
	}
	_, err = s.Account(ctx, n, Typed{PIN: cardtest.Taro.SignPassword, AuthPIN: "0000"}, key)
	var link LinkError
	if !errors.As(err, &link) {
		t.Fatalf("a wrong linking PIN: %v, want a LinkError", err)
	}
	if w := s.Proved(err); s.AuthTries != 2 || len(w.Keys) != 1 || w.Keys[0] != "account.authpin.wrong" {
		t.Errorf("after a wrong linking PIN: %+v, auth tries %d", w, s.AuthTries)
	}

	m := New(Info)
	if err := m.Connect(ctx, onReader{card: c})(); err != nil {
		t.Fatal(err)
	}
	before := cardtest.Verifies(c)
	f, l, err := m.Member(ctx, n, Typed{PIN: cardtest.Taro.AuthPIN}, nil)
	if err != nil || f != cardtest.Taro.Facts || l != nil {
		t.Fatalf("at a desk: %+v, link %v, %v", f, l, err)
	}
	if v := cardtest.Verifies(c) - before; v != 1 {
		t.Errorf("at a desk, %d PINs sent, want the card-info one", v)
	}
	keyAsked := 0
	f, l, err = m.Member(ctx, n, Typed{PIN: cardtest.Taro.AuthPIN}, func(context.Context) ([]byte, error) { keyAsked++; return key, nil })
	if err != nil || f != cardtest.Taro.Facts || l == nil || keyAsked != 1 {
		t.Fatalf("for a household: %+v, link %v, key asked %d, %v", f, l, keyAsked, err)
	}
	if _, _, err := New(Info).Member(ctx, n, Typed{PIN: "1234"}, nil); !errors.Is(err, ErrNoCard) {
		t.Errorf("no card: %v", err)
	}
}

// TestApplication: a OneStop session shows both PINs' tries without
// sending either; a wrong card-info PIN goes to the card once, its
// tries shown, and nothing is signed; the right PIN reads the facts and
// the number (once) and the signature key signs what the form makes of
// them over the server's nonce, which the certificate verifies.
func TestApplication(t *testing.T) {
	ctx := t.Context()
	c := cardtest.Card(t, cardtest.Taro)
	c.AllowNumber = true
	n := &nonces{n: []byte("a nonce the server issued, 32 b.")}
	s := New(OneStop)
	if err := s.Connect(ctx, onReader{card: c})(); err != nil {
		t.Fatal(err)
	}
	if s.Tries != 3 || s.SignTries != 5 || cardtest.Verifies(c) != 0 {
		t.Fatalf("tries %d/%d, %d PINs sent by connecting", s.Tries, s.SignTries, cardtest.Verifies(c))
	}
	signed := 0
	message := func(nonce []byte, r onestop.Read) ([]byte, error) {
		signed++
		return append(append([]byte("form "), nonce...), r.Number.Reveal()...), nil
	}
	s.PIN, s.SignPassword = "1235", cardtest.Taro.SignPassword
	typed, err := s.Take()
	if err != nil || s.SignPassword != "" {
		t.Fatalf("take: %v (password kept %q)", err, s.SignPassword)
	}
	_, err = s.Application(ctx, n, typed, message)
	if w := s.Proved(err); w.Part != "wrongpin" || s.Tries != 2 || signed != 0 || cardtest.Verifies(c) != 1 {
		t.Fatalf("wrong PIN: %+v, tries %d, signed %d, %d PINs sent (%v)", w, s.Tries, signed, cardtest.Verifies(c), err)
	}
	s.PIN, s.SignPassword = cardtest.Taro.AuthPIN, "short"
	if _, err := s.Take(); !errors.Is(err, card.ErrPINFormat) {
		t.Fatalf("a password of the wrong form: %v", err)
	}
	s.PIN, s.SignPassword = cardtest.Taro.AuthPIN, cardtest.Taro.SignPassword
	typed, _ = s.Take()
	got, err := s.Application(ctx, n, typed, message)
	if err != nil || got.Read.Facts != cardtest.Taro.Facts || got.Read.Number.Reveal() != cardtest.Taro.Number || c.NumberReads != 1 || signed != 1 {
		t.Fatalf("application: %+v, %v (number reads %d)", got, err, c.NumberReads)
	}
	cert, err := cardtest.Verifier(t, cardtest.PKI(t)).Certificate(got.Cert)
	if err != nil {
		t.Fatal(err)
	}
	if err := jpki.Signature(cert, append(append([]byte("form "), got.Nonce...), cardtest.Taro.Number...), got.Sig); err != nil {
		t.Fatalf("the application's signature does not verify: %v", err)
	}
	if fmt.Sprint(got.Read) == "" || strings.Contains(fmt.Sprintf("%v", got.Read), cardtest.Taro.Number) {
		t.Fatal("the number prints in clear")
	}
}
