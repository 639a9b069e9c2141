package card_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"testing"

	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/apdu"
	"smartpass.city/smartpass/app/card/cardtest"
	"smartpass.city/smartpass/app/card/sim"
)

func newCard(t *testing.T, p sim.Persona) (*sim.Card, *card.Card) {
	s := cardtest.Card(t, p)
	return s, card.New(s)
}

func verifies(s *sim.Card) int {
	n := 0
	for _, c := range s.Log {
		if len(c) > 4 && c[1] == 0x20 { // VERIFY with data: a try used
			n++
		}
	}
	return n
}

func TestJPKIAuthentication(t *testing.T) {
	ctx := context.Background()
	s, c := newCard(t, cardtest.Taro)
	j, err := card.OpenJPKI(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	der, err := j.Certificate(ctx, card.EFAuthCert)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := cert.CheckSignatureFrom(cardtest.PKI(t).AuthCA()); err != nil {
		t.Fatalf("auth certificate not from the test CA: %v", err)
	}
	// Tries left, asked twice, cost nothing.
	for range 2 {
		if n, err := j.TriesLeft(ctx, card.AuthKey); err != nil || n != 3 {
			t.Fatalf("TriesLeft = %d, %v; want 3", n, err)
		}
	}
	if verifies(s) != 0 {
		t.Fatal("asking for the tries left used a try")
	}
	var wp *apdu.WrongPINError
	if err := j.Verify(ctx, card.AuthKey, "9999"); !errors.As(err, &wp) || wp.Remaining != 2 {
		t.Fatalf("wrong PIN: %v, want 2 tries left", err)
	}
	if err := j.Verify(ctx, card.AuthKey, "1234"); err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("server nonce"))
	sig, err := j.Sign(ctx, card.AuthKey, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], sig); err != nil {
		t.Fatalf("the card's signature does not verify with its certificate: %v", err)
	}
}

func TestPINSafety(t *testing.T) {
	ctx := context.Background()
	s, c := newCard(t, cardtest.Taro)
	j, _ := card.OpenJPKI(ctx, c)

	// A PIN of the wrong form never reaches the card.
	for _, bad := range []string{"123", "12345", "12a4", ""} {
		if err := j.Verify(ctx, card.AuthKey, bad); !errors.Is(err, card.ErrPINFormat) {
			t.Fatalf("Verify(%q) = %v, want ErrPINFormat", bad, err)
		}
	}
	if err := j.Verify(ctx, card.SignKey, "short"); !errors.Is(err, card.ErrPINFormat) {
		t.Fatalf("a 5-character password: %v", err)
	}
	if verifies(s) != 0 {
		t.Fatal("a malformed PIN was sent to the card")
	}
	// Three wrong PINs block it; each call sends exactly one VERIFY.
	var wp *apdu.WrongPINError
	for want := 2; want >= 0; want-- {
		if err := j.Verify(ctx, card.AuthKey, "0000"); !errors.As(err, &wp) || wp.Remaining != want {
			t.Fatalf("wrong PIN: %v, want %d left", err, want)
		}
	}
	if verifies(s) != 3 {
		t.Fatalf("%d VERIFY commands for 3 calls: something retried", verifies(s))
	}
	if n, err := j.TriesLeft(ctx, card.AuthKey); n != 0 || !errors.Is(err, apdu.ErrPINBlocked) {
		t.Fatalf("TriesLeft on a blocked PIN = %d, %v", n, err)
	}
	if err := j.Verify(ctx, card.AuthKey, "1234"); !errors.Is(err, apdu.ErrPINBlocked) {
		t.Fatalf("the right PIN on a blocked card: %v, want ErrPINBlocked", err)
	}
}

func TestSignatureCertificate(t *testing.T) {
	ctx := context.Background()
	_, c := newCard(t, cardtest.Taro)
	j, _ := card.OpenJPKI(ctx, c)
	if _, err := j.Certificate(ctx, card.EFSignCert); !errors.Is(err, apdu.ErrSecurityStatus) {
		t.Fatalf("signature certificate before the password: %v, want access denied", err)
	}
	if err := j.Verify(ctx, card.SignKey, "KAGA2026"); err != nil {
		t.Fatal(err)
	}
	der, err := j.Certificate(ctx, card.EFSignCert)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil || cert.CheckSignatureFrom(cardtest.PKI(t).SignCA()) != nil {
		t.Fatalf("signature certificate: %v", err)
	}

	// A PIN-less card has no signature certificate.
	pinless := cardtest.Taro
	pinless.SignPassword = ""
	_, c2 := newCard(t, pinless)
	j2, _ := card.OpenJPKI(ctx, c2)
	if _, err := j2.Certificate(ctx, card.EFSignCert); !errors.Is(err, apdu.ErrFileNotFound) {
		t.Fatalf("signature certificate of a PIN-less card: %v, want not found", err)
	}
}

func TestCardInfoBasicFour(t *testing.T) {
	ctx := context.Background()
	_, c := newCard(t, cardtest.Taro)
	ci, err := card.OpenCardInfo(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ci.BasicFour(ctx); !errors.Is(err, apdu.ErrSecurityStatus) {
		t.Fatalf("basic four facts without the PIN: %v", err)
	}
	if n, err := ci.TriesLeft(ctx); err != nil || n != 3 {
		t.Fatalf("TriesLeft = %d, %v", n, err)
	}
	if err := ci.Verify(ctx, "1234"); err != nil {
		t.Fatal(err)
	}
	f, err := ci.BasicFour(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f != cardtest.Taro.Facts {
		t.Fatalf("BasicFour = %+v, want %+v", f, cardtest.Taro.Facts)
	}
}

// TestFirewall: nothing that reaches the individual number leaves the
// card package, whatever a caller sends; the simulator checks it never
// saw one (newCard's cleanup).
func TestFirewall(t *testing.T) {
	ctx := context.Background()
	s, c := newCard(t, cardtest.Taro)
	if _, err := card.OpenCardInfo(ctx, c); err != nil {
		t.Fatal(err)
	}
	sent := len(s.Log)
	for _, cmd := range []apdu.Command{
		{INS: 0xA4, P1: 0x02, P2: 0x0C, Data: []byte{0x00, 0x01}, Le: apdu.NoLe}, // the number
		{INS: 0xA4, P1: 0x02, P2: 0x0C, Data: []byte{0x00, 0x14}, Le: apdu.NoLe}, // 照合番号A
		{INS: 0xA4, P1: 0x02, P2: 0x0C, Data: []byte{0x00, 0x03}, Le: apdu.NoLe}, // hashes over the number
		{INS: 0xB0, P1: 0x81, P2: 0x00, Le: 0},                                   // READ BINARY of EF 01 by short id
		{INS: 0xA4, P1: 0x08, P2: 0x0C, Data: []byte{0x00, 0x01}, Le: apdu.NoLe}, // SELECT by path
		{INS: 0xE4, Le: apdu.NoLe},                                               // DELETE FILE
		{INS: 0xA4, P1: 0x02, P2: 0x0C, Data: []byte{0x00}, Le: apdu.NoLe},       // a malformed file id
		{INS: 0xA4, P1: 0x02, P2: 0x0C, Data: []byte{0x00, 0x15}, Le: apdu.NoLe}, // 照合番号B of the card-info application
		{INS: 0x20, P1: 0x00, P2: 0x94, Data: []byte("1234"), Le: apdu.NoLe},     // VERIFY of 照合番号A (0014) by reference
		{INS: 0x20, P1: 0x00, P2: 0x93, Data: []byte("1234"), Le: apdu.NoLe},     // VERIFY of the card-face 照合番号A by reference
		{INS: 0x20, P1: 0x00, P2: 0x00, Data: []byte("1234"), Le: apdu.NoLe},     // VERIFY of a global reference
		{INS: 0x20, P1: 0x01, P2: 0x80, Data: []byte("1234"), Le: apdu.NoLe},     // VERIFY with a P1 no flow uses
		{INS: 0xA4, P1: 0x04, P2: 0x0C, Data: AIDPrefix(), Le: apdu.NoLe},        // SELECT by a partial AID
		{INS: 0xA4, P1: 0x04, P2: 0x0C, Data: []byte{0xD3, 0x92}, Le: apdu.NoLe}, // SELECT by a shorter partial AID
	} {
		if _, err := c.Exchange(ctx, cmd); !errors.Is(err, card.ErrForbidden) {
			t.Errorf("% X: %v, want ErrForbidden", cmd.Data, err)
		}
	}
	if err := c.SelectApp(ctx, card.AIDCardFace); err != nil {
		t.Fatal(err)
	}
	for _, fid := range []uint16{0x0013, 0x0005} {
		if err := c.SelectEF(ctx, fid); !errors.Is(err, card.ErrForbidden) {
			t.Errorf("card-face file %04X: %v, want ErrForbidden", fid, err)
		}
	}
	if len(s.Log) != sent+1 {
		t.Fatalf("the firewall let %d commands through to the card; only the card-face SELECT may pass", len(s.Log)-sent)
	}
	// The same file ids are fine in JPKI, where they are certificates.
	if _, err := card.OpenJPKI(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := c.SelectEF(ctx, card.EFSignCert); err != nil {
		t.Fatalf("JPKI EF 0001 (signature certificate) refused: %v", err)
	}
}

// AIDPrefix is the card-info application's AID less its last byte: on a
// card that matches AIDs by prefix it selects the application without
// the firewall knowing which.
func AIDPrefix() []byte { return card.AIDCardInfo[:len(card.AIDCardInfo)-1] }

// TestFirewallAfterPartialSelect: after a refused SELECT by a partial AID
// the firewall still guards the application last selected, and a SELECT
// EF with no application selected is refused.
func TestFirewallAfterPartialSelect(t *testing.T) {
	ctx := context.Background()
	s, c := newCard(t, cardtest.Taro)
	if err := c.SelectEF(ctx, 0x0001); !errors.Is(err, card.ErrForbidden) {
		t.Fatalf("SELECT EF 0001 before any application: %v, want ErrForbidden", err)
	}
	if _, err := card.OpenCardInfo(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exchange(ctx, apdu.Command{INS: 0xA4, P1: 0x04, P2: 0x0C, Data: AIDPrefix(), Le: apdu.NoLe}); !errors.Is(err, card.ErrForbidden) {
		t.Fatalf("partial AID: %v, want ErrForbidden", err)
	}
	if err := c.SelectEF(ctx, 0x0001); !errors.Is(err, card.ErrForbidden) {
		t.Fatalf("the number's file after a partial SELECT: %v, want ErrForbidden", err)
	}
	if len(s.Violations) != 0 {
		t.Fatalf("the card saw: %v", s.Violations)
	}
}

// FuzzParseFacts: the basic-four-facts file is outside bytes.
func FuzzParseFacts(f *testing.F) {
	f.Add([]byte{0xFF, 0x20, 0x0E, 0xDF, 0x22, 0x01, 'a', 0xDF, 0x24, 0x08, '1', '9', '5', '0', '0', '1', '0', '1'})
	f.Add([]byte{0xFF, 0x20, 0x82, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		facts, err := card.ParseFacts(b)
		if err == nil && (facts.Name == "" || len(facts.BirthDate) != 8) {
			t.Fatalf("accepted facts without a name or birth date: %+v", facts)
		}
	})
}

// TestCertificateShortReads: certificates are read with short APDUs only
// (Le = 00 chunks, the first giving the length), on every card: readers carry
// far less than a certificate per message. Before, the first READ BINARY
// asked for 65,536 bytes in the extended form.
func TestCertificateShortReads(t *testing.T) {
	ctx := context.Background()
	for _, ef := range []uint16{card.EFAuthCert, card.EFAuthCACert} {
		s, c := newCard(t, cardtest.Taro)
		j, err := card.OpenJPKI(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		der, err := j.Certificate(ctx, ef)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := x509.ParseCertificate(der); err != nil {
			t.Fatalf("%04X: %v", ef, err)
		}
		reads := 0
		for _, raw := range s.Log {
			cmd, err := apdu.ParseCommand(raw)
			if err != nil {
				t.Fatal(err)
			}
			if cmd.Extended() {
				t.Errorf("%04X: an extended APDU reached the card: % X", ef, raw)
			}
			if cmd.INS == 0xB0 {
				reads++
			}
		}
		if want := (len(der) + 255) / 256; reads != want {
			t.Errorf("%04X: %d READ BINARY for %d bytes, want %d", ef, reads, len(der), want)
		}
	}
}
