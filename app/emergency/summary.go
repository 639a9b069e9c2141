package emergency

import (
	"fmt"
	"time"

	"smartpass.city/smartpass/app/medical"
)

// ShowFor is how long the summary stays on screen: long enough to read
// it to the team, short enough that it is not left open on a tablet.
const ShowFor = 10 * time.Minute

// Contact is the emergency contact: the household's guardian.
type Contact struct {
	Name  string `json:"name"`
	Phone string `json:"phone,omitempty"`
}

// Summary is the fixed emergency summary: these fields and nothing else
// (no address, no insurance, no visit history), shown until Until.
type Summary struct {
	Allergies  []string
	Medication []string
	Conditions []string
	Contact    Contact
	Until      time.Time
	// Access is what to record of the view (medical.OpAccess) before it
	// is shown: the patient sees it in their account.
	Access medical.Access
}

// kinds an emergency summary reads.
var kinds = []string{medical.Allergies, medical.Medication, medical.Conditions}

// SummaryOf is the summary of the patient d identified, from every
// hospital's summaries of them in rec (protection of life: no consent
// is asked), with the household guardian as the contact, shown from now
// for ShowFor. staff and reason are recorded in the access. It refuses
// a decision that named nobody, so an unclear or unregistered face
// shows nothing.
func SummaryOf(d Decision, rec *medical.Record, hospital, staff, reason string, contact Contact, now time.Time) (Summary, error) {
	r, err := Reason(reason)
	if err != nil {
		return Summary{}, err
	}
	if d.Outcome != Identified || d.Resident == "" {
		return Summary{}, fmt.Errorf("%w: nobody identified", ErrConfirm)
	}
	s := Summary{Contact: contact, Until: now.Add(ShowFor),
		Access: medical.Access{Hospital: hospital, Resident: d.Resident, Kinds: kinds, Staff: staff, Purpose: medical.PurposeEmergency, Reason: r}}
	s.Allergies = rec.Names(d.Resident, medical.Allergies, now)
	s.Medication = rec.Names(d.Resident, medical.Medication, now)
	s.Conditions = rec.Names(d.Resident, medical.Conditions, now)
	s.Access.Summaries = rec.SummariesOf(d.Resident, kinds, now)
	return s, nil
}

// Showing reports whether the summary may still be on screen at t.
func (s Summary) Showing(t time.Time) bool { return t.Before(s.Until) }
