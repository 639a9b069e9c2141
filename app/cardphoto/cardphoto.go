// Package cardphoto takes a person through the card-face check at a
// terminal, apart from any screen: 照合番号B typed once and checked for
// form before anything is sent, the card's photo read with it (package
// card) and turned into a face template by the caller's decoder and face
// pipeline, then the live face compared 1:1 with it (package
// face/cardmatch). It says what went wrong in the screens' words, and
// decides what the terminal does with an accepted person.
//
// It is for a person with a card but no registered face and no PIN: the
// 1:1 check shows the person is the card's. The photo is never kept: its
// bytes are overwritten once its template is made, the template is
// dropped when the check ends, and only the outcome and the score are
// recorded (identify.MethodCardFace).
package cardphoto

import (
	"context"
	"errors"
	"fmt"
	"image"
	"strconv"
	"time"

	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/apdu"
	"smartpass.city/smartpass/app/cardsession"
	"smartpass.city/smartpass/app/face/cardmatch"
	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/j2k"
	"smartpass.city/smartpass/app/jpki"
)

// Step is where a check is.
type Step int

// The steps of a check, in order.
const (
	// Idle: no check under way.
	Idle Step = iota
	// Key: waiting for 照合番号B.
	Key
	// Reading: the card's photo is being read and made a template.
	Reading
	// Live: waiting for the live face, with the head-turn check.
	Live
	// Done: the outcome is known (or the check cannot go on: Failed).
	Done
)

// Errors of the photo's own steps (the card's are package card's).
var (
	// ErrNoDecoder: this device cannot decode JPEG 2000 (the codec did
	// not load).
	ErrNoDecoder = errors.New("cardphoto: no JPEG 2000 decoder on this device")
	// ErrNoFace: the card's photo decoded, but the face pipeline found
	// no face in it.
	ErrNoFace = errors.New("cardphoto: no face found in the card's photo")
)

// Decoder decodes the card's JPEG 2000 photo within lim into grey pixels
// (wasm/j2kcodec in the browser).
type Decoder interface {
	Decode(ctx context.Context, data []byte, lim j2k.Limits) (*image.Gray, error)
}

// Embedder makes a face template of a still image (the terminal's face
// pipeline).
type Embedder func(img image.Image) ([]float32, error)

// Photo is what the card gave, as a template: the photo's bytes are
// gone once it is made.
type Photo struct {
	// Fingerprint is the card's user-authentication certificate's
	// (jpki.Fingerprint), read without a PIN as the card gives it to
	// anyone: it finds the resident a facility's profile lists with
	// this card, as the card path does.
	Fingerprint string
	// BirthYear and Sex are the card-face data's (DF22, DF23), for a
	// shelter record of a person the terminal has no profile of.
	BirthYear int
	Sex       string
	// Template is the photo's face template.
	Template []float32
	// Signed is whether the card's signature over its face data was
	// verified: never, today (card.FaceData.Signed).
	Signed bool
	// Decode and Embed are the times the two steps took, for the
	// README's figures (the screen shows them to the e2e test).
	Decode, Embed time.Duration
}

// Read reads the card on r with 照合番号B key and makes its photo a
// template, off the UI goroutine: the key's form is checked before the
// reader is reached (card.ErrKeyBFormat), the key is presented once and
// never again on its own (a wrong one is *apdu.WrongPINError with the
// tries left), and the photo's bytes are overwritten before Read
// returns, whatever happens.
func Read(ctx context.Context, r cardsession.Reader, key string, dec Decoder, emb Embedder) (Photo, error) {
	if err := card.CheckKeyBFormat(key); err != nil {
		return Photo{}, err
	}
	if dec == nil {
		return Photo{}, ErrNoDecoder
	}
	conn, err := r.Connect(ctx)
	if err != nil {
		return Photo{}, fmt.Errorf("cardphoto: connect: %w", err)
	}
	c := card.New(conn)
	var out Photo
	// The card-face application first: an old card without one is told
	// before anything else is read.
	cf, err := card.OpenCardFace(ctx, c)
	if err != nil {
		return Photo{}, err
	}
	if err := cf.VerifyKeyB(ctx, key); err != nil {
		return Photo{}, err
	}
	data, err := cf.Read(ctx)
	defer data.Clear()
	if err != nil {
		return Photo{}, err
	}
	out.BirthYear, out.Sex, out.Signed = birthYear(data.Birth), data.Sex, data.Signed
	j, err := card.OpenJPKI(ctx, c)
	if err != nil {
		return Photo{}, err
	}
	der, err := j.Certificate(ctx, card.EFAuthCert)
	if err != nil {
		return Photo{}, err
	}
	out.Fingerprint = jpki.Fingerprint(der)
	start := time.Now()
	g, err := dec.Decode(ctx, data.Photo, card.PhotoLimits)
	if err != nil {
		return Photo{}, decodeError{err}
	}
	defer clear(g.Pix)
	decoded := time.Now()
	out.Template, err = emb(g)
	if err != nil {
		return Photo{}, fmt.Errorf("%w: %w", ErrNoFace, err)
	}
	out.Decode, out.Embed = decoded.Sub(start), time.Since(decoded)
	return out, nil
}

// birthYear is the year of the card-face data's birth date, 0 when it
// is not one. The field is printed as the certificate's EYYYYMMDD (the
// era digit, then the Gregorian date) on some cards and YYYYMMDD on
// others; both are read.
func birthYear(s string) int {
	if len(s) == 9 {
		s = s[1:]
	}
	if len(s) != 8 {
		return 0
	}
	y, err := strconv.Atoi(s[:4])
	if err != nil || y < 1850 {
		return 0
	}
	return y
}

// Check is one card-face check as a screen takes a person through it.
// Its fields belong to the UI goroutine.
type Check struct {
	Step Step
	// KeyB is what the person typed; Take forgets it.
	KeyB string
	// Tries are the tries left on 照合番号B the card reported after a
	// wrong one (-1: not known).
	Tries int
	// Words says what went wrong, or what staff should do now.
	Words cardsession.Words
	// Outcome and Score are the 1:1 check's, once Done: Accepted,
	// Unknown (refused), Flat (the turn check saw a picture), or ""
	// when the check could not be made (Words says why).
	Outcome string
	Score   float32
	// Photo is the card's, while the check needs it.
	Photo Photo
}

// Start begins a check: the screen asks for 照合番号B.
func (c *Check) Start() {
	c.End()
	c.Step, c.Tries = Key, -1
}

// End forgets everything of the check: the photo's template, the key,
// the outcome.
func (c *Check) End() {
	clear(c.Photo.Template)
	*c = Check{Tries: -1}
}

// Take returns the key the person typed and forgets it. false when it
// cannot be right (Words says so; nothing is sent) or the check is not
// waiting for it; on true the check is Reading.
func (c *Check) Take() (string, bool) {
	key := c.KeyB
	c.KeyB = ""
	if c.Step != Key {
		return "", false
	}
	if err := card.CheckKeyBFormat(key); err != nil {
		c.Words = Explain(err)
		return "", false
	}
	c.Step, c.Words = Reading, cardsession.Words{}
	return key, true
}

// Read applies what Read gave: on success the check waits for the live
// face; a wrong key goes back to the key with the tries left (the
// person types again; nothing here does); anything else ends the check
// with words for staff.
func (c *Check) Read(p Photo, err error) {
	var wp *apdu.WrongPINError
	switch {
	case err == nil:
		c.Photo, c.Step, c.Words = p, Live, cardsession.Words{}
	case errors.As(err, &wp) && wp.Remaining > 0:
		c.Step, c.Tries, c.Words = Key, wp.Remaining, Explain(err)
	case errors.Is(err, card.ErrKeyBFormat):
		c.Step, c.Words = Key, Explain(err)
	default:
		if errors.As(err, &wp) {
			c.Tries = 0
		}
		c.Step, c.Words = Done, Explain(err)
	}
}

// Compare compares the live face's embedding (after the turn check)
// with the card photo's, both made by the network model
// (cardmatch.Check: another network than the one the threshold was
// measured on accepts nothing), ends the check's use of the photo and returns
// the identification to record: the outcome and the score, naming
// nobody, as identify.MethodCardFace asks.
func (c *Check) Compare(model string, live []float32) identify.Identification {
	o := cardmatch.Check(model, live, c.Photo.Template)
	clear(c.Photo.Template)
	c.Photo.Template = nil
	c.Step, c.Score = Done, o.Score
	c.Outcome, c.Words = identify.Unknown, cardsession.Words{Keys: []string{"cardface.refused"}}
	if o.Accepted {
		c.Outcome, c.Words = identify.Accepted, cardsession.Words{}
	}
	return identify.Identification{Method: identify.MethodCardFace, Outcome: c.Outcome, Score: o.Score}
}

// Flat ends the check when the turn check saw a picture held up.
func (c *Check) Flat() identify.Identification {
	clear(c.Photo.Template)
	c.Photo.Template = nil
	c.Step, c.Outcome, c.Words = Done, identify.Flat, cardsession.Words{Keys: []string{"cardface.flat"}}
	return identify.Identification{Method: identify.MethodCardFace, Outcome: identify.Flat}
}

// Explain says why a step of the check did not work, as text keys of
// the screens: a key of the wrong form (never sent), a wrong key with
// the tries the card reports, a blocked key, an old card, a photo that
// cannot be read; the reader's troubles in the card pages' words. Every
// refusal ends in the same advice to staff: check by sight.
func Explain(err error) cardsession.Words {
	var wp *apdu.WrongPINError
	switch {
	case err == nil:
		return cardsession.Words{}
	case errors.Is(err, card.ErrKeyBFormat):
		return cardsession.Words{Keys: []string{"cardface.err.format"}}
	case errors.As(err, &wp) && wp.Remaining > 0:
		return cardsession.Words{Keys: []string{"cardface.err.wrong"}, Args: []any{wp.Remaining}}
	case errors.As(err, &wp), errors.Is(err, apdu.ErrPINBlocked):
		return cardsession.Words{Keys: []string{"cardface.err.blocked"}}
	case errors.Is(err, card.ErrNoCardFace):
		return cardsession.Words{Keys: []string{"cardface.err.old"}}
	case errors.Is(err, ErrNoDecoder):
		return cardsession.Words{Keys: []string{"cardface.err.decoder"}}
	case errors.Is(err, card.ErrCardFaceData), errors.Is(err, card.ErrCardFaceTooLarge), errors.Is(err, ErrNoFace),
		errors.Is(err, j2k.ErrNotJPEG2000), errors.Is(err, j2k.ErrTooLarge), isDecode(err):
		return cardsession.Words{Keys: []string{"cardface.err.photo"}}
	}
	return cardsession.Explain(err)
}

// isDecode reports whether err came from the photo's decoder (Read
// wraps every decoder failure so).
func isDecode(err error) bool {
	var d decodeError
	return errors.As(err, &d)
}

// decodeError marks a decoder's failure.
type decodeError struct{ err error }

func (e decodeError) Error() string { return "cardphoto: decode the photo: " + e.err.Error() }
func (e decodeError) Unwrap() error { return e.err }
