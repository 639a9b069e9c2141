package terminal

import (
	"time"

	"smartpass.city/smartpass/app/appointment"
	"smartpass.city/smartpass/app/hospital"
	"smartpass.city/smartpass/app/state"
)

// LateBy is how long after its slot ends a booking is still found at
// reception: a patient an hour late is still expected, not a walk-in.
const LateBy = time.Hour

// Visit is a hospital reception opened for a recognised resident on the
// day: the reception as before, and the booking due now with the
// questionnaire answered for it, when there is one. A walk-in has none
// and staff pick the department.
type Visit struct {
	Reception
	Booking *appointment.Entry
	// Department is the booking's (no typing), "" for a walk-in.
	Department string
	// Answers and Questionnaire are the 問診票 answered for the booking.
	Answers       *appointment.Answers
	Questionnaire appointment.Questionnaire
}

// OpenVisit opens the reception of resident at hospital facility at now:
// their patient number and shares (OpenReception) and their booking due
// today, with its answers.
func OpenVisit(st *state.State, facility, resident string, now time.Time) Visit {
	v := Visit{Reception: OpenReception(st, facility, resident)}
	e, ok := appointment.Books.In(st.Parts()).Due(facility, resident, now, LateBy)
	if !ok {
		return v
	}
	v.Booking, v.Department, v.Answers = &e, e.Department, e.Answers
	if e.Answers != nil {
		v.Questionnaire, _ = appointment.Lookup(e.Answers.Questionnaire)
	}
	return v
}

// ReceiveVisit is the reception of an opened visit by a booking: the
// department is the booking's, so nobody types anything once the
// patient number is linked. ok is false for a walk-in or an unlinked
// patient, which go through Receive as before.
func ReceiveVisit(st *state.State, facility, resident, via string, v Visit, now time.Time) (r hospital.Reception, number int, ok bool, err error) {
	if v.Booking == nil || !v.Linked {
		return hospital.Reception{}, 0, false, nil
	}
	r, number, err = Receive(st, facility, resident, v.Patient, v.Department, via, v.Shares, now)
	return r, number, true, err
}
