package appointment

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"smartpass.city/smartpass/app/fhirjp"
)

// Question types (a subset of FHIR's item types).
const (
	TypeBoolean = "boolean"
	TypeChoice  = "choice"  // one option
	TypeMulti   = "multi"   // several options (FHIR: choice, repeats)
	TypeInteger = "integer" // with Min and Max
	TypeDecimal = "decimal" // with Min and Max, one decimal place
	TypeDate    = "date"    // not after the day answered
	TypeText    = "text"    // up to MaxLen characters
)

// Option is one choice.
type Option struct {
	Code, Text string
}

// Question is one question and its answer rule.
type Question struct {
	ID       string
	Text     string
	Type     string
	Required bool
	// When names a boolean question: this one is asked (and required,
	// if Required) only when that one is answered yes.
	When     string
	Options  []Option
	Min, Max float64
	MaxLen   int
}

// Questionnaire is a department's 問診票.
type Questionnaire struct {
	ID, Title  string
	Department string
	Questions  []Question
}

// URL is the questionnaire's canonical name in its FHIR export.
func (q Questionnaire) URL() string { return "urn:smartpass:questionnaire:" + q.ID }

// ConsentNotice is what the answer screen says above its submit button:
// submitting is the consent to the hospital collecting the answers.
var ConsentNotice = [2]string{
	"送信すると、この回答をこの病院が受け取り、診療に使うことに同意したことになります。回答はこの病院の受付にだけ届きます。",
	"By sending, you agree that this hospital receives these answers and uses them for your care. They reach this hospital's reception only.",
}

// Answers are a patient's answers for a booking: question id → value
// (a boolean "true"/"false", an option code, option codes joined by
// ",", a number, a date YYYY-MM-DD or text).
type Answers struct {
	Hospital      string            `json:"hospital"`
	Booking       string            `json:"booking"`
	Resident      string            `json:"resident"`
	Questionnaire string            `json:"questionnaire"`
	Values        map[string]string `json:"values"`
	By            string            `json:"by"`
	// Consented is when the patient (or guardian) sent it, having read
	// ConsentNotice.
	Consented time.Time `json:"consented"`
}

// Validate checks a's form; Check against its questionnaire needs the
// questionnaire (Lookup).
func (a Answers) Validate() error {
	q, ok := Lookup(a.Questionnaire)
	switch {
	case a.Hospital == "" || a.Booking == "" || a.Resident == "" || a.By == "" || a.Consented.IsZero():
		return fmt.Errorf("%w: answers of %q for %q at %q", ErrInvalid, a.Resident, a.Booking, a.Hospital)
	case !ok:
		return fmt.Errorf("%w: questionnaire %q", ErrInvalid, a.Questionnaire)
	}
	return q.Check(a.Values, a.Consented)
}

// Check checks answers against every question's rule on day today: the
// required ones answered (when asked), each value of its type and in its
// bounds, nothing answered that is not asked. Each refusal wraps
// ErrAnswer and names the question.
func (q Questionnaire) Check(values map[string]string, today time.Time) error {
	for id := range values {
		if !slices.ContainsFunc(q.Questions, func(x Question) bool { return x.ID == id }) {
			return answerErr(id, false, fmt.Errorf("%w: %q is not a question of %s", ErrAnswer, id, q.ID))
		}
	}
	for _, x := range q.Questions {
		v, given := values[x.ID]
		asked := x.When == "" || values[x.When] == "true"
		switch {
		case given && !asked:
			return answerErr(x.ID, false, fmt.Errorf("%w: %s is asked only when %s is yes", ErrAnswer, x.ID, x.When))
		case !given || v == "":
			if x.Required && asked {
				return answerErr(x.ID, true, fmt.Errorf("%w: %s (%s) is required", ErrAnswer, x.ID, x.Text))
			}
			continue
		}
		if err := x.check(v, today); err != nil {
			return answerErr(x.ID, false, fmt.Errorf("%w: %s: %v", ErrAnswer, x.ID, err))
		}
	}
	return nil
}

// AnswerError is a refused answer: which question, and whether it was
// left unanswered, so a screen can point at it in words (Problem).
type AnswerError struct {
	Question string
	Missing  bool
	err      error
}

func (e *AnswerError) Error() string { return e.err.Error() }
func (e *AnswerError) Unwrap() error { return e.err }

func answerErr(id string, missing bool, err error) error {
	return &AnswerError{Question: id, Missing: missing, err: err}
}

func (x Question) check(v string, today time.Time) error {
	switch x.Type {
	case TypeBoolean:
		if v != "true" && v != "false" {
			return fmt.Errorf("%q is not yes or no", v)
		}
	case TypeChoice:
		if !x.hasOption(v) {
			return fmt.Errorf("%q is not an option", v)
		}
	case TypeMulti:
		seen := map[string]bool{}
		for _, c := range splitCodes(v) {
			if !x.hasOption(c) || seen[c] {
				return fmt.Errorf("%q is not an option, or chosen twice", c)
			}
			seen[c] = true
		}
	case TypeInteger, TypeDecimal:
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(n) || (x.Type == TypeInteger && n != math.Trunc(n)) {
			return fmt.Errorf("%q is not a number of its kind", v)
		}
		if x.Type == TypeDecimal && math.Abs(n*10-math.Round(n*10)) > 1e-9 {
			return fmt.Errorf("%q has more than one decimal place", v)
		}
		if n < x.Min || n > x.Max {
			return fmt.Errorf("%v is outside %v to %v", n, x.Min, x.Max)
		}
	case TypeDate:
		d, err := time.ParseInLocation(time.DateOnly, v, JST)
		if err != nil || d.After(today) {
			return fmt.Errorf("%q is not a date up to today", v)
		}
	case TypeText:
		if utf8.RuneCountInString(v) > x.MaxLen {
			return fmt.Errorf("longer than %d characters", x.MaxLen)
		}
	default:
		return fmt.Errorf("a question of type %q", x.Type)
	}
	return nil
}

func (x Question) hasOption(c string) bool {
	return slices.ContainsFunc(x.Options, func(o Option) bool { return o.Code == c })
}

func splitCodes(v string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(v); i++ {
		if i == len(v) || v[i] == ',' {
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return out
}

// FHIR is the questionnaire as a FHIR Questionnaire (Japanese).
func (q Questionnaire) FHIR() fhirjp.Questionnaire {
	out := fhirjp.Questionnaire{ResourceType: "Questionnaire", ID: q.ID, URL: q.URL(), Name: q.ID, Title: q.Title, Status: "active", Language: "ja"}
	for _, x := range q.Questions {
		it := fhirjp.QItem{LinkID: x.ID, Text: x.Text, Type: x.Type, Required: x.Required && x.When == ""}
		switch x.Type {
		case TypeMulti:
			it.Type, it.Repeats = TypeChoice, true
		case TypeText:
			it.MaxLength = x.MaxLen
		}
		for _, o := range x.Options {
			it.AnswerOption = append(it.AnswerOption, fhirjp.AnswerOption{ValueCoding: fhirjp.Coding{System: q.URL(), Code: o.Code, Display: o.Text}})
		}
		out.Item = append(out.Item, it)
	}
	return out
}

// Response is answers a as a FHIR QuestionnaireResponse about patient
// ("Patient/…"), in the questionnaire's order.
func (q Questionnaire) Response(a Answers, patient string) fhirjp.QuestionnaireResponse {
	r := fhirjp.QuestionnaireResponse{ResourceType: "QuestionnaireResponse", Questionnaire: q.URL(), Status: "completed",
		Subject: &fhirjp.Reference{Reference: patient}, Authored: a.Consented.In(JST).Format(time.RFC3339)}
	for _, x := range q.Questions {
		v, ok := a.Values[x.ID]
		if !ok || v == "" {
			continue
		}
		it := fhirjp.RespItem{LinkID: x.ID, Text: x.Text}
		switch x.Type {
		case TypeBoolean:
			b := v == "true"
			it.Answer = []fhirjp.Answer{{ValueBoolean: &b}}
		case TypeChoice, TypeMulti:
			for _, c := range splitCodes(v) {
				for _, o := range x.Options {
					if o.Code == c {
						it.Answer = append(it.Answer, fhirjp.Answer{ValueCoding: &fhirjp.Coding{System: q.URL(), Code: o.Code, Display: o.Text}})
					}
				}
			}
		case TypeInteger:
			n, _ := strconv.Atoi(v)
			it.Answer = []fhirjp.Answer{{ValueInteger: &n}}
		case TypeDecimal:
			n, _ := strconv.ParseFloat(v, 64)
			it.Answer = []fhirjp.Answer{{ValueDecimal: &n}}
		case TypeDate:
			it.Answer = []fhirjp.Answer{{ValueDate: v}}
		default:
			it.Answer = []fhirjp.Answer{{ValueString: v}}
		}
		r.Item = append(r.Item, it)
	}
	return r
}
