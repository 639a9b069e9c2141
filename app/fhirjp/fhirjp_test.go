package fhirjp

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

func day(s string) time.Time {
	t, _ := time.Parse(time.DateOnly, s)
	return t
}

// good are one valid document of each resource the pass writes.
func good(t testing.TB) map[string]any {
	t.Helper()
	yes := true
	return map[string]any{
		"Patient":             PatientOf("1712345678", "0012345", "加賀　太郎", "カガ　タロウ", "male", day("1980-04-15")),
		"MedicationStatement": MedicationStatementOf("m1", "Patient/0012345", Medication{Name: "アムロジピン錠５ｍｇ", YJ: "2171022F1093", Usage: "１日１回朝食後", Start: day("2026-11-20"), End: day("2026-12-17")}, now),
		"Condition":           ConditionOf("c1", "Patient/0012345", "高血圧症", true, day("2020-01-01")),
		"AllergyIntolerance":  AllergyOf("a1", "Patient/0012345", "ペニシリン", "medication", "high"),
		"Appointment": Appointment{ResourceType: "Appointment", Status: "booked", Start: "2026-12-10T09:00:00+09:00", End: "2026-12-10T09:15:00+09:00",
			Participant: []Participant{{Actor: &Reference{Reference: "Patient/0012345"}, Status: "accepted"}}},
		"Questionnaire": Questionnaire{ResourceType: "Questionnaire", Status: "active", Item: []QItem{
			{LinkID: "fever", Text: "熱はありますか", Type: "boolean", Required: true},
			{LinkID: "where", Text: "どこが痛みますか", Type: "choice", AnswerOption: []AnswerOption{{ValueCoding: Coding{Code: "head", Display: "頭"}}}}}},
		"QuestionnaireResponse": QuestionnaireResponse{ResourceType: "QuestionnaireResponse", Questionnaire: "urn:q", Status: "completed",
			Subject: &Reference{Reference: "Patient/0012345"}, Item: []RespItem{{LinkID: "fever", Answer: []Answer{{ValueBoolean: &yes}}}}},
	}
}

func TestExportsMeetTheirProfiles(t *testing.T) {
	for name, r := range good(t) {
		b, err := Marshal(r)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !strings.Contains(string(b), `"resourceType":"`+name+`"`) {
			t.Errorf("%s: %s", name, b)
		}
	}
	ms := MedicationStatementOf("m", "Patient/1", Medication{Name: "x", Start: day("2026-11-01"), End: day("2026-11-05")}, now)
	if ms.Status != "completed" || ms.MedicationCodeableConcept.Coding != nil {
		t.Errorf("a statement past its days, with no YJ code: %+v", ms)
	}
}

// mutate decodes a good document, changes it and encodes it again.
func mutate(t *testing.T, r any, change func(m map[string]any)) []byte {
	b, _ := json.Marshal(r)
	var m map[string]any
	json.Unmarshal(b, &m)
	change(m)
	out, _ := json.Marshal(m)
	return out
}

func TestBadExportsFail(t *testing.T) {
	g := good(t)
	cases := []struct {
		name, resource, want string
		change               func(m map[string]any)
	}{
		{"patient without identifier", "Patient", "Patient.identifier", func(m map[string]any) { delete(m, "identifier") }},
		{"patient identifier without value", "Patient", "identifier[0].value", func(m map[string]any) { m["identifier"] = []any{map[string]any{"system": "urn:x"}} }},
		{"patient without its profile", "Patient", "meta.profile", func(m map[string]any) { delete(m, "meta") }},
		{"patient gender not in the value set", "Patient", "gender", func(m map[string]any) { m["gender"] = "男" }},
		{"patient birth date not a date", "Patient", "birthDate", func(m map[string]any) { m["birthDate"] = "1980/04/15" }},
		{"statement without status", "MedicationStatement", "status", func(m map[string]any) { delete(m, "status") }},
		{"statement with a status not in the value set", "MedicationStatement", "status", func(m map[string]any) { m["status"] = "taking" }},
		{"statement without a drug", "MedicationStatement", "medicationCodeableConcept", func(m map[string]any) { delete(m, "medicationCodeableConcept") }},
		{"statement with a medication reference", "MedicationStatement", "medicationReference", func(m map[string]any) { m["medicationReference"] = map[string]any{"reference": "Medication/1"} }},
		{"statement with a bad YJ code", "MedicationStatement", "YJ code", func(m map[string]any) {
			m["medicationCodeableConcept"] = map[string]any{"coding": []any{map[string]any{"system": SystemYJ, "code": "217"}}}
		}},
		{"statement without subject", "MedicationStatement", "subject", func(m map[string]any) { delete(m, "subject") }},
		{"statement subject not a patient", "MedicationStatement", "subject", func(m map[string]any) { m["subject"] = map[string]any{"reference": "Group/1"} }},
		{"statement effective as a date-time", "MedicationStatement", "effectivePeriod only", func(m map[string]any) { m["effectiveDateTime"] = "2026-11-20" }},
		{"statement ending before it starts", "MedicationStatement", "starts after it ends", func(m map[string]any) {
			m["effectivePeriod"] = map[string]any{"start": "2026-12-20", "end": "2026-12-01"}
		}},
		{"condition without subject", "Condition", "Condition.subject", func(m map[string]any) { delete(m, "subject") }},
		{"condition clinical status outside its set", "Condition", "clinicalStatus", func(m map[string]any) {
			m["clinicalStatus"] = map[string]any{"coding": []any{map[string]any{"system": systemConditionClinical, "code": "chronic"}}}
		}},
		{"condition entered in error with a clinical status", "Condition", "con-5", func(m map[string]any) {
			m["verificationStatus"] = map[string]any{"coding": []any{map[string]any{"system": systemConditionVerify, "code": "entered-in-error"}}}
		}},
		{"condition abated yet active", "Condition", "con-4", func(m map[string]any) { m["abatementDateTime"] = "2026-01-01" }},
		{"allergy without code", "AllergyIntolerance", "AllergyIntolerance.code", func(m map[string]any) { delete(m, "code") }},
		{"allergy without patient", "AllergyIntolerance", "AllergyIntolerance.patient", func(m map[string]any) { delete(m, "patient") }},
		{"allergy without clinical status", "AllergyIntolerance", "ait-1", func(m map[string]any) { delete(m, "clinicalStatus") }},
		{"allergy category outside its set", "AllergyIntolerance", "category[0]", func(m map[string]any) { m["category"] = []any{"drug"} }},
		{"allergy criticality outside its set", "AllergyIntolerance", "criticality", func(m map[string]any) { m["criticality"] = "severe" }},
		{"appointment without participant", "Appointment", "participant", func(m map[string]any) { delete(m, "participant") }},
		{"appointment participant without status", "Appointment", "participant[0].status", func(m map[string]any) {
			m["participant"] = []any{map[string]any{"actor": map[string]any{"reference": "Patient/1"}}}
		}},
		{"booked appointment without times", "Appointment", "app-3", func(m map[string]any) { delete(m, "start"); delete(m, "end") }},
		{"appointment with start only", "Appointment", "app-2", func(m map[string]any) { delete(m, "end") }},
		{"appointment start not an instant", "Appointment", "Appointment.start", func(m map[string]any) { m["start"] = "2026-12-10" }},
		{"questionnaire without status", "Questionnaire", "Questionnaire.status", func(m map[string]any) { delete(m, "status") }},
		{"question without linkId", "Questionnaire", "item[0].linkId", func(m map[string]any) { delete(m["item"].([]any)[0].(map[string]any), "linkId") }},
		{"two questions one linkId", "Questionnaire", "que-2", func(m map[string]any) { m["item"].([]any)[1].(map[string]any)["linkId"] = "fever" }},
		{"choice without options", "Questionnaire", "choice without options", func(m map[string]any) { delete(m["item"].([]any)[1].(map[string]any), "answerOption") }},
		{"question of an unknown type", "Questionnaire", "item[0].type", func(m map[string]any) { m["item"].([]any)[0].(map[string]any)["type"] = "yesno" }},
		{"response without questionnaire", "QuestionnaireResponse", "questionnaire", func(m map[string]any) { delete(m, "questionnaire") }},
		{"response status outside its set", "QuestionnaireResponse", "status", func(m map[string]any) { m["status"] = "done" }},
		{"response answer without value", "QuestionnaireResponse", "answer[0]", func(m map[string]any) {
			m["item"] = []any{map[string]any{"linkId": "fever", "answer": []any{map[string]any{}}}}
		}},
		{"unknown resource", "Patient", "resourceType", func(m map[string]any) { m["resourceType"] = "Basic" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := mutate(t, g[c.resource], c.change)
			err := Check(doc)
			if !errors.Is(err, ErrProfile) {
				t.Fatalf("accepted: %s", doc)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("%v does not name %q", err, c.want)
			}
		})
	}
}

// FuzzCheck: a hospital's JSON never panics the checker, and what it
// accepts names a resource type it knows.
func FuzzCheck(f *testing.F) {
	for _, r := range good(f) {
		b, _ := json.Marshal(r)
		f.Add(b)
	}
	f.Add([]byte(`{"resourceType":"Condition","subject":{"reference":"Patient/"}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		err := Check(doc)
		if err != nil {
			if !errors.Is(err, ErrProfile) {
				t.Fatalf("not a profile refusal: %v", err)
			}
			return
		}
		var m map[string]any
		if json.Unmarshal(doc, &m) != nil {
			t.Fatal("accepted what is not JSON")
		}
	})
}
