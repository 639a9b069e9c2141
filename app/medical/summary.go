package medical

import (
	"encoding/json"
	"fmt"
	"time"

	"smartpass.city/smartpass/app/fhirjp"
)

// Summary is a visit summary: the hospital's JP Core documents about
// one patient after one visit, each checked against its profile and
// each about that patient.
type Summary struct {
	Hospital string `json:"hospital"`
	Resident string `json:"resident"`
	// Patient is the hospital's patient number: every document's subject
	// (or patient) is "Patient/" + Patient.
	Patient   string            `json:"patient"`
	Visit     time.Time         `json:"visit"`
	Documents []json.RawMessage `json:"documents"`
}

// MaxDocuments bounds a summary's documents (and the op body bounds
// their size).
const MaxDocuments = 40

// kindOf is the data kind of each resource type a summary may hold.
var kindOf = map[string]string{
	"MedicationStatement": Medication,
	"Condition":           Conditions,
	"AllergyIntolerance":  Allergies,
}

// Validate reports whether s can be stored: every document meets its
// JP Core profile, is of a kind a summary holds, and is about s's
// patient (ErrOtherPatient otherwise).
func (s Summary) Validate() error {
	switch {
	case s.Hospital == "" || s.Resident == "" || s.Patient == "" || s.Visit.IsZero():
		return fmt.Errorf("%w: summary of %q (%q) at %q", ErrInvalid, s.Resident, s.Patient, s.Hospital)
	case len(s.Documents) == 0 || len(s.Documents) > MaxDocuments:
		return fmt.Errorf("%w: %d documents (1 to %d)", ErrInvalid, len(s.Documents), MaxDocuments)
	}
	for i, d := range s.Documents {
		if _, err := documentKind(d, s.Patient); err != nil {
			return fmt.Errorf("document %d: %w", i, err)
		}
	}
	return nil
}

// documentKind checks one document and returns its data kind.
func documentKind(doc json.RawMessage, patient string) (string, error) {
	if err := fhirjp.Check(doc); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	var head struct {
		ResourceType string           `json:"resourceType"`
		Subject      fhirjp.Reference `json:"subject"`
		Patient      fhirjp.Reference `json:"patient"`
	}
	json.Unmarshal(doc, &head) // Check read it as an object already
	kind, ok := kindOf[head.ResourceType]
	if !ok {
		return "", fmt.Errorf("%w: a %s in a visit summary", ErrInvalid, head.ResourceType)
	}
	ref := head.Subject.Reference
	if head.ResourceType == "AllergyIntolerance" {
		ref = head.Patient.Reference
	}
	if ref != "Patient/"+patient {
		return "", fmt.Errorf("%w: %s is about %q, the summary about Patient/%s", ErrOtherPatient, head.ResourceType, ref, patient)
	}
	return kind, nil
}

// ByKind splits s's documents by data kind.
func (s Summary) ByKind() map[string][]json.RawMessage {
	out := make(map[string][]json.RawMessage)
	for _, d := range s.Documents {
		if k, err := documentKind(d, s.Patient); err == nil {
			out[k] = append(out[k], d)
		}
	}
	return out
}
