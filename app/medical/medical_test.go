package medical

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"smartpass.city/smartpass/app/fhirjp"
	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/syncproto"
)

var t0 = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)

// log builds ops in order, each a minute after the last.
type log struct {
	ops []syncproto.Op
	at  time.Time
}

func (l *log) add(dev, kind string, body any) syncproto.Op {
	b, err := json.Marshal(body)
	if err != nil {
		panic(err)
	}
	l.at = l.at.Add(time.Minute)
	op := syncproto.Op{Device: dev, Seq: uint64(len(l.ops) + 1), HLC: hlc.Make(l.at.UnixMilli(), 0), Kind: kind, Body: b}
	l.ops = append(l.ops, op)
	return op
}

func (l *log) fold() (*Record, []opkind.Rejected) {
	var p opkind.Parts
	for _, op := range l.ops {
		opkind.Fold(&p, op)
	}
	return Records.In(&p), *opkind.Rejections.In(&p)
}

func doc(t *testing.T, r any) json.RawMessage {
	t.Helper()
	b, err := fhirjp.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The son's record at hospital A (patient number A-77), published as a
// summary: his medication, his condition and his allergy.
func sonSummary(t *testing.T, patient string) Summary {
	ref := "Patient/" + patient
	return Summary{Hospital: "hospA", Resident: "son", Patient: patient, Visit: t0, Documents: []json.RawMessage{
		doc(t, fhirjp.MedicationStatementOf("m1", ref, fhirjp.Medication{Name: "カルボシステインＤＳ５０％", Start: t0}, t0)),
		doc(t, fhirjp.ConditionOf("c1", ref, "気管支喘息", true, time.Time{})),
		doc(t, fhirjp.AllergyOf("a1", ref, "卵", "food", "high")),
	}}
}

func consent(hosp, kind string, given time.Time, days int) Consent {
	return Consent{Resident: "son", Hospital: hosp, Kind: kind, Given: given, Until: given.AddDate(0, 0, days), By: "mother"}
}

func TestConsentAndView(t *testing.T) {
	l := &log{at: t0}
	l.add("server", OpPublish, Publish{Hospital: "hospA", Kinds: []string{Medication, Conditions, Allergies}})
	l.add("server", OpPublish, Publish{Hospital: "hospB", Kinds: []string{Medication, Conditions, Allergies}})
	l.add("tabA", OpSummary, sonSummary(t, "A-77"))
	l.add("server", OpConsent, consent("hospB", Allergies, t0, 30))
	bad := l.add("server", OpConsent, consent("hospB", Checkups, t0, 30)) // B does not exchange check-ups
	r, rejected := l.fold()
	if len(rejected) != 1 || rejected[0].Op.Seq != bad.Seq || !strings.Contains(rejected[0].Reason, "does not exchange") {
		t.Fatalf("rejected %+v, want the check-ups consent only", rejected)
	}
	if err := r.CheckConsent(consent("hospB", Checkups, t0, 30)); !errors.Is(err, ErrNotPublished) {
		t.Errorf("CheckConsent = %v, want ErrNotPublished", err)
	}

	now := l.at.Add(time.Minute)
	shown, err := r.View("hospB", "son", "tabB", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(shown.Documents) != 1 || len(shown.Documents[Allergies]) != 1 || !strings.Contains(string(shown.Documents[Allergies][0].JSON), "卵") {
		t.Fatalf("B sees %+v, want the allergy and nothing else", shown.Documents)
	}
	if a := shown.Access; a.Hospital != "hospB" || a.Resident != "son" || len(a.Kinds) != 1 || a.Kinds[0] != Allergies || len(a.Summaries) != 1 {
		t.Errorf("access %+v", a)
	}
	if _, err := r.View("hospA", "son", "tabA", now); !errors.Is(err, ErrNoConsent) {
		t.Errorf("A without consent: %v", err)
	}

	// The access is recorded; she withdraws; B sees nothing.
	l.add("server", OpAccess, shown.Access)
	l.add("server", OpRevoke, Revoke{Resident: "son", Hospital: "hospB", By: "mother"})
	r, rejected = l.fold()
	if _, err := r.View("hospB", "son", "tabB", l.at.Add(time.Second)); !errors.Is(err, ErrNoConsent) {
		t.Errorf("after withdrawal: %v", err)
	}
	// A view as of before the withdrawal still held: the record keeps
	// time, not just the last word.
	if _, err := r.View("hospB", "son", "tabB", now); err != nil {
		t.Errorf("before withdrawal: %v", err)
	}
	log := r.AccessesOf("son")
	if len(log) != 1 || log[0].Hospital != "hospB" || log[0].Kinds[0] != Allergies || log[0].At.IsZero() {
		t.Errorf("her account page lists %+v", log)
	}
	if cs := r.ConsentsOf("son"); len(cs) != 1 || cs[0].Revoked.IsZero() {
		t.Errorf("consents %+v", cs)
	}
	// Nothing left to withdraw.
	l.add("server", OpRevoke, Revoke{Resident: "son", Hospital: "hospB", By: "mother"})
	if _, rejected = l.fold(); len(rejected) != 2 {
		t.Errorf("a second withdrawal is not refused: %+v", rejected)
	}
}

func TestConsentExpiresAndStopsWithPublication(t *testing.T) {
	l := &log{at: t0}
	l.add("server", OpPublish, Publish{Hospital: "hospB", Kinds: []string{Allergies}})
	l.add("tabA", OpSummary, sonSummary(t, "A-77"))
	l.add("server", OpConsent, consent("hospB", Allergies, t0, 7))
	r, _ := l.fold()
	cases := []struct {
		name string
		at   time.Time
		ok   bool
	}{
		{"before it was given", t0.Add(-time.Hour), false},
		{"while it holds", t0.AddDate(0, 0, 6), true},
		{"when it ends", t0.AddDate(0, 0, 7), false},
	}
	for _, c := range cases {
		_, err := r.View("hospB", "son", "tabB", c.at)
		if c.ok != (err == nil) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	// The hospital stops exchanging allergies: the consent no longer opens anything.
	l.add("server", OpPublish, Publish{Hospital: "hospB", Kinds: []string{Medication}})
	r, _ = l.fold()
	if _, err := r.View("hospB", "son", "tabB", t0.AddDate(0, 0, 1)); !errors.Is(err, ErrNoConsent) {
		t.Errorf("after B stopped exchanging allergies: %v", err)
	}
}

func TestValidate(t *testing.T) {
	other := sonSummary(t, "A-77")
	other.Documents = append(other.Documents, doc(t, fhirjp.AllergyOf("a2", "Patient/A-78", "そば", "food", "high")))
	wrongPatient := sonSummary(t, "A-77")
	wrongPatient.Patient = "A-78"
	notJP := sonSummary(t, "A-77")
	notJP.Documents = []json.RawMessage{json.RawMessage(`{"resourceType":"Condition","subject":{"reference":"Patient/A-77"}}`)}
	patientDoc := sonSummary(t, "A-77")
	patientDoc.Documents = []json.RawMessage{doc(t, fhirjp.PatientOf("1712345678", "A-77", "加賀　ゆうと", "", "male", t0))}
	for _, c := range []struct {
		name string
		v    interface{ Validate() error }
		want error
	}{
		{"consent", consent("hospB", Allergies, t0, 30), nil},
		{"consent of an unknown kind", consent("hospB", "genome", t0, 30), ErrInvalid},
		{"consent ending before it starts", consent("hospB", Allergies, t0, -1), ErrInvalid},
		{"consent for longer than a year", consent("hospB", Allergies, t0, 400), ErrInvalid},
		{"consent by nobody", Consent{Resident: "son", Hospital: "hospB", Kind: Allergies, Given: t0, Until: t0.AddDate(0, 1, 0)}, ErrInvalid},
		{"publication twice a kind", Publish{Hospital: "h", Kinds: []string{Allergies, Allergies}}, ErrInvalid},
		{"summary", sonSummary(t, "A-77"), nil},
		{"summary with another patient's document", other, ErrOtherPatient},
		{"summary whose documents name someone else", wrongPatient, ErrOtherPatient},
		{"summary with a document that fails its profile", notJP, fhirjp.ErrProfile},
		{"summary with a kind it does not hold", patientDoc, ErrInvalid},
		{"summary without documents", Summary{Hospital: "h", Resident: "son", Patient: "1", Visit: t0}, ErrInvalid},
		{"access", Access{Hospital: "h", Resident: "son", Kinds: []string{Allergies}, Staff: "tab", Purpose: PurposeReception}, nil},
		{"emergency access without a reason", Access{Hospital: "h", Resident: "son", Kinds: []string{Allergies}, Staff: "tab", Purpose: PurposeEmergency}, ErrInvalid},
		{"access of no purpose", Access{Hospital: "h", Resident: "son", Staff: "tab"}, ErrInvalid},
		{"revoke of a kind unknown", Revoke{Resident: "son", Hospital: "h", Kind: "x", By: "m"}, ErrInvalid},
	} {
		err := c.v.Validate()
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func TestDeclarations(t *testing.T) {
	for _, name := range []string{OpPublish, OpConsent, OpRevoke, OpSummary, OpAccess} {
		k, ok := opkind.Lookup(name)
		if !ok || k.Audit == nil || k.Fold == nil {
			t.Errorf("%s: declared %v, audited and folded?", name, ok)
		}
	}
	// A summary goes to no device's feed; consents to the hospital's.
	l := &log{at: t0}
	if f := opkind.FeedsOf(l.add("tabA", OpSummary, sonSummary(t, "A-77"))); len(f) != 0 {
		t.Errorf("a summary travels to %v", f)
	}
	if f := opkind.FeedsOf(l.add("server", OpConsent, consent("hospB", Allergies, t0, 3))); len(f) != 1 || f[0] != opkind.FacilityFeed("hospB") {
		t.Errorf("a consent travels to %v", f)
	}
}

func TestNotebook(t *testing.T) {
	med := func(patient string) json.RawMessage {
		return doc(t, fhirjp.MedicationStatementOf("j1", "Patient/"+patient, fhirjp.Medication{Name: "アムロジピン錠５ｍｇ", Start: t0}, t0))
	}
	n := Notebook{Resident: "taro", By: "taro", Imported: t0, Documents: []json.RawMessage{med("taro")}}
	if err := n.Validate(); err != nil {
		t.Fatal(err)
	}
	other := n
	other.Documents = []json.RawMessage{med("hanako")}
	if err := other.Validate(); !errors.Is(err, ErrOtherPatient) {
		t.Errorf("someone else's medication: %v", err)
	}
	allergy := n
	allergy.Documents = []json.RawMessage{doc(t, fhirjp.AllergyOf("a", "Patient/taro", "卵", "food", ""))}
	if err := allergy.Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("an allergy in a notebook: %v", err)
	}

	l := &log{at: t0}
	l.add("server", OpPublish, Publish{Hospital: "hospB", Kinds: []string{Medication, Allergies}})
	l.add("server", OpNotebook, n)
	l.add("server", OpConsent, Consent{Resident: "taro", Hospital: "hospB", Kind: Allergies, Given: t0, Until: t0.AddDate(0, 1, 0), By: "taro"})
	r, _ := l.fold()
	if s, err := r.View("hospB", "taro", "tabB", l.at); err != nil || len(s.Documents) != 0 {
		t.Errorf("the notebook shown without consent to medication: %+v %v", s.Documents, err)
	}
	l.add("server", OpConsent, Consent{Resident: "taro", Hospital: "hospB", Kind: Medication, Given: t0, Until: t0.AddDate(0, 1, 0), By: "taro"})
	r, _ = l.fold()
	s, err := r.View("hospB", "taro", "tabB", l.at)
	if err != nil || len(s.Documents[Medication]) != 1 || s.Documents[Medication][0].Hospital != NotebookAuthor {
		t.Errorf("with consent: %+v %v", s.Documents, err)
	}
}
