package sim

import (
	"bytes"
	"context"
	"encoding/hex"
	"reflect"
	"testing"

	"smartpass.city/smartpass/app/card"
)

// The simulator's own watch must catch a forbidden access when something
// gets past the firewall: raw commands, sent here without it.
func TestViolationsAreRecorded(t *testing.T) {
	pki, err := NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(pki, Persona{Facts: card.Facts{Name: "x", BirthDate: "20000101"}, Number: "123456789018", AuthPIN: "1234"})
	if err != nil {
		t.Fatal(err)
	}
	send := func(h string) string {
		b, _ := hex.DecodeString(h)
		out, _ := c.Transmit(context.Background(), b)
		return hex.EncodeToString(out)
	}
	if got := send("00a4040c0a" + hex.EncodeToString(card.AIDCardInfo)); got != "9000" {
		t.Fatalf("select card-info: %s", got)
	}
	send("00a4020c020001")
	if len(c.Violations) != 1 {
		t.Fatalf("Violations = %v, want the SELECT of the number file", c.Violations)
	}
	// The number file stays behind the PIN, too.
	if got := send("00b0000000"); got != "6982" {
		t.Fatalf("read of the number file without the PIN: %s, want 6982", got)
	}
	if len(c.Violations) != 2 {
		t.Fatalf("Violations = %v, want the read recorded too", c.Violations)
	}
}

// A saved PKI comes back with the same CAs, so the same anchors: a demo
// server restarting keeps what terminals trust.
func TestPKISaved(t *testing.T) {
	pki, err := NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	b, err := pki.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back, err := LoadPKI(b)
	if err != nil {
		t.Fatal(err)
	}
	r1, c1, _ := pki.Trust()
	r2, c2, _ := back.Trust()
	if !reflect.DeepEqual(r1, r2) || !reflect.DeepEqual(c1, c2) {
		t.Fatal("the loaded PKI's anchors differ from the saved one's")
	}
	if _, err := LoadPKI(b[:len(b)/2]); err == nil {
		t.Fatal("a truncated PKI loaded")
	}
}

// TestClone: a clone is the same card (the same certificate) with its own
// PIN counter: a wrong PIN on one does not cost the other a try.
func TestClone(t *testing.T) {
	ctx := context.Background()
	pki, err := NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	orig, err := New(pki, Persona{AuthPIN: "1234"})
	if err != nil {
		t.Fatal(err)
	}
	a, b := orig.Clone(), orig.Clone()
	ja, _ := card.OpenJPKI(ctx, card.New(a))
	jb, _ := card.OpenJPKI(ctx, card.New(b))
	ca, err := ja.Certificate(ctx, card.AuthKey.Cert())
	if err != nil {
		t.Fatal(err)
	}
	cb, _ := jb.Certificate(ctx, card.AuthKey.Cert())
	if !bytes.Equal(ca, cb) {
		t.Fatal("two clones have different certificates")
	}
	if err := ja.Verify(ctx, card.AuthKey, "9999"); err == nil {
		t.Fatal("a wrong PIN verified")
	}
	if n, _ := jb.TriesLeft(ctx, card.AuthKey); n != 3 {
		t.Fatalf("the other clone has %d tries, want 3", n)
	}
}
