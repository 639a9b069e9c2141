// Package kiosk is the lock that keeps a facility's tablet on its screen:
// staff set a PIN, the tablet goes full screen without its navigation,
// and only the PIN brings them back. It guards against a passer-by, not a
// thief with the tablet's storage: the PIN is kept as a slow salted hash,
// and wrong guesses soon make the tablet wait.
package kiosk

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"
)

// Lock is the kiosk lock as the tablet keeps it.
type Lock struct {
	Salt []byte `json:"salt"`
	Hash []byte `json:"hash"`
}

// Errors of New and Guard.Try.
var (
	ErrPIN    = errors.New("kiosk: the PIN must be 4 to 8 digits")
	ErrWrong  = errors.New("kiosk: wrong PIN")
	ErrLocked = errors.New("kiosk: too many wrong PINs")
)

// iterations makes each guess cost a few milliseconds even here.
const iterations = 20000

func hash(pin string, salt []byte) []byte {
	k, _ := pbkdf2.Key(sha256.New, pin, salt, iterations, 32)
	return k
}

// New returns the lock of pin.
func New(pin string) (Lock, error) {
	if len(pin) < 4 || len(pin) > 8 {
		return Lock{}, ErrPIN
	}
	for _, r := range pin {
		if r < '0' || r > '9' {
			return Lock{}, ErrPIN
		}
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return Lock{}, err
	}
	return Lock{Salt: salt, Hash: hash(pin, salt)}, nil
}

// Opens reports whether pin is the lock's.
func (l Lock) Opens(pin string) bool {
	return len(l.Hash) > 0 && subtle.ConstantTimeCompare(hash(pin, l.Salt), l.Hash) == 1
}

// MaxTries is how many wrong PINs in a row are allowed before the tablet
// makes staff wait Wait.
const (
	MaxTries = 5
	Wait     = time.Minute
)

// Guard counts wrong PINs in a row.
type Guard struct {
	fails int
	until time.Time
}

// Try checks pin against l at now: nil when it opens, ErrWrong (with the
// tries left), or ErrLocked while the tablet makes staff wait.
func (g *Guard) Try(l Lock, pin string, now time.Time) error {
	if now.Before(g.until) {
		return fmt.Errorf("%w: wait %s", ErrLocked, g.until.Sub(now).Round(time.Second))
	}
	if l.Opens(pin) {
		g.fails = 0
		return nil
	}
	g.fails++
	if g.fails >= MaxTries {
		g.fails, g.until = 0, now.Add(Wait)
		return fmt.Errorf("%w: wait %s", ErrLocked, Wait)
	}
	return fmt.Errorf("%w: %d tries left", ErrWrong, MaxTries-g.fails)
}
