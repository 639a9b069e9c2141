package medical

import (
	"encoding/json"
	"slices"
	"time"
)

// Names are what resident's summaries (every one folded by t) say of
// kind, as a person reads them: allergy substances (marked 重篤 when
// the allergy is of high criticality), the medication current at t, the
// conditions; each once, in the order published. An emergency summary
// and a questionnaire's pre-filled answers read the record through it,
// so they say the same thing.
func (r *Record) Names(resident, kind string, t time.Time) []string {
	var out []string
	for _, s := range r.Summaries {
		if s.Resident != resident || s.At.After(t) {
			continue
		}
		for _, d := range s.ByKind()[kind] {
			if n := NameOf(kind, d, t); n != "" && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// SummariesOf are the ids of resident's summaries folded by t that hold
// any of kinds.
func (r *Record) SummariesOf(resident string, kinds []string, t time.Time) []string {
	var out []string
	for _, s := range r.Summaries {
		if s.Resident != resident || s.At.After(t) {
			continue
		}
		by := s.ByKind()
		if slices.ContainsFunc(kinds, func(k string) bool { return len(by[k]) > 0 }) {
			out = append(out, s.ID)
		}
	}
	return out
}

type concept struct {
	Text   string `json:"text"`
	Coding []struct {
		Display string `json:"display"`
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

// NameOf reads one checked document's name, as the pages show it; ""
// for medication no longer taken at t.
func NameOf(kind string, doc json.RawMessage, t time.Time) string {
	var d struct {
		Code        concept `json:"code"`
		Medication  concept `json:"medicationCodeableConcept"`
		Criticality string  `json:"criticality"`
		Status      string  `json:"status"`
		Period      struct {
			End string `json:"end"`
		} `json:"effectivePeriod"`
	}
	json.Unmarshal(doc, &d) // checked by fhirjp when stored
	switch kind {
	case Allergies:
		if d.Criticality == "high" {
			return d.Code.name() + "（重篤）"
		}
		return d.Code.name()
	case Medication:
		if d.Status != "active" || d.Period.End != "" && d.Period.End < t.Format(time.DateOnly) {
			return ""
		}
		return d.Medication.name()
	}
	return d.Code.name()
}
