// Package cardsession takes one My Number Card on a USB reader through
// its PIN, apart from any screen: it connects and reads the tries left
// (using none), takes the PIN the person typed and forgets it, sends it
// to the card once and never again on its own, has the card prove what
// the page needs (a card check, an account's signature, a family
// member's four facts), and says what went wrong in the screens' words.
// The card check, account and desk pages of app/ui draw a Session and
// dispatch to it; every decision here is plain Go, tested natively over
// the simulated card.
package cardsession

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/apdu"
	"smartpass.city/smartpass/app/card/onestop"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/syncproto"
)

// Reader connects to a USB card reader with a card on it (wasm/webusb).
type Reader interface {
	Connect(ctx context.Context) (apdu.Transceiver, error)
}

// Nonces is the server's source of fresh nonces for a card to sign.
type Nonces interface {
	CardNonce(ctx context.Context) ([]byte, error)
}

// App is what a session opens on the card, and with which PIN.
type App int

const (
	// Auth is the JPKI user-authentication key, with the 4-digit PIN: a
	// card check at a facility.
	Auth App = iota
	// Sign is the JPKI signature key, with the signature password; the
	// 4-digit PIN's tries are read too, since opening an account may
	// link the card with it.
	Sign
	// Info is the card-info application (券面事項入力補助AP), with its
	// 4-digit PIN: the four facts of a family member or of a resident
	// at a city desk.
	Info
	// OneStop is the one-stop application (ワンストップ特例): the
	// card-info application with its 4-digit PIN reads the four facts
	// and the individual number (app/card/onestop, the one path that may
	// read it), then the JPKI signature key signs the application with
	// the signature password.
	OneStop
)

// ErrNoCard is returned for a proof asked of a session with no card
// application open: the page let a button through before connecting.
var ErrNoCard = errors.New("cardsession: no card connected")

// NoNonceError is the server giving no nonce: the PIN was not sent, so
// no try was used for nothing.
type NoNonceError struct{ Err error }

func (e NoNonceError) Error() string {
	return "cardsession: no nonce from the server: " + e.Err.Error()
}
func (e NoNonceError) Unwrap() error { return e.Err }

// LinkError is a failure of the 4-digit PIN's step while opening an
// account (the card link): its tries are not the signature password's.
type LinkError struct{ Err error }

func (e LinkError) Error() string { return "cardsession: the card link: " + e.Err.Error() }
func (e LinkError) Unwrap() error { return e.Err }

// Session is one card on the reader as a page takes it through its PIN.
// Its methods that talk to the card run off the UI goroutine; what they
// return to apply, and every field, belong to the UI goroutine.
type Session struct {
	app App

	// PIN and AuthPIN are what the person typed (AuthPIN: the 4-digit
	// PIN that links the card while opening an account). Take forgets
	// them.
	PIN, AuthPIN string
	// SignPassword is the signature password of a OneStop session (its PIN
	// is the card-info application's); Take forgets it too.
	SignPassword string
	// SignTries are the signature password's tries left, for a OneStop
	// session (-1: not read; 0: blocked).
	SignTries int
	// Tries are the tries left of the session's PIN (-1: not read yet);
	// AuthTries those of the 4-digit PIN for a Sign session (0: blocked,
	// so the card cannot be linked now; -1: not read).
	Tries, AuthTries int
	// Blocked is set once the card said the session's PIN is blocked.
	Blocked bool

	conn  apdu.Transceiver
	apdus *apdu.Counter
	jpki  *card.JPKI
	info  *card.CardInfo
}

// New returns a session that opens app, with no card yet.
func New(app App) *Session {
	s := &Session{app: app}
	s.Reset()
	return s
}

// App is what the session opens.
func (s *Session) App() App { return s.app }

// Reset forgets the card on the reader and anything typed, for the next
// card.
func (s *Session) Reset() {
	s.conn, s.apdus, s.jpki, s.info = nil, nil, nil, nil
	s.Tries, s.AuthTries, s.Blocked, s.PIN, s.AuthPIN = -1, -1, false, "", ""
	s.SignPassword, s.SignTries = "", -1
}

// Connected reports whether the card's application is open.
func (s *Session) Connected() bool { return s.jpki != nil || s.info != nil }

// pinKey is the form the session's PIN takes: the card-info PIN has the
// user-authentication PIN's four digits.
func (s *Session) pinKey() card.Key {
	if s.app == Sign {
		return card.SignKey
	}
	return card.AuthKey
}

// Password reports whether the session's PIN is the signature password
// (capital letters and digits), not four digits.
func (s *Session) Password() bool { return s.app == Sign }

// Counts are the APDUs and USB transfers since the reader was connected
// (USB transfers when the connection counts them).
func (s *Session) Counts() (apdus, usb int) {
	if s.apdus != nil {
		apdus = s.apdus.N
	}
	if t, ok := s.conn.(interface{ Transfers() int }); ok {
		usb = t.Transfers()
	}
	return apdus, usb
}

// Connect reaches the reader, opens the session's application and reads
// its PIN's tries left, using none. It runs off the UI goroutine and
// changes nothing; the function it returns applies what it found on the
// UI goroutine and returns the error to tell the person (nil for a
// blocked PIN: Blocked says so).
func (s *Session) Connect(ctx context.Context, r Reader) func() error {
	var (
		conn      apdu.Transceiver
		counter   *apdu.Counter
		j         *card.JPKI
		ci        *card.CardInfo
		authTries = -1
		tries     int
		signTries = -1
	)
	err := func() error {
		var err error
		if conn, err = r.Connect(ctx); err != nil {
			return err
		}
		counter = &apdu.Counter{T: conn}
		if s.app == OneStop { // the signature password's tries, shown too
			if j, err = card.OpenJPKI(ctx, card.New(counter)); err != nil {
				return err
			}
			if signTries, err = j.TriesLeft(ctx, card.SignKey); errors.Is(err, apdu.ErrPINBlocked) {
				signTries = 0
			} else if err != nil {
				return err
			}
		}
		if s.app == Info || s.app == OneStop {
			if ci, err = card.OpenCardInfo(ctx, card.New(counter)); err != nil {
				return err
			}
			tries, err = ci.TriesLeft(ctx)
			return err
		}
		if j, err = card.OpenJPKI(ctx, card.New(counter)); err != nil {
			return err
		}
		if s.app == Sign { // the 4-digit PIN that links the card, shown too
			if authTries, err = j.TriesLeft(ctx, card.AuthKey); errors.Is(err, apdu.ErrPINBlocked) {
				authTries = 0
			} else if err != nil {
				return err
			}
		}
		tries, err = j.TriesLeft(ctx, s.pinKey())
		return err
	}()
	return func() error {
		s.conn, s.apdus = conn, counter
		if errors.Is(err, apdu.ErrPINBlocked) {
			s.jpki, s.info, s.Blocked = j, ci, true
			return nil
		}
		if err != nil {
			return fmt.Errorf("cardsession: connect: %w", err)
		}
		s.jpki, s.info, s.Tries, s.AuthTries, s.SignTries = j, ci, tries, authTries, signTries
		return nil
	}
}

// Typed is what the person typed, taken from the session once: each PIN
// in it goes to the card at most once.
type Typed struct {
	PIN, AuthPIN string
	Password     string // a OneStop session's signature password
}

// Take returns what the person typed and forgets it, whatever happens
// next: a PIN is sent only when the person pressed the button, and a
// failure never sends it again. A PIN that cannot be right is refused
// here, before the card sees it (an AuthPIN's refusal is a LinkError).
func (s *Session) Take() (Typed, error) {
	t := Typed{PIN: s.PIN, AuthPIN: s.AuthPIN, Password: s.SignPassword}
	s.PIN, s.AuthPIN, s.SignPassword = "", "", ""
	if err := card.CheckPINFormat(s.pinKey(), t.PIN); err != nil {
		return Typed{}, err
	}
	if s.app == OneStop {
		if err := card.CheckPINFormat(card.SignKey, t.Password); err != nil {
			return Typed{}, err
		}
	}
	if s.app == Sign && t.AuthPIN != "" {
		if err := card.CheckPINFormat(card.AuthKey, t.AuthPIN); err != nil {
			return Typed{}, LinkError{err}
		}
	}
	return t, nil
}

// Proof is a card's answer to a check: its user-authentication
// certificate and its signature of Nonce. Offline is set when the
// server could not be reached and the nonce was made on the device, to
// be checked against the published trust anchors.
type Proof struct {
	Nonce, Cert, Sig []byte
	Offline          bool
}

// Check has an Auth session's card prove it holds its key, with the
// typed PIN sent once: it signs a nonce of the server. When the server
// cannot be reached and canOffline (the device holds the server's trust
// anchors), the nonce is made here and the proof is marked Offline. A
// server that answered with a refusal, or cannot be reached by a device
// without anchors, gets no PIN sent (NoNonceError).
func (s *Session) Check(ctx context.Context, n Nonces, t Typed, canOffline bool) (Proof, error) {
	if s.jpki == nil {
		return Proof{}, ErrNoCard
	}
	nonce, offline, err := Nonce(ctx, n, canOffline)
	if err != nil {
		return Proof{}, err
	}
	cert, sig, err := s.jpki.Authenticate(ctx, card.AuthKey, t.PIN, nonce)
	if err != nil {
		return Proof{}, fmt.Errorf("cardsession: check: %w", err)
	}
	return Proof{Nonce: nonce, Cert: cert, Sig: sig, Offline: offline}, nil
}

// Nonce asks the server for a nonce; when it cannot be reached (an
// error other than its refusal) and canOffline, it makes one here
// instead and says so (offline).
func Nonce(ctx context.Context, n Nonces, canOffline bool) (nonce []byte, offline bool, err error) {
	nonce, err = n.CardNonce(ctx)
	var refusal *syncproto.Error
	switch {
	case err == nil:
		return nonce, false, nil
	case !canOffline || errors.As(err, &refusal):
		return nil, false, NoNonceError{err}
	}
	nonce = make([]byte, jpki.NonceLen)
	if _, err := rand.Read(nonce); err != nil {
		return nil, false, fmt.Errorf("cardsession: a nonce: %w", err)
	}
	return nonce, true, nil
}

// Account has a Sign session's card sign the server's nonce bound to
// key (this device's account key) with the signature password, for the
// server to open or recover the account. With an AuthPIN typed, the
// card's user-authentication key first signs a second nonce, so the
// server links the card to the account (its failure is a LinkError).
func (s *Session) Account(ctx context.Context, n Nonces, t Typed, key []byte) (account.Request, error) {
	if s.jpki == nil {
		return account.Request{}, ErrNoCard
	}
	var link *account.CardLink
	if t.AuthPIN != "" {
		var err error
		if link, err = cardLink(ctx, n, s.jpki, t.AuthPIN, key); err != nil {
			return account.Request{}, LinkError{err}
		}
	}
	nonce, err := n.CardNonce(ctx)
	if err != nil {
		return account.Request{}, NoNonceError{err}
	}
	cert, sig, err := s.jpki.Authenticate(ctx, card.SignKey, t.PIN, account.Challenge(nonce, key))
	if err != nil {
		return account.Request{}, fmt.Errorf("cardsession: the account's signature: %w", err)
	}
	return account.Request{Nonce: nonce, Cert: cert, Sig: sig, Key: key, Link: link}, nil
}

// Member presents an Info session's typed PIN once to the card-info
// application and reads the four facts, and nothing else. With key (a
// guardian's household, not a city desk, where staff check the person),
// key is called for the account's device key and the same PIN, typed
// once by the member, then goes once to the card's user-authentication
// key, which signs a fresh server nonce: the proof that the card and
// its holder were there, which links the card to the member. (Most
// cards carry the same number for both; a card whose PINs differ says
// "wrong PIN" with its tries, and nothing is retried.)
func (s *Session) Member(ctx context.Context, n Nonces, t Typed, key func(context.Context) ([]byte, error)) (card.Facts, *account.CardLink, error) {
	if s.info == nil {
		return card.Facts{}, nil, ErrNoCard
	}
	if err := s.info.Verify(ctx, t.PIN); err != nil {
		return card.Facts{}, nil, err
	}
	f, err := s.info.BasicFour(ctx)
	if err != nil || key == nil {
		return f, nil, err
	}
	k, err := key(ctx)
	if err != nil {
		return f, nil, err
	}
	j, err := card.OpenJPKI(ctx, card.New(s.apdus))
	if err != nil {
		return f, nil, err
	}
	link, err := cardLink(ctx, n, j, t.PIN, k)
	return f, link, err
}

// cardLink has the card's user-authentication key sign, after the
// 4-digit pin (sent once), a fresh server nonce bound to the account's
// device key: the proof the server links the card by.
func cardLink(ctx context.Context, n Nonces, j *card.JPKI, pin string, key []byte) (*account.CardLink, error) {
	nonce, err := n.CardNonce(ctx)
	if err != nil {
		return nil, NoNonceError{err}
	}
	cert, sig, err := j.Authenticate(ctx, card.AuthKey, pin, account.LinkChallenge(nonce, key))
	if err != nil {
		return nil, err
	}
	return &account.CardLink{Nonce: nonce, Cert: cert, Sig: sig}, nil
}

// Signed is a OneStop session's application: what the card-info
// application read (the four facts and the individual number) and the
// signature key's signature of the application over a server nonce.
type Signed struct {
	Read             onestop.Read
	Nonce, Cert, Sig []byte
}

// Application has a OneStop session's card read the four facts and the
// individual number with t.PIN, sent once (onestop.ReadCard), then asks
// message for what to sign over a fresh server nonce (the form filled
// from what was read), and has the signature key sign it with
// t.Password, sent once. Nothing is retried; the number stays in the
// returned Read (masked when printed).
func (s *Session) Application(ctx context.Context, n Nonces, t Typed, message func(nonce []byte, r onestop.Read) ([]byte, error)) (Signed, error) {
	if s.info == nil || s.app != OneStop {
		return Signed{}, ErrNoCard
	}
	c := card.New(s.apdus)
	read, err := onestop.ReadCard(ctx, c, t.PIN)
	if err != nil {
		return Signed{}, fmt.Errorf("cardsession: the card-info read: %w", err)
	}
	nonce, err := n.CardNonce(ctx)
	if err != nil {
		return Signed{}, NoNonceError{err}
	}
	msg, err := message(nonce, read)
	if err != nil {
		return Signed{}, err
	}
	j, err := card.OpenJPKI(ctx, c)
	if err != nil {
		return Signed{}, fmt.Errorf("cardsession: the signature key: %w", err)
	}
	cert, sig, err := j.Authenticate(ctx, card.SignKey, t.Password, msg)
	if err != nil {
		return Signed{}, fmt.Errorf("cardsession: the application's signature: %w", err)
	}
	return Signed{Read: read, Nonce: nonce, Cert: cert, Sig: sig}, nil
}
