package medical

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Record is the folded medical state: what hospitals publish, consents,
// summaries and accesses.
type Record struct {
	// Published: hospital → the kinds it exchanges.
	Published map[string][]string
	// Consents: resident → hospital → kind → the consent last given.
	Consents map[string]map[string]map[string]Given
	// Summaries by id, in the order published.
	Summaries []Stored
	// Accesses in fold order.
	Accesses []Logged
}

// Given is a consent as folded: withdrawn at Revoked (zero: not).
type Given struct {
	Consent
	Revoked time.Time
}

// Holds reports whether the consent is in force at t.
func (g Given) Holds(t time.Time) bool {
	return g.In(t) && (g.Revoked.IsZero() || t.Before(g.Revoked))
}

// Stored is a summary with its id and when it was published.
type Stored struct {
	Summary
	ID string
	At time.Time
}

// Logged is an access with its id and time.
type Logged struct {
	Access
	ID string
	At time.Time
}

func newRecord() Record {
	return Record{Published: map[string][]string{}, Consents: map[string]map[string]map[string]Given{}}
}

// CheckConsent is the state's rule for a consent, which the account page
// asks before it records one: the hospital must exchange the kind.
func (r *Record) CheckConsent(c Consent) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if !slices.Contains(r.Published[c.Hospital], c.Kind) {
		return fmt.Errorf("%w: %s at %s", ErrNotPublished, c.Kind, c.Hospital)
	}
	return nil
}

// consent applies a consent to the record.
func (r *Record) consent(c Consent) error {
	if err := r.CheckConsent(c); err != nil {
		return err
	}
	byH := r.Consents[c.Resident]
	if byH == nil {
		byH = map[string]map[string]Given{}
		r.Consents[c.Resident] = byH
	}
	if byH[c.Hospital] == nil {
		byH[c.Hospital] = map[string]Given{}
	}
	byH[c.Hospital][c.Kind] = Given{Consent: c}
	return nil
}

// revoke withdraws consents at t.
func (r *Record) revoke(v Revoke, t time.Time) error {
	kinds := r.Consents[v.Resident][v.Hospital]
	n := 0
	for k, g := range kinds {
		if (v.Kind == "" || v.Kind == k) && g.Revoked.IsZero() {
			g.Revoked = t
			kinds[k] = g
			n++
		}
	}
	if n == 0 {
		return fmt.Errorf("%w: nothing of %s to withdraw at %s", ErrNoConsent, v.Resident, v.Hospital)
	}
	return nil
}

// InForce are the kinds resident's consent to hospital covers at t,
// and that the hospital still exchanges, sorted as Kinds.
func (r *Record) InForce(resident, hospital string, t time.Time) []string {
	var out []string
	for _, k := range Kinds {
		g, ok := r.Consents[resident][hospital][k]
		if ok && g.Holds(t) && slices.Contains(r.Published[hospital], k) {
			out = append(out, k)
		}
	}
	return out
}

// Shown is what a hospital may see of a resident's history now: the
// documents of the kinds consented, from every hospital's summaries,
// and the access to record for it.
type Shown struct {
	Documents map[string][]Document
	Access    Access
}

// Document is one document shown, with where it came from.
type Document struct {
	Summary  string // the summary's id
	Hospital string // who published it
	Visit    time.Time
	JSON     []byte
}

// View is what hospital may see of resident's history at t, asked by
// staff for purpose: nothing (ErrNoConsent) without a consent in force;
// otherwise the documents of the consented kinds only, and the access
// the caller must record (OpAccess) before it shows them.
func (r *Record) View(hospital, resident, staff string, t time.Time) (Shown, error) {
	kinds := r.InForce(resident, hospital, t)
	if len(kinds) == 0 {
		return Shown{}, fmt.Errorf("%w: %s for %s", ErrNoConsent, resident, hospital)
	}
	s := Shown{Documents: map[string][]Document{}, Access: Access{Hospital: hospital, Resident: resident, Kinds: kinds, Staff: staff, Purpose: PurposeReception}}
	for _, sum := range r.Summaries {
		if sum.Resident != resident || sum.At.After(t) {
			continue
		}
		used := false
		for k, docs := range sum.ByKind() {
			if !slices.Contains(kinds, k) {
				continue
			}
			for _, d := range docs {
				s.Documents[k] = append(s.Documents[k], Document{Summary: sum.ID, Hospital: sum.Hospital, Visit: sum.Visit, JSON: d})
			}
			used = true
		}
		if used {
			s.Access.Summaries = append(s.Access.Summaries, sum.ID)
		}
	}
	return s, nil
}

// AccessesOf is every access to resident's history, newest first: what
// their account page lists (who, when, what).
func (r *Record) AccessesOf(resident string) []Logged {
	var out []Logged
	for _, a := range r.Accesses {
		if a.Resident == resident {
			out = append(out, a)
		}
	}
	slices.SortStableFunc(out, func(a, b Logged) int { return b.At.Compare(a.At) })
	return out
}

// ConsentsOf are resident's consents, by hospital then kind, for the
// account page: each with whether it holds at t.
func (r *Record) ConsentsOf(resident string) []Given {
	var out []Given
	for _, byK := range r.Consents[resident] {
		for _, g := range byK {
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(a, b Given) int {
		return cmp.Or(cmp.Compare(a.Hospital, b.Hospital), cmp.Compare(slices.Index(Kinds, a.Kind), slices.Index(Kinds, b.Kind)))
	})
	return out
}
