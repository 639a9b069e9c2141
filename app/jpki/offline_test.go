package jpki_test

import (
	"crypto/x509"
	"errors"
	"math/big"
	"testing"
	"time"

	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/cardtest"
	"smartpass.city/smartpass/app/card/sim"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/syncproto"
)

// A terminal offline checks a card with the anchors the server
// published, records the check, and the server's second look agrees; a
// tampered or revoked proof is refused on both sides, in the same words.
func TestOfflineCheck(t *testing.T) {
	v, err := cardtest.Anchors(t, cardtest.PKI(t)).Verifier()
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, jpki.NonceLen)
	nonce[0] = 1
	cert, sig := cardtest.Prove(t, cardtest.Taro, card.AuthKey, cardtest.Taro.AuthPIN, nonce)
	rec, c, err := v.Offline("kaga-playpark", nonce, cert, sig)
	if err != nil || rec.Outcome != jpki.Accepted || c == nil {
		t.Fatalf("Offline = %+v, %v", rec, err)
	}
	if err := rec.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := v.Recheck(rec, time.Now()); err != nil {
		t.Fatalf("the server's second look: %v", err)
	}
	// Days later, after the certificate expired, the check still stands:
	// it is judged as of when it was made.
	if err := v.Recheck(rec, c.NotAfter.Add(-time.Hour)); err != nil {
		t.Fatalf("recheck as of a time inside the validity: %v", err)
	}
	if err := v.Recheck(rec, c.NotAfter.Add(time.Hour)); !errors.Is(err, jpki.ErrExpired) {
		t.Fatalf("recheck as of a time after expiry: %v", err)
	}

	tampered := append([]byte(nil), sig...)
	tampered[3] ^= 1
	bad, _, err := v.Offline("kaga-playpark", nonce, cert, tampered)
	if !errors.Is(err, jpki.ErrSignature) || bad.Outcome != jpki.Refused || bad.Reason != syncproto.CodeCardSignature {
		t.Fatalf("tampered signature: %+v, %v", bad, err)
	}
	if err := bad.Validate(); err != nil {
		t.Fatalf("a refusal must be recordable too: %v", err)
	}
	forged := rec
	forged.Sig = tampered
	if err := v.Recheck(forged, time.Now()); !errors.Is(err, jpki.ErrSignature) {
		t.Fatalf("recheck of a forged acceptance: %v", err)
	}
	wrongSerial := rec
	wrongSerial.Serial = "1"
	if err := v.Recheck(wrongSerial, time.Now()); !errors.Is(err, jpki.ErrInvalid) {
		t.Fatalf("recheck with another serial recorded: %v", err)
	}

	serial, _ := new(big.Int).SetString(rec.Serial, 16)
	revoked := cardtest.Verifier(t, cardtest.PKI(t), serial)
	if r, _, err := revoked.Offline("kaga-playpark", nonce, cert, sig); !errors.Is(err, jpki.ErrRevoked) || r.Reason != syncproto.CodeCardRevoked || r.Serial != rec.Serial {
		t.Fatalf("revoked: %+v, %v", r, err)
	}
}

func TestAnchorsRefusals(t *testing.T) {
	good := cardtest.Anchors(t, cardtest.PKI(t))
	stranger, err := sim.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	foreign := cardtest.Anchors(t, stranger)
	for _, tc := range []struct {
		name string
		a    jpki.Anchors
	}{
		{"no roots", jpki.Anchors{CRLs: good.CRLs}},
		{"a root that is not a certificate", jpki.Anchors{Roots: [][]byte{[]byte("junk")}}},
		{"a CRL of another CA", jpki.Anchors{Roots: good.Roots, CRLs: foreign.CRLs}},
	} {
		if _, err := tc.a.Verifier(); !errors.Is(err, jpki.ErrAnchors) {
			t.Errorf("%s: %v, want ErrAnchors", tc.name, err)
		}
	}
}

func TestCheckedValidate(t *testing.T) {
	ok := jpki.Checked{Facility: "p", Nonce: make([]byte, 32), Cert: []byte{1}, Sig: []byte{1}, Outcome: jpki.Accepted}
	for _, tc := range []struct {
		name string
		edit func(*jpki.Checked)
		ok   bool
	}{
		{"complete", func(*jpki.Checked) {}, true},
		{"refused", func(c *jpki.Checked) { c.Outcome, c.Reason = jpki.Refused, "card_revoked" }, true},
		{"no facility", func(c *jpki.Checked) { c.Facility = "" }, false},
		{"short nonce", func(c *jpki.Checked) { c.Nonce = c.Nonce[:8] }, false},
		{"no certificate", func(c *jpki.Checked) { c.Cert = nil }, false},
		{"huge signature", func(c *jpki.Checked) { c.Sig = make([]byte, 5000) }, false},
		{"other outcome", func(c *jpki.Checked) { c.Outcome = "maybe" }, false},
	} {
		c := ok
		tc.edit(&c)
		if err := c.Validate(); (err == nil) != tc.ok || err != nil && !errors.Is(err, jpki.ErrInvalid) {
			t.Errorf("%s: Validate = %v", tc.name, err)
		}
	}
}

func TestCode(t *testing.T) {
	for err, want := range map[error]string{
		jpki.ErrNonce:                syncproto.CodeCardNonce,
		jpki.ErrExpired:              syncproto.CodeCardExpired,
		jpki.ErrRevoked:              syncproto.CodeCardRevoked,
		jpki.ErrSignature:            syncproto.CodeCardSignature,
		jpki.ErrNoStatus:             syncproto.CodeCardNoStatus,
		jpki.ErrUntrusted:            syncproto.CodeCardUntrusted,
		x509.UnknownAuthorityError{}: syncproto.CodeCardUntrusted,
	} {
		if got := jpki.Code(err); got != want {
			t.Errorf("Code(%v) = %s, want %s", err, got, want)
		}
	}
}
