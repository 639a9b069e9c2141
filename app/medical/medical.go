// Package medical is a patient's medical history across hospitals, kept
// by the pass only with the patient's prior consent (要配慮個人情報:
// opt-in, never opt-out): which kinds of data each hospital publishes,
// each consent (per patient, hospital and kind, time-limited and
// revocable), the visit summaries hospitals publish into the patient's
// record (JP Core documents), and every access to them, which the
// patient sees in their account page.
//
// A summary travels to no device: the server keeps it and answers a
// consented hospital's request through View, which also says what to
// record of the access. So a revoked or expired consent stops the next
// view at once, with nothing left on a tablet to forget.
package medical

import (
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"
)

// Op kinds.
const (
	// OpPublish says which kinds of data a hospital exchanges; body
	// Publish. The last one folded per hospital holds.
	OpPublish = "medical.publish"
	// OpConsent is a patient's (or their guardian's) consent; body
	// Consent.
	OpConsent = "medical.consent"
	// OpRevoke withdraws a consent; body Revoke.
	OpRevoke = "medical.consent.revoke"
	// OpSummary is a visit summary a hospital publishes into a patient's
	// record; body Summary.
	OpSummary = "medical.summary"
	// OpAccess is one view of a patient's history by a hospital; body
	// Access.
	OpAccess = "medical.access"
)

// The kinds of data a patient consents to each on its own.
const (
	Medication = "medication"
	Conditions = "conditions"
	Allergies  = "allergies"
	Checkups   = "checkups"
)

// Kinds lists the data kinds, in the order screens show them.
var Kinds = []string{Medication, Conditions, Allergies, Checkups}

// KindNames are the kinds' names on screen, Japanese first.
var KindNames = map[string][2]string{
	Medication: {"お薬", "Medication"},
	Conditions: {"持病・既往歴", "Conditions"},
	Allergies:  {"アレルギー", "Allergies"},
	Checkups:   {"健診結果", "Check-ups"},
}

// MaxConsent is the longest a consent lasts before the patient gives it
// again: a year, so nobody's history stays open by a choice they forgot.
const MaxConsent = 366 * 24 * time.Hour

// Errors, each wrapped with what it concerns.
var (
	// ErrInvalid: a record that breaks its own rules.
	ErrInvalid = errors.New("medical: invalid record")
	// ErrNotPublished: consent for a kind the hospital does not exchange.
	ErrNotPublished = errors.New("medical: the hospital does not exchange this kind")
	// ErrNoConsent: a view without a consent in force.
	ErrNoConsent = errors.New("medical: no consent in force")
	// ErrOtherPatient: a summary whose document is about someone else.
	ErrOtherPatient = errors.New("medical: a document for another patient")
)

// Publish is the kinds a hospital exchanges.
type Publish struct {
	Hospital string   `json:"hospital"`
	Kinds    []string `json:"kinds"`
}

// Validate reports whether p can be stored.
func (p Publish) Validate() error {
	if p.Hospital == "" {
		return fmt.Errorf("%w: a publication of no hospital", ErrInvalid)
	}
	return checkKinds(p.Kinds)
}

func checkKinds(ks []string) error {
	for i, k := range ks {
		if !slices.Contains(Kinds, k) || slices.Contains(ks[:i], k) {
			return fmt.Errorf("%w: data kind %q", ErrInvalid, k)
		}
	}
	return nil
}

// Consent lets Hospital see Resident's data of Kind from Given until
// Until. By is the account holder who gave it (the resident, or a
// guardian for a child).
type Consent struct {
	Resident string    `json:"resident"`
	Hospital string    `json:"hospital"`
	Kind     string    `json:"kind"`
	Given    time.Time `json:"given"`
	Until    time.Time `json:"until"`
	By       string    `json:"by"`
}

// Validate reports whether c can be stored.
func (c Consent) Validate() error {
	switch {
	case c.Resident == "" || c.Hospital == "" || c.By == "" || len(c.Resident) > 64 || len(c.By) > 64:
		return fmt.Errorf("%w: consent of %q to %q by %q", ErrInvalid, c.Resident, c.Hospital, c.By)
	case !slices.Contains(Kinds, c.Kind):
		return fmt.Errorf("%w: data kind %q", ErrInvalid, c.Kind)
	case c.Given.IsZero() || !c.Until.After(c.Given):
		return fmt.Errorf("%w: consent from %s until %s", ErrInvalid, c.Given, c.Until)
	case c.Until.Sub(c.Given) > MaxConsent:
		return fmt.Errorf("%w: consent for longer than a year", ErrInvalid)
	}
	return nil
}

// In reports whether c holds at t.
func (c Consent) In(t time.Time) bool { return !t.Before(c.Given) && t.Before(c.Until) }

// Revoke withdraws Resident's consent to Hospital for Kind ("" for
// every kind).
type Revoke struct {
	Resident string `json:"resident"`
	Hospital string `json:"hospital"`
	Kind     string `json:"kind,omitempty"`
	By       string `json:"by"`
}

// Validate reports whether r can be stored.
func (r Revoke) Validate() error {
	if r.Resident == "" || r.Hospital == "" || r.By == "" {
		return fmt.Errorf("%w: revocation of %q to %q by %q", ErrInvalid, r.Resident, r.Hospital, r.By)
	}
	if r.Kind != "" && !slices.Contains(Kinds, r.Kind) {
		return fmt.Errorf("%w: data kind %q", ErrInvalid, r.Kind)
	}
	return nil
}

// Access is one view of a resident's history by a hospital: what it was
// shown, why and by whom, for the patient's account page.
type Access struct {
	Hospital string   `json:"hospital"`
	Resident string   `json:"resident"`
	Kinds    []string `json:"kinds"`
	// Summaries are the summaries shown (their ids).
	Summaries []string `json:"summaries,omitempty"`
	// Staff is the device or member of staff that asked.
	Staff string `json:"staff"`
	// Purpose: "reception" (consented view) or "emergency".
	Purpose string `json:"purpose"`
	// Reason is staff's reason, required for an emergency.
	Reason string `json:"reason,omitempty"`
}

// Purposes of an access.
const (
	PurposeReception = "reception"
	PurposeEmergency = "emergency"
)

// MaxReason bounds a reason's characters.
const MaxReason = 200

// Validate reports whether a can be stored.
func (a Access) Validate() error {
	switch {
	case a.Hospital == "" || a.Resident == "" || a.Staff == "":
		return fmt.Errorf("%w: access to %q by %q at %q", ErrInvalid, a.Resident, a.Staff, a.Hospital)
	case a.Purpose != PurposeReception && a.Purpose != PurposeEmergency:
		return fmt.Errorf("%w: purpose %q", ErrInvalid, a.Purpose)
	case a.Purpose == PurposeEmergency && a.Reason == "":
		return fmt.Errorf("%w: an emergency access without a reason", ErrInvalid)
	case utf8.RuneCountInString(a.Reason) > MaxReason:
		return fmt.Errorf("%w: a reason longer than %d characters", ErrInvalid, MaxReason)
	}
	return checkKinds(a.Kinds)
}
