package emergency

import (
	"encoding/json"
	"fmt"
	"slices"
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
	for _, sum := range rec.Summaries {
		if sum.Resident != d.Resident || sum.At.After(now) {
			continue
		}
		byKind := sum.ByKind()
		s.Allergies = appendNames(s.Allergies, byKind[medical.Allergies], allergyName)
		s.Medication = appendNames(s.Medication, activeMedication(byKind[medical.Medication], now), medicationName)
		s.Conditions = appendNames(s.Conditions, byKind[medical.Conditions], conditionName)
		s.Access.Summaries = append(s.Access.Summaries, sum.ID)
	}
	return s, nil
}

// Showing reports whether the summary may still be on screen at t.
func (s Summary) Showing(t time.Time) bool { return t.Before(s.Until) }

func appendNames(to []string, docs []json.RawMessage, name func(json.RawMessage) string) []string {
	for _, d := range docs {
		if n := name(d); n != "" && !slices.Contains(to, n) {
			to = append(to, n)
		}
	}
	return to
}

type concept struct {
	Text   string `json:"text"`
	Coding []struct {
		Display string `json:"display"`
		Code    string `json:"code"`
	} `json:"coding"`
}

func (c concept) name() string {
	if c.Text != "" {
		return c.Text
	}
	for _, cd := range c.Coding {
		if cd.Display != "" {
			return cd.Display
		}
	}
	return ""
}

func allergyName(doc json.RawMessage) string {
	var a struct {
		Code        concept `json:"code"`
		Criticality string  `json:"criticality"`
	}
	json.Unmarshal(doc, &a)
	if a.Criticality == "high" {
		return a.Code.name() + "（重篤）"
	}
	return a.Code.name()
}

func medicationName(doc json.RawMessage) string {
	var m struct {
		Medication concept `json:"medicationCodeableConcept"`
	}
	json.Unmarshal(doc, &m)
	return m.Medication.name()
}

func conditionName(doc json.RawMessage) string {
	var c struct {
		Code concept `json:"code"`
	}
	json.Unmarshal(doc, &c)
	return c.Code.name()
}

// activeMedication keeps the statements current at now: active, or
// whose period has not ended.
func activeMedication(docs []json.RawMessage, now time.Time) []json.RawMessage {
	var out []json.RawMessage
	today := now.Format(time.DateOnly)
	for _, d := range docs {
		var m struct {
			Status string `json:"status"`
			Period struct {
				End string `json:"end"`
			} `json:"effectivePeriod"`
		}
		json.Unmarshal(d, &m)
		if m.Status == "active" && (m.Period.End == "" || m.Period.End >= today) {
			out = append(out, d)
		}
	}
	return out
}
