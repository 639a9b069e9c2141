// Package template is a resident's face template as the op log carries it:
// an L2-normalised vector of float16 values tagged with the model that
// made it, and the facilities whose terminals may match against it. The
// face package makes templates; this package stores, checks and folds
// them, so the sync and scoping code need nothing of face recognition.
//
// Templates are read-mostly and many (a city has tens of thousands), so
// their feeds are served to a new terminal as a compacted snapshot: the
// latest op per resident, in chunks, resumable after a dropped link.
package template

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/x448/float16"

	"smartpass.city/smartpass/syncproto"
)

// Op kinds.
const (
	// OpPut stores or replaces a resident's template; its body is a
	// Template.
	OpPut = "face.template.put"
	// OpDelete removes a resident's template everywhere; its body is a
	// Delete. It stays in the snapshot as a tombstone, so a terminal that
	// held the template learns to drop it. It removes the resident's
	// Profile there too.
	OpDelete = "face.template.delete"
	// OpProfile gives one facility what it may know of a resident whose
	// face it recognises; its body is a Profile. The server writes it.
	OpProfile = "face.profile.put"
)

// Profile is what one facility's terminals may know of a resident besides
// the face, and no more (ARCHITECTURE §3): a play park, the age band and
// whether the child lives in the city; a shelter, the name, birth year and
// sex; every facility, the household, so a family is admitted or checked
// in together. It travels with the template, on the facility's template
// feed, and goes with it.
type Profile struct {
	Resident string `json:"resident"`
	Facility string `json:"facility"`
	// Household names the resident's household, opaquely.
	Household string `json:"household,omitempty"`
	// Cards are the fingerprints of the resident's user-authentication
	// certificates (jpki.Fingerprint): a card checked with its PIN at the
	// terminal is theirs.
	Cards []string `json:"cards,omitempty"`
	// Bands are the resident's age bands, each from a date on: a school
	// year's start, never the birth date. (Play park.)
	Bands []Band `json:"bands,omitempty"`
	// Local: the resident lives in the city. (Play park.)
	Local bool `json:"local,omitempty"`
	// Name, BirthYear and Sex (the card's code). (Shelter.)
	Name      string `json:"name,omitempty"`
	BirthYear int    `json:"birth_year,omitempty"`
	Sex       string `json:"sex,omitempty"`
	// Disclose: the resident agreed that people who ask in a disaster be
	// told they are safe and where (account.PurposeDisclosure). (Shelter.)
	Disclose bool `json:"disclose,omitempty"`
	// Medication: the resident agreed to share their medication history
	// with the facility's staff (account.PurposeMedication). (Hospital.)
	Medication bool `json:"medication,omitempty"`
	// Declared: the facts behind this profile (name, birth year, age
	// bands, residency) are a guardian's word, not proven by the
	// person's card: staff are shown so, and a play park grants no free
	// entry by them.
	Declared bool `json:"declared,omitempty"`
	// Pay is what a shop's till needs of a payer to take payment by face
	// while offline, and to show whose wallet pays. (Shop.)
	Pay *Pay `json:"pay,omitempty"`
}

// Pay is a payer's wallet as a shop's terminal knows it: written by the
// server again whenever the wallet moves, so a terminal that goes
// offline holds the allowance as of its last sync.
type Pay struct {
	// Name is what the till masks to show the payer whose wallet pays
	// (checkout.MaskedName): never shown whole.
	Name string `json:"name"`
	// Allowance is what the wallet may spend offline at one terminal in
	// a day: min(balance, the city's cap, a guardian's per-payment
	// limit), and 0 while it is frozen or holds recorded debt.
	Allowance int64 `json:"allowance"`
	// Blocked: frozen, deleted or in recorded debt (no offline payment).
	Blocked bool `json:"blocked,omitempty"`
	// FaceOnly is the resident's own face-only limit; nil for the
	// city's default.
	FaceOnly *int64 `json:"face_only,omitempty"`
	// PerPayment and Daily are a guardian's limits on a family member's
	// wallet (0: none): the till refuses above them before the payer
	// taps, online as offline.
	PerPayment int64 `json:"per_payment,omitempty"`
	Daily      int64 `json:"daily,omitempty"`
	// Adult, or else AdultFrom (YYYY-MM-DD, "" when unknown), confirm age
	// for 20+ items without the birth date (checkout.AgeFact).
	Adult     bool   `json:"adult,omitempty"`
	AdultFrom string `json:"adult_from,omitempty"`
}

// Band is an age band from a date on.
type Band struct {
	Band string    `json:"band"`
	From time.Time `json:"from"`
}

// BandAt returns the resident's band at time now ("" before the first).
func (p Profile) BandAt(now time.Time) string {
	band := ""
	for _, b := range p.Bands {
		if !now.Before(b.From) {
			band = b.Band
		}
	}
	return band
}

// Validate reports whether p can be stored.
func (p Profile) Validate() error {
	switch {
	case p.Resident == "" || len(p.Resident) > 64:
		return fmt.Errorf("%w: profile of resident %q", ErrInvalid, p.Resident)
	case p.Facility == "":
		return fmt.Errorf("%w: profile for no facility", ErrInvalid)
	case len(p.Bands) > 8 || len(p.Household) > 64 || len(p.Name) > 200 || len(p.Cards) > 4:
		return fmt.Errorf("%w: profile of %s too large", ErrInvalid, p.Resident)
	}
	return nil
}

// MaxDims bounds a template's length; the published face networks use
// 128 or 512.
const MaxDims = 1024

// Template is one resident's face template.
type Template struct {
	Resident   string   `json:"resident"`
	Model      string   `json:"model"`
	Facilities []string `json:"facilities"`
	// Vec holds the float16 values, little-endian, two bytes each.
	Vec []byte `json:"vec"`
	// Expires is when the face must be registered again (children's
	// faces change: account.FaceExpiry); zero for no set date.
	Expires time.Time `json:"expires,omitzero"`
}

// Expired reports whether the face must be registered again before it is
// recognised at time now.
func (t Template) Expired(now time.Time) bool {
	return !t.Expires.IsZero() && !now.Before(t.Expires)
}

// Delete removes a resident's template from the facilities' terminals.
type Delete struct {
	Resident   string   `json:"resident"`
	Facilities []string `json:"facilities"`
}

// ErrInvalid is wrapped by Validate.
var ErrInvalid = errors.New("invalid template")

// Validate reports whether d can be stored: it names a resident and the
// facilities that must forget them.
func (d Delete) Validate() error {
	if d.Resident == "" || len(d.Resident) > 64 || len(d.Facilities) == 0 {
		return fmt.Errorf("%w: a deletion names no resident or facility", ErrInvalid)
	}
	return nil
}

// Validate reports whether t can be stored.
func (t Template) Validate() error {
	switch {
	case t.Resident == "" || len(t.Resident) > 64:
		return fmt.Errorf("%w: resident %q", ErrInvalid, t.Resident)
	case t.Model == "" || len(t.Model) > 64:
		return fmt.Errorf("%w: model %q", ErrInvalid, t.Model)
	case len(t.Vec) == 0 || len(t.Vec)%2 != 0 || len(t.Vec) > 2*MaxDims:
		return fmt.Errorf("%w: vector of %d bytes", ErrInvalid, len(t.Vec))
	case len(t.Facilities) == 0:
		return fmt.Errorf("%w: no facility may use it", ErrInvalid)
	case !finite(t.Vec):
		return fmt.Errorf("%w: the vector holds NaN or an infinity", ErrInvalid)
	}
	return nil
}

// finite reports whether every float16 of a packed vector is a number:
// exponent bits all ones mean NaN or an infinity, which a terminal's
// scores cannot rank.
func finite(vec []byte) bool {
	for i := 0; i+1 < len(vec); i += 2 {
		if binary.LittleEndian.Uint16(vec[i:])&0x7C00 == 0x7C00 {
			return false
		}
	}
	return true
}

// Normalize writes src scaled to unit length into dst (of the same
// length), so the cosine of two vectors is their dot product. A zero
// vector stays zero.
func Normalize(dst, src []float32) {
	var sum float64
	for _, x := range src {
		sum += float64(x) * float64(x)
	}
	scale := float32(0)
	if sum > 0 {
		scale = float32(1 / math.Sqrt(sum))
	}
	for i, x := range src {
		dst[i] = x * scale
	}
}

// Pack normalises v to unit length and converts it to float16.
func Pack(v []float32) []byte {
	unit := make([]float32, len(v))
	Normalize(unit, v)
	out := make([]byte, 2*len(v))
	for i, x := range unit {
		binary.LittleEndian.PutUint16(out[2*i:], float16.Fromfloat32(x).Bits())
	}
	return out
}

// Unpack returns the float32 values of a packed vector.
func Unpack(b []byte) []float32 {
	out := make([]float32, len(b)/2)
	for i := range out {
		out[i] = float16.Frombits(binary.LittleEndian.Uint16(b[2*i:])).Float32()
	}
	return out
}

// Erases names the resident a template or profile op is about and
// reports whether it erases their template: the device's sync engine then
// forgets the older template and profile ops of that resident
// (synclog.Options.Erases), so a deleted face leaves no copy, and nothing
// of the person, on any terminal.
func Erases(op syncproto.Op) (resident string, erases bool) {
	if op.Kind != OpPut && op.Kind != OpDelete && op.Kind != OpProfile {
		return "", false
	}
	var r struct{ Resident string }
	if json.Unmarshal(op.Body, &r) != nil {
		return "", false
	}
	return r.Resident, op.Kind == OpDelete
}

// OpErased is what the server keeps of a template op once the resident
// deleted their face: the op's place in the log, the resident's id, no
// face data. Devices ignore it.
const OpErased = "face.template.erased"

// Redact returns what the server keeps of an erased template op
// (oplog.Erasure.Redact): kind OpErased and the resident only.
func Redact(op syncproto.Op) syncproto.Op {
	resident, _ := Erases(op)
	op.Kind = OpErased
	op.Body, _ = json.Marshal(struct {
		Resident string `json:"resident"`
	}{resident})
	return op
}
