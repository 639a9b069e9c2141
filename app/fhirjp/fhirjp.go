// Package fhirjp writes the pass's medical documents as HL7 FHIR R4 JSON
// in the JP Core profiles (JP_Patient, JP_MedicationStatement,
// JP_Condition, JP_AllergyIntolerance) and, where JP Core has no profile,
// base R4 (Appointment, Questionnaire, QuestionnaireResponse), and checks
// a document against the required elements and value sets of its
// profile (Check) before it leaves the pass or is kept from a hospital.
//
// The official validator is a Java program this project does not run;
// check.go says which rules were taken from where and checks those.
package fhirjp

import (
	"encoding/json"
	"fmt"
	"regexp"
	"time"
)

// Profile URLs (JP Core's StructureDefinition ^url, confirmed in the JP
// Core FSH sources and its published pages).
const (
	ProfilePatient             = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient"
	ProfileMedicationStatement = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_MedicationStatement"
	ProfileCondition           = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Condition"
	ProfileAllergyIntolerance  = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_AllergyIntolerance"
)

// Code systems used.
const (
	// SystemYJ is the YJ (個別医薬品) code's system in JP Core.
	SystemYJ = "urn:oid:1.2.392.100495.20.1.73"
	// SystemHOT9 is the HOT9 code's.
	SystemHOT9 = "urn:oid:1.2.392.200119.4.403.1"
	// PatientIDPrefix + "1" + a hospital's 10-digit code is the system of
	// that hospital's patient numbers (JP_Patient.identifier.system).
	PatientIDPrefix = "urn:oid:1.2.392.100495.20.3.51."

	systemConditionClinical = "http://terminology.hl7.org/CodeSystem/condition-clinical"
	systemConditionVerify   = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
	systemAllergyClinical   = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
	systemAllergyVerify     = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
)

// Meta holds the profile a resource claims.
type Meta struct {
	Profile []string `json:"profile,omitempty"`
}

// Identifier is a system and a value.
type Identifier struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value,omitempty"`
}

// Coding is a code in a system.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// Concept is a CodeableConcept.
type Concept struct {
	Coding []Coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

// Reference points at another resource ("Patient/123").
type Reference struct {
	Reference string `json:"reference,omitempty"`
	Display   string `json:"display,omitempty"`
}

// Period is a start and an end (dates or date-times).
type Period struct {
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

// Extension is one extension with a code value.
type Extension struct {
	URL       string `json:"url"`
	ValueCode string `json:"valueCode,omitempty"`
}

// HumanName is a name; the extension says kanji (IDE) or kana (SYL).
type HumanName struct {
	Extension []Extension `json:"extension,omitempty"`
	Use       string      `json:"use,omitempty"`
	Text      string      `json:"text,omitempty"`
	Family    string      `json:"family,omitempty"`
	Given     []string    `json:"given,omitempty"`
}

// Annotation is a note.
type Annotation struct {
	Text string `json:"text"`
}

// nameRepresentation is the ISO 21090 extension JP Core uses to mark a
// name as kanji (IDE) or kana (SYL).
const nameRepresentation = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation"

// Patient is a JP_Patient.
type Patient struct {
	ResourceType string       `json:"resourceType"`
	ID           string       `json:"id,omitempty"`
	Meta         Meta         `json:"meta"`
	Identifier   []Identifier `json:"identifier"`
	Name         []HumanName  `json:"name,omitempty"`
	Gender       string       `json:"gender,omitempty"`
	BirthDate    string       `json:"birthDate,omitempty"`
}

// PatientOf is the JP_Patient of a patient numbered number at the
// hospital whose 10-digit code is hospital, with the name in kanji and
// kana, sex ("male", "female") and birth date.
func PatientOf(hospital, number, kanji, kana, sex string, birth time.Time) Patient {
	p := Patient{ResourceType: "Patient", ID: number, Meta: Meta{Profile: []string{ProfilePatient}},
		Identifier: []Identifier{{System: PatientIDPrefix + "1" + hospital, Value: number}}, Gender: sex}
	if kanji != "" {
		p.Name = append(p.Name, HumanName{Extension: []Extension{{URL: nameRepresentation, ValueCode: "IDE"}}, Use: "official", Text: kanji})
	}
	if kana != "" {
		p.Name = append(p.Name, HumanName{Extension: []Extension{{URL: nameRepresentation, ValueCode: "SYL"}}, Use: "official", Text: kana})
	}
	if !birth.IsZero() {
		p.BirthDate = birth.Format(time.DateOnly)
	}
	return p
}

// MedicationStatement is a JP_MedicationStatement.
type MedicationStatement struct {
	ResourceType              string       `json:"resourceType"`
	ID                        string       `json:"id,omitempty"`
	Meta                      Meta         `json:"meta"`
	Status                    string       `json:"status"`
	MedicationCodeableConcept *Concept     `json:"medicationCodeableConcept,omitempty"`
	Subject                   Reference    `json:"subject"`
	EffectivePeriod           *Period      `json:"effectivePeriod,omitempty"`
	DateAsserted              string       `json:"dateAsserted,omitempty"`
	InformationSource         *Reference   `json:"informationSource,omitempty"`
	Dosage                    []Dosage     `json:"dosage,omitempty"`
	Note                      []Annotation `json:"note,omitempty"`
}

// Dosage is the usage as text.
type Dosage struct {
	Text string `json:"text,omitempty"`
}

// Medication is what a medication statement says: the drug's name, its
// YJ code when known, the usage, and the days it is taken.
type Medication struct {
	Name, YJ, Usage string
	Start, End      time.Time
	Source          string // the pharmacy or hospital that said so
}

// yjPattern is a YJ code's form: 12 characters, digits and capitals.
var yjPattern = regexp.MustCompile(`^[0-9A-Z]{12}$`)

// IsYJ reports whether code has a YJ code's form.
func IsYJ(code string) bool { return yjPattern.MatchString(code) }

// MedicationStatementOf is the statement of m for the patient p
// ("Patient/…"): active while its days last at now, completed after.
func MedicationStatementOf(id, patient string, m Medication, now time.Time) MedicationStatement {
	c := &Concept{Text: m.Name}
	if yjPattern.MatchString(m.YJ) {
		c.Coding = []Coding{{System: SystemYJ, Code: m.YJ, Display: m.Name}}
	}
	s := MedicationStatement{ResourceType: "MedicationStatement", ID: id, Meta: Meta{Profile: []string{ProfileMedicationStatement}},
		Status: "active", MedicationCodeableConcept: c, Subject: Reference{Reference: patient}, DateAsserted: now.Format(time.DateOnly)}
	if !m.Start.IsZero() {
		s.EffectivePeriod = &Period{Start: m.Start.Format(time.DateOnly)}
		if !m.End.IsZero() {
			s.EffectivePeriod.End = m.End.Format(time.DateOnly)
			if m.End.Before(now) {
				s.Status = "completed"
			}
		}
	}
	if m.Usage != "" {
		s.Dosage = []Dosage{{Text: m.Usage}}
	}
	if m.Source != "" {
		s.InformationSource = &Reference{Display: m.Source}
	}
	return s
}

// Condition is a JP_Condition.
type Condition struct {
	ResourceType       string    `json:"resourceType"`
	ID                 string    `json:"id,omitempty"`
	Meta               Meta      `json:"meta"`
	ClinicalStatus     *Concept  `json:"clinicalStatus,omitempty"`
	VerificationStatus *Concept  `json:"verificationStatus,omitempty"`
	Code               *Concept  `json:"code,omitempty"`
	Subject            Reference `json:"subject"`
	OnsetDateTime      string    `json:"onsetDateTime,omitempty"`
	RecordedDate       string    `json:"recordedDate,omitempty"`
}

// ConditionOf is a confirmed chronic condition named name, active or
// not, of patient p, since onset (zero: unknown).
func ConditionOf(id, patient, name string, active bool, onset time.Time) Condition {
	status := "active"
	if !active {
		status = "inactive"
	}
	c := Condition{ResourceType: "Condition", ID: id, Meta: Meta{Profile: []string{ProfileCondition}},
		ClinicalStatus:     &Concept{Coding: []Coding{{System: systemConditionClinical, Code: status}}},
		VerificationStatus: &Concept{Coding: []Coding{{System: systemConditionVerify, Code: "confirmed"}}},
		Code:               &Concept{Text: name}, Subject: Reference{Reference: patient}}
	if !onset.IsZero() {
		c.OnsetDateTime = onset.Format(time.DateOnly)
	}
	return c
}

// AllergyIntolerance is a JP_AllergyIntolerance.
type AllergyIntolerance struct {
	ResourceType       string    `json:"resourceType"`
	ID                 string    `json:"id,omitempty"`
	Meta               Meta      `json:"meta"`
	ClinicalStatus     *Concept  `json:"clinicalStatus,omitempty"`
	VerificationStatus *Concept  `json:"verificationStatus,omitempty"`
	Category           []string  `json:"category,omitempty"`
	Criticality        string    `json:"criticality,omitempty"`
	Code               *Concept  `json:"code,omitempty"`
	Patient            Reference `json:"patient"`
	RecordedDate       string    `json:"recordedDate,omitempty"`
}

// AllergyOf is a confirmed, active allergy to substance, of category
// (food, medication, environment, biologic) and criticality (low, high,
// unable-to-assess; "" unknown), of patient p.
func AllergyOf(id, patient, substance, category, criticality string) AllergyIntolerance {
	a := AllergyIntolerance{ResourceType: "AllergyIntolerance", ID: id, Meta: Meta{Profile: []string{ProfileAllergyIntolerance}},
		ClinicalStatus:     &Concept{Coding: []Coding{{System: systemAllergyClinical, Code: "active"}}},
		VerificationStatus: &Concept{Coding: []Coding{{System: systemAllergyVerify, Code: "confirmed"}}},
		Criticality:        criticality, Code: &Concept{Text: substance}, Patient: Reference{Reference: patient}}
	if category != "" {
		a.Category = []string{category}
	}
	return a
}

// Marshal writes a resource as JSON and checks it against its profile:
// the pass never sends a document its own checker refuses.
func Marshal(resource any) ([]byte, error) {
	b, err := json.Marshal(resource)
	if err != nil {
		return nil, fmt.Errorf("fhirjp: %w", err)
	}
	if err := Check(b); err != nil {
		return nil, err
	}
	return b, nil
}
