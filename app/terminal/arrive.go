package terminal

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"smartpass.city/smartpass/app/hospital"
	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/app/state"
	"smartpass.city/smartpass/app/template"
)

// Arrival results at a shelter.
const (
	ArrivedIn      = "in"      // checked in now
	ArrivedBack    = "back"    // was out or gone: back in
	ArrivedAlready = "already" // in already: not entered twice
)

// Arrival is what a shelter's terminal does for a person recognised:
// check them in, have them back, or find them in already; and which
// household members it may check in with them in one step.
type Arrival struct {
	Name   string
	Result string // ArrivedIn, ArrivedBack or ArrivedAlready
	// Family are the residents of the household not checked in here yet.
	Family []string
	// Declared: the name and birth year are a guardian's word, not read
	// from the person's card (template.Profile.Declared).
	Declared bool
	// Add is the record to check in (ArrivedIn); Edit the status change
	// to record (ArrivedBack). Nil: nothing to record.
	Add  *shelter.Evacuee
	Edit *shelter.Edit
}

// Arrive decides, at shelter here, for a resident recognised by face or
// QR pass, from the shelter's profile of them (name, birth year, sex,
// household): nobody types anything.
func Arrive(st *state.State, here, resident string) Arrival {
	prof := st.Profiles[resident]
	a := Arrival{Name: prof.Name, Declared: prof.Declared}
	if e, ok := recordOf(st, here, resident); ok {
		a.Result, a.Edit = ArrivedAlready, backIn(st, e)
		if a.Edit != nil {
			a.Result = ArrivedBack
		}
	} else {
		e := evacueeOf(here, prof)
		a.Result, a.Add = ArrivedIn, &e
	}
	if prof.Household != "" {
		checkedIn := map[string]bool{}
		for _, e := range st.EvacueesAt(here) {
			checkedIn[e.Resident] = true
		}
		for id, other := range st.Profiles {
			if id != resident && !checkedIn[id] && other.Household == prof.Household {
				a.Family = append(a.Family, id)
			}
		}
		slices.Sort(a.Family)
	}
	return a
}

// ArriveBySlip decides for the record a spare QR slip names: back in if
// they were out or gone, in already otherwise. ok is false for a slip of
// another shelter, or of a record this tablet does not hold.
func ArriveBySlip(st *state.State, here, slipShelter, record string) (a Arrival, ok bool) {
	e, held := st.Evacuees[record]
	if slipShelter != here || !held || e.Shelter != here {
		return Arrival{}, false
	}
	a = Arrival{Name: cmp.Or(e.Name, e.Kana), Result: ArrivedAlready, Edit: backIn(st, e)}
	if a.Edit != nil {
		a.Result = ArrivedBack
	}
	return a, true
}

// FamilyRecords are the records checking in the household members
// family at shelter here, from their profiles.
func FamilyRecords(st *state.State, here string, family []string) []shelter.Evacuee {
	out := make([]shelter.Evacuee, len(family))
	for i, id := range family {
		out[i] = evacueeOf(here, st.Profiles[id])
	}
	return out
}

// backIn is the edit that has e in again, or nil when e is in.
func backIn(st *state.State, e shelter.Evacuee) *shelter.Edit {
	if e.Status != shelter.StatusOut && e.Status != shelter.StatusLeft {
		return nil
	}
	return &shelter.Edit{Shelter: e.Shelter, Record: e.ID, Field: shelter.FieldStatus, Value: shelter.StatusIn, Prev: st.FieldSource(e.ID, shelter.FieldStatus)}
}

// evacueeOf is the record of an identified resident, from the shelter's
// profile of them: their consent to disclosure included.
func evacueeOf(shelterID string, prof template.Profile) shelter.Evacuee {
	return shelter.Evacuee{Shelter: shelterID, Resident: prof.Resident, Name: prof.Name, BirthYear: prof.BirthYear, Sex: prof.Sex, Household: prof.Household, Disclose: prof.Disclose}
}

// recordOf finds the record of resident at a shelter.
func recordOf(st *state.State, shelterID, resident string) (shelter.Evacuee, bool) {
	for _, e := range st.Evacuees {
		if e.Shelter == shelterID && e.Resident == resident {
			return e, true
		}
	}
	return shelter.Evacuee{}, false
}

// Reception is a hospital reception as the terminal opens it for a
// resident recognised: their patient number when linked before, and what
// they agreed in their account to share (offered ticked, theirs to
// untick for this visit).
type Reception struct {
	Patient string
	Linked  bool
	Shares  []string
}

// OpenReception opens the reception of resident at hospital facility.
func OpenReception(st *state.State, facility, resident string) Reception {
	r := Reception{Patient: st.Patients[facility][resident]}
	r.Linked = r.Patient != ""
	if st.Profiles[resident].Medication {
		r.Shares = []string{"medication"}
	}
	return r
}

// PatientNumber is a patient number as staff typed it, as kept.
func PatientNumber(typed string) string { return strings.ToUpper(strings.TrimSpace(typed)) }

// Link is the link of resident to the patient number typed, checked.
func Link(facility, resident, typed string) (hospital.Link, error) {
	l := hospital.Link{Facility: facility, Resident: resident, Patient: PatientNumber(typed)}
	return l, l.Validate()
}

// Receive is the reception for dept, checked, and its number in the
// day's queue at now.
func Receive(st *state.State, facility, resident, typed, dept, via string, shares []string, now time.Time) (hospital.Reception, int, error) {
	r := hospital.Reception{Facility: facility, Resident: resident, Patient: PatientNumber(typed), Department: dept, Via: via, Shares: slices.Clone(shares)}
	slices.Sort(r.Shares)
	if err := r.Validate(); err != nil {
		return r, 0, err
	}
	return r, len(st.Queue(facility, now)) + 1, nil
}
