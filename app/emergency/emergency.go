// Package emergency decides an emergency department's identification of
// a patient who cannot consent (unconscious, brought in by ambulance):
// the only basis is protection of life, so it is narrow by design. Staff
// must give a reason before anything is matched; the face is matched
// without the turn check (the patient cannot turn) under the emergency
// rule of package risk, which is stricter than reception's; a match that
// is not clear names nobody; and what is shown is a fixed summary
// (allergies, current medication, conditions, the emergency contact),
// nothing else, for a limited time. Every use is recorded (OpUse): the
// audit lists it for review and the guardian is told in their account.
package emergency

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"smartpass.city/smartpass/app/face/gallery"
	"smartpass.city/smartpass/app/face/risk"
)

// Outcomes of an identification.
const (
	// Identified: one patient, named.
	Identified = "identified"
	// NotIdentified: nobody close enough; the screen says only that.
	NotIdentified = "not_identified"
	// Unclear: two candidates too close to tell apart; nobody named.
	Unclear = "unclear"
	// Proposed: one candidate clears the rule, but the rule does not let
	// the face alone decide; nobody is named until the card or a second
	// member of staff confirms.
	Proposed = "proposed"
)

// What the screen offers next when nobody is named.
const (
	NextFrame  = "frame"  // try another frame
	NextCard   = "card"   // read the patient's My Number Card
	NextSecond = "second" // a second member of staff confirms
)

// Errors.
var (
	// ErrNoReason: an emergency lookup without a reason is refused before
	// any matching.
	ErrNoReason = errors.New("emergency: a reason is required")
	// ErrConfirm: a confirmation that does not meet its rule.
	ErrConfirm = errors.New("emergency: confirmation refused")
)

// MaxReason bounds a reason's characters.
const MaxReason = 200

// Decision is the screen's answer to one frame.
type Decision struct {
	Outcome string
	// Resident is named only when Identified.
	Resident string
	// Next are what the screen offers when nobody is named.
	Next []string
	// Policy is the rule applied (the gallery's size decides it).
	Policy risk.Policy
	// Score is the best match's, for the record.
	Score float32
	// candidate is the one a confirmation would name (Proposed only);
	// never shown before it.
	candidate string
}

// Reason checks staff's reason: required, and bounded.
func Reason(reason string) (string, error) {
	r := strings.TrimSpace(reason)
	switch {
	case r == "":
		return "", ErrNoReason
	case utf8.RuneCountInString(r) > MaxReason:
		return "", fmt.Errorf("%w: at most %d characters", ErrNoReason, MaxReason)
	}
	return r, nil
}

// Decide judges one frame's best matches (gallery.TopK with k ≥ 2)
// against a gallery of n templates made by the network model (the
// rule is read off its basis: risk.ForKind), for staff who gave reason.
// Without a reason it refuses before anything else (ErrNoReason).
func Decide(top []gallery.Match, model string, n int, reason string) (Decision, error) {
	if _, err := Reason(reason); err != nil {
		return Decision{}, err
	}
	p := risk.ForKind(model, risk.HospitalEmergency, n)
	d := Decision{Policy: p}
	if len(top) > 0 {
		d.Score = top[0].Score
	}
	g := p.Decision.Decide(top)
	switch {
	case g.Reason == "ambiguous":
		// Look-alikes (siblings, twins): a second member of staff cannot
		// tell them apart either, so only a new frame or the card can.
		d.Outcome, d.Next = Unclear, []string{NextFrame, NextCard}
	case !g.Accepted:
		d.Outcome, d.Next = NotIdentified, []string{NextFrame, NextCard}
	case p.SecondFactor == risk.Always:
		d.Outcome, d.Next, d.candidate = Proposed, []string{NextCard, NextSecond, NextFrame}, g.ID
	default:
		d.Outcome, d.Resident = Identified, g.ID
	}
	return d, nil
}

// ConfirmBySecond is a second member of staff confirming a proposed
// match: both named, not the same person. It names the candidate.
func ConfirmBySecond(d Decision, first, second string) (Decision, error) {
	switch {
	case d.Outcome != Proposed || d.candidate == "":
		return d, fmt.Errorf("%w: nothing proposed to confirm", ErrConfirm)
	case first == "" || second == "" || first == second:
		return d, fmt.Errorf("%w: a second member of staff, not the first, confirms", ErrConfirm)
	}
	d.Outcome, d.Resident, d.Next = Identified, d.candidate, nil
	return d, nil
}

// ConfirmByCard identifies the holder of the card read (the terminal's
// CardHolder for this facility; "" when none or several). When a face
// proposed someone else, the card wins but the two disagreeing is
// reported (conflict), for staff to look again.
func ConfirmByCard(d Decision, holder string) (out Decision, conflict bool, err error) {
	if holder == "" {
		return d, false, fmt.Errorf("%w: the card names nobody registered here", ErrConfirm)
	}
	conflict = d.Outcome == Proposed && d.candidate != holder
	d.Outcome, d.Resident, d.Next = Identified, holder, nil
	return d, conflict, nil
}
