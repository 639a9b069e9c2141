package cardsession

import (
	"context"
	"errors"

	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/apdu"
	"smartpass.city/smartpass/app/card/reader"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/syncproto"
)

// Words is what to tell the person at the reader, as text keys of the
// screens (app/ui's table): the session decides what happened, the
// screen says it in the person's language.
type Words struct {
	// Keys are text keys, best first: the screen says the first it
	// has. A server's refusal names its code in two families of keys
	// (the card's, the account's), ending with a general one.
	Keys []string
	// Part, set instead of Keys, is a part of the page's own text
	// ("wrongpin", "err.format"): each page words it for what it does
	// (a PIN, a password, a family member's PIN).
	Part string
	// Args fill the text's verbs.
	Args []any
}

// None reports whether there is nothing to say.
func (w Words) None() bool { return len(w.Keys) == 0 && w.Part == "" }

func keys(k ...string) Words { return Words{Keys: k} }

// errOther is the key for anything the person can only try again after.
const errOther = "card.err.other"

// Explain says why a step with the card, the reader or the server did
// not work, in words for the person at the reader.
func Explain(err error) Words {
	var refusal *syncproto.Error
	var noNonce NoNonceError
	var link LinkError
	switch {
	case err == nil:
		return Words{}
	case errors.As(err, &refusal):
		return keys("card.refused."+refusal.Code, "account.refused."+refusal.Code, errOther)
	case errors.As(err, &noNonce):
		return keys("card.err.server")
	case errors.Is(err, jpki.ErrUntrusted), errors.Is(err, jpki.ErrExpired), errors.Is(err, jpki.ErrRevoked),
		errors.Is(err, jpki.ErrSignature), errors.Is(err, jpki.ErrNoStatus), errors.Is(err, jpki.ErrAnchors):
		return keys("card.refused." + jpki.Code(err)) // checked offline, on this device
	case errors.As(err, &link) && errors.Is(err, card.ErrPINFormat):
		return keys("card.err.format") // the 4-digit PIN's form, whatever the page asks for
	case errors.Is(err, card.ErrPINFormat):
		return Words{Part: "err.format"}
	case errors.Is(err, reader.ErrNoCard):
		return keys("card.err.nocard")
	case errors.Is(err, reader.ErrGarbled), errors.Is(err, context.DeadlineExceeded):
		return keys("card.err.readerfail")
	case errors.Is(err, reader.ErrClassReserved), errors.Is(err, reader.ErrUnsupported):
		return keys("card.err.reader")
	}
	return keys(errOther)
}

// Proved takes how a proof with the typed PIN went: the tries left it
// reported, a PIN now blocked, and what to tell the person (nothing
// after success, or for a blocked PIN, which the page shows as a
// banner from Blocked). Nothing is retried: the person types again.
func (s *Session) Proved(err error) Words {
	var wp *apdu.WrongPINError
	var link LinkError
	wrong := errors.As(err, &wp)
	blocked := wrong && wp.Remaining == 0 || errors.Is(err, apdu.ErrPINBlocked)
	switch {
	case err == nil:
		return Words{}
	case errors.As(err, &link) && blocked:
		s.AuthTries = 0 // the 4-digit PIN's; the password still works
		return keys("card.blocked")
	case errors.As(err, &link) && wrong:
		s.AuthTries = wp.Remaining
		return Words{Keys: []string{"account.authpin.wrong"}, Args: []any{wp.Remaining}}
	case errors.As(err, &link):
		return Explain(err)
	case blocked:
		s.Blocked = true
		return Words{}
	case wrong:
		s.Tries = wp.Remaining
		return Words{Part: "wrongpin"}
	}
	return Explain(err)
}

// Refused reports whether err is the server's refusal with code.
func Refused(err error, code string) bool {
	var refusal *syncproto.Error
	return errors.As(err, &refusal) && refusal.Code == code
}

// Failed reports whether err, from a card check, is the card or the
// person failing it (a wrong or blocked PIN; a certificate untrusted,
// expired or revoked, or a signature that does not match, whether the
// server or the terminal found it), and not the reader, the network or
// a server unable to check: a payment's second factor counts only a
// failure as one of its tries, since the person can do nothing about
// the rest.
func Failed(err error) bool {
	var wp *apdu.WrongPINError
	var refusal *syncproto.Error
	switch {
	case err == nil:
		return false
	case errors.As(err, &wp), errors.Is(err, apdu.ErrPINBlocked),
		errors.Is(err, jpki.ErrUntrusted), errors.Is(err, jpki.ErrExpired), errors.Is(err, jpki.ErrRevoked), errors.Is(err, jpki.ErrSignature):
		return true
	case errors.As(err, &refusal):
		switch refusal.Code {
		case syncproto.CodeCardUntrusted, syncproto.CodeCardExpired, syncproto.CodeCardRevoked, syncproto.CodeCardSignature:
			return true
		}
	}
	return false
}
