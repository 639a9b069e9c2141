// Package pass is the signed QR pass, a resident's fallback when the face
// is not recognised (a mask, poor light, a child who will not look): the
// server issues it to the account holder's phone for the holder or a
// family member, the phone shows it as a QR code, and a terminal checks it
// with no network at all, against the server's public key that reached it
// on the public feed.
//
// A pass is short-lived (Lifetime) and carries a random nonce, so a
// photographed pass is soon worthless and a terminal admits each pass
// once. It names the resident by their opaque number only: what a
// terminal may show about them is still decided by its own scope.
//
// The text is "SP1:" and the base32 of the bytes
//
//	version(1)=1 | issued unix seconds (8) | lifetime seconds (2) |
//	nonce (8) | resident length (1) | resident | Ed25519 signature (64)
//
// the signature covering a context string and every byte before it. Base32
// keeps to the QR code's alphanumeric mode, the densest for such text.
package pass

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// OpKeys publishes the server's pass keys on the public feed; its body is
// a Keys. Terminals check passes with the newest.
const OpKeys = "pass.keys"

// Keys are the public keys a pass may be signed with: the current one
// first, then ones still honoured.
type Keys struct {
	Keys []ed25519.PublicKey `json:"keys"`
}

// Lifetime is how long a pass is valid after it is issued: long enough
// to walk from the car park to the desk, short enough that a photograph
// of it is of little use.
const Lifetime = 10 * time.Minute

// Skew is how far a terminal's clock may be behind the server's when the
// pass was issued: an offline tablet's clock drifts.
const Skew = 2 * time.Minute

// Pass is what a pass says.
type Pass struct {
	Resident string
	Issued   time.Time
	Lifetime time.Duration
	Nonce    [8]byte
}

// Expires is when the pass stops being valid.
func (p Pass) Expires() time.Time { return p.Issued.Add(p.Lifetime) }

// ID names the pass: its nonce in hex, what a terminal remembers to
// admit it once.
func (p Pass) ID() string { return hex.EncodeToString(p.Nonce[:]) }

const (
	prefix  = "SP1:"
	version = 1
	domain  = "smartpass qr pass v1\x00"
	fixed   = 1 + 8 + 2 + 8 + 1 // before the resident
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Errors of Parse and Verify; a terminal shows each in its own words.
var (
	// ErrMalformed: not a pass of ours (another QR code, or damaged).
	ErrMalformed = errors.New("pass: not a Smart Pass QR code")
	// ErrSignature: not signed by a key the terminal trusts (forged, or
	// from another city's server).
	ErrSignature = errors.New("pass: signature not valid")
	// ErrExpired: the pass is past its lifetime.
	ErrExpired = errors.New("pass: expired")
	// ErrNotYet: issued after the terminal's clock by more than Skew.
	ErrNotYet = errors.New("pass: issued in the future")
)

// Issue returns a pass for resident, issued at now and signed with key.
func Issue(key ed25519.PrivateKey, resident string, now time.Time) (string, Pass, error) {
	p := Pass{Resident: resident, Issued: now.Truncate(time.Second), Lifetime: Lifetime}
	if resident == "" || len(resident) > 64 {
		return "", Pass{}, fmt.Errorf("pass: issue: resident %q", resident)
	}
	if _, err := rand.Read(p.Nonce[:]); err != nil {
		return "", Pass{}, fmt.Errorf("pass: issue: %w", err)
	}
	b := make([]byte, 0, fixed+len(resident)+ed25519.SignatureSize)
	b = append(b, version)
	b = binary.BigEndian.AppendUint64(b, uint64(p.Issued.Unix()))
	b = binary.BigEndian.AppendUint16(b, uint16(p.Lifetime/time.Second))
	b = append(b, p.Nonce[:]...)
	b = append(b, byte(len(resident)))
	b = append(b, resident...)
	b = append(b, ed25519.Sign(key, signed(b))...)
	return prefix + b32.EncodeToString(b), p, nil
}

func signed(b []byte) []byte { return append([]byte(domain), b...) }

// Signed is a parsed pass whose signature is not checked yet.
type Signed struct {
	Pass
	body, sig []byte
}

// Parse decodes the text of a QR code as a pass.
func Parse(text string) (Signed, error) {
	rest, ok := strings.CutPrefix(text, prefix)
	if !ok {
		return Signed{}, fmt.Errorf("%w: no %q prefix", ErrMalformed, prefix)
	}
	b, err := b32.DecodeString(rest)
	if err != nil {
		return Signed{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(b) < fixed+1+ed25519.SignatureSize || b[0] != version {
		return Signed{}, fmt.Errorf("%w: %d bytes", ErrMalformed, len(b))
	}
	n := int(b[fixed-1])
	if n == 0 || len(b) != fixed+n+ed25519.SignatureSize {
		return Signed{}, fmt.Errorf("%w: resident of %d bytes in %d", ErrMalformed, n, len(b))
	}
	s := Signed{body: b[:fixed+n], sig: b[fixed+n:]}
	s.Issued = time.Unix(int64(binary.BigEndian.Uint64(b[1:9])), 0)
	s.Lifetime = time.Duration(binary.BigEndian.Uint16(b[9:11])) * time.Second
	copy(s.Nonce[:], b[11:19])
	s.Resident = string(b[fixed : fixed+n])
	return s, nil
}

// Verify checks the signature against keys and the validity at now.
func (s Signed) Verify(keys Keys, now time.Time) (Pass, error) {
	trusted := false
	for _, k := range keys.Keys {
		if len(k) == ed25519.PublicKeySize && ed25519.Verify(k, signed(s.body), s.sig) {
			trusted = true
			break
		}
	}
	switch {
	case !trusted:
		return Pass{}, ErrSignature
	case now.Add(Skew).Before(s.Issued):
		return Pass{}, fmt.Errorf("%w: issued %s, now %s", ErrNotYet, s.Issued.Format(time.RFC3339), now.Format(time.RFC3339))
	case !now.Before(s.Expires()):
		return Pass{}, fmt.Errorf("%w at %s", ErrExpired, s.Expires().Format(time.RFC3339))
	}
	return s.Pass, nil
}
