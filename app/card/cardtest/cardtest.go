// Package cardtest gives the card packages' tests what each of them
// needs: one simulated JPKI per test binary (RSA keys are slow to make), a
// resident to put on a card, a simulated card that fails the test if
// anything reaches the individual number, and the whole JPKI user
// authentication run over any reader, checked end to end.
package cardtest

import (
	"bytes"
	"context"
	"encoding/hex"
	"image"
	"image/color"
	"math/big"
	"strings"
	"sync"
	"testing"

	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/apdu"
	"smartpass.city/smartpass/app/card/sim"
	"smartpass.city/smartpass/app/j2k/opjtool"
	"smartpass.city/smartpass/app/jpki"
)

var (
	pkiOnce sync.Once
	pki     *sim.PKI
	pkiErr  error
)

// PKI returns the test binary's simulated JPKI.
func PKI(t testing.TB) *sim.PKI {
	t.Helper()
	pkiOnce.Do(func() { pki, pkiErr = sim.NewPKI() })
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return pki
}

// Anchors returns the trust anchors of p, revoking serials.
func Anchors(t testing.TB, p *sim.PKI, revoked ...*big.Int) jpki.Anchors {
	t.Helper()
	roots, crls, err := p.Trust(revoked...)
	if err != nil {
		t.Fatal(err)
	}
	return jpki.Anchors{Roots: roots, CRLs: crls}
}

// Verifier returns a verifier of p's anchors, revoking serials.
func Verifier(t testing.TB, p *sim.PKI, revoked ...*big.Int) *jpki.Verifier {
	t.Helper()
	v, err := Anchors(t, p, revoked...).Verifier()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Taro is a resident with every application of the card: PIN 1234,
// signature password KAGA2026.
var Taro = sim.Persona{
	Facts:        card.Facts{Name: "加賀\u3000太郎", Address: "石川県加賀市大聖寺南町ニ41", BirthDate: "19500101", Sex: "1"},
	Number:       "123456789018",
	AuthPIN:      "1234",
	SignPassword: "KAGA2026",
	// Born 1950-01-01, 昭和25年: printed 250101; card valid to 2035,
	// security code 1234.
	FaceKeyB: "25010120351234",
}

var (
	photoOnce sync.Once
	photo     []byte
	photoErr  error
)

// PhotoWidth and PhotoHeight are the synthetic portrait's size.
const PhotoWidth, PhotoHeight = 96, 120

// Photo returns a greyscale JPEG 2000 codestream of a synthetic
// PhotoWidth×PhotoHeight pattern (not a face: the card packages test the
// bytes, not recognition), made once per test binary with opj_compress.
func Photo(t testing.TB) []byte {
	t.Helper()
	photoOnce.Do(func() {
		g := image.NewGray(image.Rect(0, 0, PhotoWidth, PhotoHeight))
		for y := range PhotoHeight {
			for x := range PhotoWidth {
				g.SetGray(x, y, color.Gray{Y: uint8((x*5 + y*3 + (x*y)%23) % 256)})
			}
		}
		photo, photoErr = opjtool.Encode(context.Background(), g, 3000)
	})
	if photoErr != nil {
		t.Fatal(photoErr)
	}
	return photo
}

// WithPhoto returns p holding Photo as its card-face portrait.
func WithPhoto(t testing.TB, p sim.Persona) sim.Persona {
	p.FacePhoto = Photo(t)
	return p
}

// Card returns a simulated card of p from the test PKI. When the test
// ends, it fails the test if any command selected or read the individual
// number, or carried it.
func Card(t testing.TB, p sim.Persona) *sim.Card {
	t.Helper()
	s, err := sim.New(PKI(t), p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if len(s.Violations) > 0 {
			t.Errorf("the individual number was reached: %v", s.Violations)
		}
		for _, cmd := range s.Log {
			if bytes.Contains(cmd, []byte(p.Number)) {
				t.Errorf("a command carried the individual number: % X", cmd)
			}
		}
	})
	return s
}

// Authenticate runs a JPKI user authentication over tr as a terminal
// does (tries left, then PIN, certificate, signature of a nonce) and
// checks the result with a verifier of the test PKI. It returns the APDUs
// it took.
func Authenticate(t testing.TB, tr apdu.Transceiver, pin string) int {
	t.Helper()
	ctx := context.Background()
	n := &apdu.Counter{T: tr}
	j, err := card.OpenJPKI(ctx, card.New(n))
	if err != nil {
		t.Fatalf("open JPKI: %v", err)
	}
	if left, err := j.TriesLeft(ctx, card.AuthKey); err != nil || left < 1 {
		t.Fatalf("tries left = %d, %v", left, err)
	}
	nonce := []byte("a nonce the server issued, 32 b.")
	der, sig, err := j.Authenticate(ctx, card.AuthKey, pin, nonce)
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	cert, err := Verifier(t, PKI(t)).Certificate(der)
	if err != nil {
		t.Fatalf("the card's certificate: %v", err)
	}
	if err := jpki.Signature(cert, nonce, sig); err != nil {
		t.Fatal(err)
	}
	return n.N
}

// USB counts the transfers, both ways, on a reader's bulk pipes.
type USB struct {
	Pipe interface {
		Out(ctx context.Context, data []byte) error
		In(ctx context.Context, max int) ([]byte, error)
	}
	N int
}

// Out implements the drivers' USB.
func (u *USB) Out(ctx context.Context, data []byte) error {
	u.N++
	return u.Pipe.Out(ctx, data)
}

// In implements the drivers' USB.
func (u *USB) In(ctx context.Context, max int) ([]byte, error) {
	u.N++
	return u.Pipe.In(ctx, max)
}

// Hex decodes hexadecimal written with spaces between bytes, as the
// specifications print them; it panics on a typo in a test.
func Hex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// JPKI returns the JPKI application of a fresh card of p (Card), for
// tests that have the same card prove several things.
func JPKI(t testing.TB, p sim.Persona) *card.JPKI {
	t.Helper()
	j, err := card.OpenJPKI(context.Background(), card.New(Card(t, p)))
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// Prove has a fresh card of p sign challenge with key k after its PIN (or
// password) pin, as a resident's device does, and returns the
// certificate and the signature.
func Prove(t testing.TB, p sim.Persona, k card.Key, pin string, challenge []byte) (cert, sig []byte) {
	t.Helper()
	cert, sig, err := JPKI(t, p).Authenticate(context.Background(), k, pin, challenge)
	if err != nil {
		t.Fatal(err)
	}
	return cert, sig
}

// Verifies counts the VERIFY commands c received that carried a PIN
// (those without data only ask the tries left): how many times a PIN
// reached the card, which a screen must never retry on its own.
func Verifies(c *sim.Card) int {
	n := 0
	for _, cmd := range c.Log {
		if len(cmd) > 5 && cmd[1] == 0x20 {
			n++
		}
	}
	return n
}
