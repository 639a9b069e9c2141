// Package hospital is a hospital reception's records: the hospital's own
// patient number linked once to a resident (so nobody needs the paper
// patient card again), and each reception, with the department and what
// the patient agreed to share, in the day's queue the desk works from.
//
// Both are the hospital's alone: they travel on its facility feed, never
// to HQ or another facility.
package hospital

import (
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"
)

// Op kinds.
const (
	// OpLink links a resident to the hospital's patient number; its body
	// is a Link. A later link replaces an earlier one.
	OpLink = "hospital.patient.link"
	// OpReception is one arrival at reception; its body is a Reception.
	OpReception = "hospital.reception"
)

// Link ties a resident, as the hospital's terminal recognised them, to
// the hospital's patient number.
type Link struct {
	Facility string `json:"facility"`
	Resident string `json:"resident"`
	Patient  string `json:"patient"`
}

// How a patient was identified at reception.
const (
	ByFace  = "face"
	ByQR    = "qr"
	ByCard  = "card"
	ByStaff = "staff" // a member of staff checked them by sight
)

// Reception is one arrival: who (the patient number; the resident when
// the terminal recognised them), for which department, and which kinds of
// their data they agreed the hospital may see.
type Reception struct {
	Facility   string   `json:"facility"`
	Resident   string   `json:"resident,omitempty"`
	Patient    string   `json:"patient"`
	Department string   `json:"department"`
	Via        string   `json:"via"`
	Shares     []string `json:"shares,omitempty"`
}

// Departments are the departments a patient picks at reception.
var Departments = []string{"internal", "surgery", "pediatrics", "orthopedics", "ophthalmology", "ent", "dermatology"}

// Data kinds a patient may agree to share with the hospital, each on its
// own (DOMAIN.md: consent screens per data type).
var DataKinds = []string{"medication", "checkup", "records"}

// ErrInvalid is wrapped by Validate.
var ErrInvalid = errors.New("invalid hospital record")

// MaxPatient bounds a patient number; hospitals use up to 10 digits or so.
const MaxPatient = 20

func checkPatient(p string) error {
	if p == "" || utf8.RuneCountInString(p) > MaxPatient {
		return fmt.Errorf("%w: patient number %q", ErrInvalid, p)
	}
	for _, r := range p {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r == '-') {
			return fmt.Errorf("%w: patient number %q (digits, capital letters and hyphens)", ErrInvalid, p)
		}
	}
	return nil
}

// Validate reports whether l can be stored.
func (l Link) Validate() error {
	if l.Facility == "" || l.Resident == "" || len(l.Resident) > 64 {
		return fmt.Errorf("%w: link of %q at %q", ErrInvalid, l.Resident, l.Facility)
	}
	return checkPatient(l.Patient)
}

// Validate reports whether r can be stored.
func (r Reception) Validate() error {
	switch {
	case r.Facility == "":
		return fmt.Errorf("%w: reception at no facility", ErrInvalid)
	case !slices.Contains(Departments, r.Department):
		return fmt.Errorf("%w: department %q", ErrInvalid, r.Department)
	case !slices.Contains([]string{ByFace, ByQR, ByCard, ByStaff}, r.Via):
		return fmt.Errorf("%w: identified by %q", ErrInvalid, r.Via)
	case (r.Via == ByStaff) != (r.Resident == ""):
		return fmt.Errorf("%w: a resident is named exactly when the terminal recognised them", ErrInvalid)
	}
	for _, k := range r.Shares {
		if !slices.Contains(DataKinds, k) {
			return fmt.Errorf("%w: data kind %q", ErrInvalid, k)
		}
	}
	return checkPatient(r.Patient)
}
