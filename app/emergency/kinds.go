package emergency

import (
	"fmt"
	"slices"
	"time"

	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/app/role"
	"smartpass.city/smartpass/syncproto"
)

// OpUse is one use of emergency identification; body Use.
const OpUse = "emergency.use"

// Use is what the emergency tablet records of every attempt, whatever
// its outcome: who asked and why, how, and whom it named.
type Use struct {
	Hospital string  `json:"hospital"`
	Staff    string  `json:"staff"`
	Second   string  `json:"second,omitempty"` // the confirming member of staff
	Reason   string  `json:"reason"`
	Method   string  `json:"method"` // "face", "card" or "second"
	Outcome  string  `json:"outcome"`
	Resident string  `json:"resident,omitempty"`
	Score    float32 `json:"score,omitempty"`
}

// Validate reports whether u can be stored: a reason always; a resident
// exactly when identified; a second member of staff, not the first,
// when the method says so.
func (u Use) Validate() error {
	if _, err := Reason(u.Reason); err != nil {
		return err
	}
	switch {
	case u.Hospital == "" || u.Staff == "":
		return fmt.Errorf("%w: a use at %q by %q", ErrConfirm, u.Hospital, u.Staff)
	case !slices.Contains([]string{Identified, NotIdentified, Unclear, Proposed}, u.Outcome):
		return fmt.Errorf("%w: outcome %q", ErrConfirm, u.Outcome)
	case (u.Outcome == Identified) != (u.Resident != ""):
		return fmt.Errorf("%w: a resident is named exactly when identified", ErrConfirm)
	case !slices.Contains([]string{NextCard, NextSecond, "face"}, u.Method):
		return fmt.Errorf("%w: method %q", ErrConfirm, u.Method)
	case u.Method == NextSecond && (u.Second == "" || u.Second == u.Staff):
		return fmt.Errorf("%w: a second member of staff, not the first", ErrConfirm)
	}
	return nil
}

// Used is a use as folded, with its time.
type Used struct {
	Use
	ID string
	At time.Time
}

// Uses is the folded part: every use, for review.
var Uses = opkind.NewSlot("emergency uses", func() []Used { return nil })

// The emergency tablet is a hospital reception device; its uses go to
// no device's feed (the audit role and the server see them) and every
// one is audited.
func init() {
	opkind.Register(opkind.Kind{
		Name:  OpUse,
		Body:  opkind.Over(Use.Validate, func(u Use) string { return u.Hospital }),
		Roles: []role.Role{role.Reception},
		Audit: func(op syncproto.Op) (opkind.Entry, bool) {
			u, err := opkind.Decode[Use](op)
			return opkind.Entry{Action: op.Kind, Subject: u.Resident, Detail: fmt.Sprintf("%s %s by %s %s: %s", u.Hospital, u.Outcome, u.Staff, u.Second, u.Reason)}, err == nil
		},
		Fold: func(p *opkind.Parts, op syncproto.Op) error {
			u, err := opkind.DecodeValid[Use](op)
			if err != nil {
				return err
			}
			us := Uses.In(p)
			*us = append(*us, Used{Use: u, ID: opkind.RecordID(op), At: hlc.Wall(op.HLC)})
			return nil
		},
	})
}

// UseOf is the record of decision d by staff (second when confirmed by
// a second member) for reason, by method.
func UseOf(d Decision, hospital, staff, second, method, reason string) Use {
	return Use{Hospital: hospital, Staff: staff, Second: second, Reason: reason, Method: method, Outcome: d.Outcome, Resident: d.Resident, Score: d.Score}
}

// Notices are the uses a guardian is told of: those that identified a
// resident of their household (guardianOf: resident → guardian),
// newest first.
func Notices(uses []Used, guardian string, guardianOf func(resident string) string) []Used {
	var out []Used
	for _, u := range uses {
		if u.Outcome == Identified && guardianOf(u.Resident) == guardian {
			out = append(out, u)
		}
	}
	slices.SortStableFunc(out, func(a, b Used) int { return b.At.Compare(a.At) })
	return out
}
