package fhirjp

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// How the rules below were checked: the JP Core profiles' FSH sources
// (jami-fhir-jp-wg/jp-core-v1x, input/fsh/profiles) for each profile's
// URL and what it changes from base R4 — JP_Patient: identifier 1..*,
// identifier.value 1..1; JP_MedicationStatement: medication[x] only
// CodeableConcept, effective[x] only Period, subject a JP_Patient;
// JP_Condition: subject a JP_Patient; JP_AllergyIntolerance: code 1..1,
// patient a JP_Patient — and the same sources' file list for which
// resources JP Core profiles at all (no Appointment, Questionnaire or
// QuestionnaireResponse). The rest is base FHIR R4: each resource's
// required elements (MedicationStatement.status, .subject; Condition
// .subject; AllergyIntolerance.patient; Appointment.status,
// .participant and participant.status; Questionnaire.status and
// item.linkId, .type; QuestionnaireResponse.status, item.linkId), the
// required value-set bindings of the codes used, and the invariants
// con-4, con-5, ait-1, ait-2, app-1, app-2, app-3 and que-2. Extensible
// and preferred bindings (drug codes, JFAGY allergen codes) are not
// checked beyond the form of a YJ code.

// ErrProfile is wrapped by Check's refusals.
var ErrProfile = errors.New("fhirjp: does not meet its profile")

// Problems are every rule a document breaks, each as "path: what".
type Problems []string

// Error lists every problem.
func (p Problems) Error() string { return strings.Join(p, "; ") }

// Unwrap lets errors.Is find ErrProfile.
func (p Problems) Unwrap() error { return ErrProfile }

// Value sets of required bindings (FHIR R4).
var (
	vsMedStatus      = []string{"active", "completed", "entered-in-error", "intended", "stopped", "on-hold", "unknown", "not-taken"}
	vsGender         = []string{"male", "female", "other", "unknown"}
	vsCondClinical   = []string{"active", "recurrence", "relapse", "inactive", "remission", "resolved"}
	vsCondVerify     = []string{"unconfirmed", "provisional", "differential", "confirmed", "refuted", "entered-in-error"}
	vsAllergyClin    = []string{"active", "inactive", "resolved"}
	vsAllergyVerify  = []string{"unconfirmed", "confirmed", "refuted", "entered-in-error"}
	vsAllergyCat     = []string{"food", "medication", "environment", "biologic"}
	vsCriticality    = []string{"low", "high", "unable-to-assess"}
	vsApptStatus     = []string{"proposed", "pending", "booked", "arrived", "fulfilled", "cancelled", "noshow", "entered-in-error", "checked-in", "waitlist"}
	vsPartStatus     = []string{"accepted", "declined", "tentative", "needs-action"}
	vsPubStatus      = []string{"draft", "active", "retired", "unknown"}
	vsItemType       = []string{"group", "display", "boolean", "decimal", "integer", "date", "dateTime", "time", "string", "text", "url", "choice", "open-choice", "attachment", "reference", "quantity"}
	vsResponseStatus = []string{"in-progress", "completed", "amended", "entered-in-error", "stopped"}
)

var (
	datePattern     = regexp.MustCompile(`^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$`)
	dateTimePattern = regexp.MustCompile(`^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00)))?)?)?$`)
	instantPattern  = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))$`)
)

// obj is a decoded JSON object, read by path.
type obj map[string]any

func (o obj) str(k string) (string, bool) { s, ok := o[k].(string); return s, ok }

func (o obj) list(k string) []any {
	l, _ := o[k].([]any)
	return l
}

func (o obj) sub(k string) (obj, bool) {
	m, ok := o[k].(map[string]any)
	return obj(m), ok
}

// checker collects problems.
type checker struct{ p Problems }

func (c *checker) bad(path, format string, args ...any) {
	c.p = append(c.p, path+": "+fmt.Sprintf(format, args...))
}

// required checks a string element is present and not empty.
func (c *checker) required(o obj, path, k string) (string, bool) {
	s, ok := o.str(k)
	if !ok || strings.TrimSpace(s) == "" {
		c.bad(path+"."+k, "required")
		return "", false
	}
	return s, true
}

// code checks an optional code against a value set.
func (c *checker) code(o obj, path, k string, vs []string, required bool) string {
	s, ok := o.str(k)
	switch {
	case !ok && o[k] != nil:
		c.bad(path+"."+k, "not a code")
	case !ok && required:
		c.bad(path+"."+k, "required")
	case ok && !slices.Contains(vs, s):
		c.bad(path+"."+k, "%q is not in its value set", s)
	}
	return s
}

// concept checks a CodeableConcept bound to system's codes vs (required
// binding); it returns the code.
func (c *checker) concept(o obj, path, k, system string, vs []string) string {
	cc, ok := o.sub(k)
	if !ok {
		if o[k] != nil {
			c.bad(path+"."+k, "not a CodeableConcept")
		}
		return ""
	}
	var got string
	for i, x := range cc.list("coding") {
		cd, _ := x.(map[string]any)
		sys, _ := obj(cd).str("system")
		code, _ := obj(cd).str("code")
		if sys == system {
			if !slices.Contains(vs, code) {
				c.bad(fmt.Sprintf("%s.%s.coding[%d]", path, k, i), "%q is not in its value set", code)
			}
			got = code
		}
	}
	if got == "" {
		c.bad(path+"."+k, "no coding from %s", system)
	}
	return got
}

// text checks a CodeableConcept says something: a text or a coding with
// a system and a code.
func (c *checker) text(o obj, path, k string, required bool) {
	cc, ok := o.sub(k)
	if !ok {
		if required || o[k] != nil {
			c.bad(path+"."+k, "required")
		}
		return
	}
	t, _ := cc.str("text")
	codings := cc.list("coding")
	for i, x := range codings {
		cd, _ := x.(map[string]any)
		sys, _ := obj(cd).str("system")
		code, _ := obj(cd).str("code")
		if sys == "" || code == "" {
			c.bad(fmt.Sprintf("%s.%s.coding[%d]", path, k, i), "a coding needs its system and code")
		}
		if sys == SystemYJ && !yjPattern.MatchString(code) {
			c.bad(fmt.Sprintf("%s.%s.coding[%d]", path, k, i), "YJ code %q is not 12 digits and capitals", code)
		}
	}
	if strings.TrimSpace(t) == "" && len(codings) == 0 {
		c.bad(path+"."+k, "neither a text nor a coding")
	}
}

// reference checks a required reference to a resource of type kind.
func (c *checker) reference(o obj, path, k, kind string) string {
	r, ok := o.sub(k)
	ref, _ := r.str("reference")
	if !ok || !strings.HasPrefix(ref, kind+"/") || len(ref) == len(kind)+1 {
		c.bad(path+"."+k, "a reference to a %s is required", kind)
		return ""
	}
	return ref
}

// pattern checks an optional element against a date form.
func (c *checker) pattern(o obj, path, k string, re *regexp.Regexp) string {
	s, ok := o.str(k)
	if o[k] != nil && (!ok || !re.MatchString(s)) {
		c.bad(path+"."+k, "%v is not a valid date", o[k])
	}
	return s
}

// profile checks meta.profile names url.
func (c *checker) profile(o obj, url string) {
	m, _ := o.sub("meta")
	for _, p := range m.list("profile") {
		if p == url {
			return
		}
	}
	c.bad("meta.profile", "must name %s", url)
}

// Check reads a FHIR JSON document and checks it against the profile of
// its resource type: the JP Core one for Patient, MedicationStatement,
// Condition and AllergyIntolerance (which it must claim in
// meta.profile), base R4 for Appointment, Questionnaire and
// QuestionnaireResponse. Every broken rule is listed (Problems, which
// wraps ErrProfile).
func Check(doc []byte) error {
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		return Problems{"document: not a JSON object: " + err.Error()}
	}
	o := obj(m)
	c := &checker{}
	rt, _ := o.str("resourceType")
	switch rt {
	case "Patient":
		c.patient(o)
	case "MedicationStatement":
		c.medicationStatement(o)
	case "Condition":
		c.condition(o)
	case "AllergyIntolerance":
		c.allergy(o)
	case "Appointment":
		c.appointment(o)
	case "Questionnaire":
		c.questionnaire(o)
	case "QuestionnaireResponse":
		c.response(o)
	default:
		c.bad("resourceType", "%q is not a resource this pass exchanges", rt)
	}
	if len(c.p) > 0 {
		return c.p
	}
	return nil
}

func (c *checker) patient(o obj) {
	c.profile(o, ProfilePatient)
	ids := o.list("identifier")
	if len(ids) == 0 {
		c.bad("Patient.identifier", "at least one is required (JP_Patient 1..*)")
	}
	for i, x := range ids {
		id, _ := x.(map[string]any)
		c.required(obj(id), fmt.Sprintf("Patient.identifier[%d]", i), "value")
	}
	c.code(o, "Patient", "gender", vsGender, false)
	c.pattern(o, "Patient", "birthDate", datePattern)
	for i, x := range o.list("name") {
		n, _ := x.(map[string]any)
		t, _ := obj(n).str("text")
		f, _ := obj(n).str("family")
		if t == "" && f == "" && len(obj(n).list("given")) == 0 {
			c.bad(fmt.Sprintf("Patient.name[%d]", i), "a name with no text and no parts")
		}
	}
}

func (c *checker) medicationStatement(o obj) {
	c.profile(o, ProfileMedicationStatement)
	c.code(o, "MedicationStatement", "status", vsMedStatus, true)
	if o["medicationReference"] != nil {
		c.bad("MedicationStatement.medicationReference", "JP_MedicationStatement allows medicationCodeableConcept only")
	}
	c.text(o, "MedicationStatement", "medicationCodeableConcept", true)
	c.reference(o, "MedicationStatement", "subject", "Patient")
	if o["effectiveDateTime"] != nil {
		c.bad("MedicationStatement.effectiveDateTime", "JP_MedicationStatement allows effectivePeriod only")
	}
	if p, ok := o.sub("effectivePeriod"); ok {
		c.period(p, "MedicationStatement.effectivePeriod")
	}
	c.pattern(o, "MedicationStatement", "dateAsserted", dateTimePattern)
}

// period checks per-1: a start not after its end.
func (c *checker) period(p obj, path string) {
	s := c.pattern(p, path, "start", dateTimePattern)
	e := c.pattern(p, path, "end", dateTimePattern)
	if s != "" && e != "" && len(s) == len(e) && s > e {
		c.bad(path, "starts after it ends")
	}
}

func (c *checker) condition(o obj) {
	c.profile(o, ProfileCondition)
	c.reference(o, "Condition", "subject", "Patient")
	var clinical, verify string
	if o["clinicalStatus"] != nil {
		clinical = c.concept(o, "Condition", "clinicalStatus", systemConditionClinical, vsCondClinical)
	}
	if o["verificationStatus"] != nil {
		verify = c.concept(o, "Condition", "verificationStatus", systemConditionVerify, vsCondVerify)
	}
	c.text(o, "Condition", "code", false)
	c.pattern(o, "Condition", "onsetDateTime", dateTimePattern)
	c.pattern(o, "Condition", "recordedDate", dateTimePattern)
	if verify == "entered-in-error" && o["clinicalStatus"] != nil {
		c.bad("Condition.clinicalStatus", "must be absent when entered in error (con-5)")
	}
	abated := false
	for k := range o {
		abated = abated || strings.HasPrefix(k, "abatement")
	}
	if abated && clinical != "" && !slices.Contains([]string{"inactive", "resolved", "remission"}, clinical) {
		c.bad("Condition.clinicalStatus", "an abated condition is inactive, resolved or in remission (con-4)")
	}
}

func (c *checker) allergy(o obj) {
	c.profile(o, ProfileAllergyIntolerance)
	c.reference(o, "AllergyIntolerance", "patient", "Patient")
	c.text(o, "AllergyIntolerance", "code", true)
	var verify string
	if o["verificationStatus"] != nil {
		verify = c.concept(o, "AllergyIntolerance", "verificationStatus", systemAllergyVerify, vsAllergyVerify)
	}
	switch {
	case verify == "entered-in-error" && o["clinicalStatus"] != nil:
		c.bad("AllergyIntolerance.clinicalStatus", "must be absent when entered in error (ait-2)")
	case verify != "entered-in-error" && o["clinicalStatus"] == nil:
		c.bad("AllergyIntolerance.clinicalStatus", "required unless entered in error (ait-1)")
	case o["clinicalStatus"] != nil:
		c.concept(o, "AllergyIntolerance", "clinicalStatus", systemAllergyClinical, vsAllergyClin)
	}
	for i, x := range o.list("category") {
		if s, _ := x.(string); !slices.Contains(vsAllergyCat, s) {
			c.bad(fmt.Sprintf("AllergyIntolerance.category[%d]", i), "%v is not in its value set", x)
		}
	}
	c.code(o, "AllergyIntolerance", "criticality", vsCriticality, false)
	c.pattern(o, "AllergyIntolerance", "recordedDate", dateTimePattern)
}

func (c *checker) appointment(o obj) {
	status := c.code(o, "Appointment", "status", vsApptStatus, true)
	parts := o.list("participant")
	if len(parts) == 0 {
		c.bad("Appointment.participant", "at least one is required")
	}
	for i, x := range parts {
		p, _ := x.(map[string]any)
		path := fmt.Sprintf("Appointment.participant[%d]", i)
		c.code(obj(p), path, "status", vsPartStatus, true)
		if p["actor"] == nil && len(obj(p).list("type")) == 0 {
			c.bad(path, "needs a type or an actor (app-1)")
		}
	}
	start := c.pattern(o, "Appointment", "start", instantPattern)
	end := c.pattern(o, "Appointment", "end", instantPattern)
	switch {
	case (start == "") != (end == ""):
		c.bad("Appointment", "start and end are both given or both absent (app-2)")
	case start == "" && !slices.Contains([]string{"proposed", "cancelled", "waitlist"}, status):
		c.bad("Appointment", "a %s appointment needs its start and end (app-3)", status)
	}
}

func (c *checker) questionnaire(o obj) {
	c.code(o, "Questionnaire", "status", vsPubStatus, true)
	c.items(o.list("item"), "Questionnaire.item", map[string]bool{})
}

// items checks questions: a unique linkId (que-2), a type in its value
// set, choices that have options, and no answer rules on display items.
func (c *checker) items(items []any, path string, seen map[string]bool) {
	for i, x := range items {
		it := obj(asMap(x))
		p := fmt.Sprintf("%s[%d]", path, i)
		if id, ok := c.required(it, p, "linkId"); ok {
			if seen[id] {
				c.bad(p+".linkId", "%q is used twice (que-2)", id)
			}
			seen[id] = true
		}
		t := c.code(it, p, "type", vsItemType, true)
		if t == "choice" && len(it.list("answerOption")) == 0 && it["answerValueSet"] == nil {
			c.bad(p, "a choice without options")
		}
		if t == "display" && (it["required"] != nil || it["repeats"] != nil) {
			c.bad(p, "a display item is neither required nor repeated (que-6)")
		}
		c.items(it.list("item"), p+".item", seen)
	}
}

func (c *checker) response(o obj) {
	c.code(o, "QuestionnaireResponse", "status", vsResponseStatus, true)
	if q, _ := o.str("questionnaire"); q == "" {
		c.bad("QuestionnaireResponse.questionnaire", "the questionnaire answered is required here")
	}
	c.pattern(o, "QuestionnaireResponse", "authored", dateTimePattern)
	var walk func([]any, string)
	walk = func(items []any, path string) {
		for i, x := range items {
			it := obj(asMap(x))
			p := fmt.Sprintf("%s[%d]", path, i)
			c.required(it, p, "linkId")
			for j, a := range it.list("answer") {
				if n := len(asMap(a)); n == 0 {
					c.bad(fmt.Sprintf("%s.answer[%d]", p, j), "an answer without a value")
				}
			}
			walk(it.list("item"), p+".item")
		}
	}
	walk(o.list("item"), "QuestionnaireResponse.item")
}

func asMap(x any) map[string]any {
	m, _ := x.(map[string]any)
	return m
}
