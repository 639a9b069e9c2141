package shelter

import (
	"fmt"
	"strconv"
	"strings"
)

// OpEvacueeEdit is the op kind that corrects one field of an evacuee
// record. The record itself stays a fact; corrections are ops of their
// own, so every earlier value is still in the log.
const OpEvacueeEdit = "shelter.evacuee.edit"

// The fields an Edit may correct.
const (
	FieldName      = "name"
	FieldKana      = "kana"
	FieldBirthYear = "birth_year"
)

// Edit corrects one field of the record Record at Shelter.
//
// Prev names the edit whose value the editor saw (its record id), or is
// empty when the editor saw the value the record was created with. The
// latest edit wins (by hybrid clock, then device); two edits with the same
// Prev were made without either seeing the other, and the fold shows that
// to staff as a conflict instead of dropping the losing value silently.
type Edit struct {
	Shelter string `json:"shelter"`
	Record  string `json:"record"`
	Field   string `json:"field"`
	Value   string `json:"value"`
	Prev    string `json:"prev,omitempty"`
}

// Apply returns e with the edit's field set, normalised and validated as a
// new record would be.
func (ed Edit) Apply(e Evacuee, thisYear int) (Evacuee, error) {
	switch ed.Field {
	case FieldName:
		e.Name = ed.Value
	case FieldKana:
		e.Kana = ed.Value
	case FieldBirthYear:
		y, err := strconv.Atoi(strings.TrimSpace(ed.Value))
		if err != nil {
			return e, &FieldError{FieldBirthYear, fmt.Errorf("%w: %q", ErrBirthYear, ed.Value)}
		}
		e.BirthYear = y
	default:
		return e, &FieldError{ed.Field, fmt.Errorf("%w: no such field", ErrRequired)}
	}
	e = e.Normalize()
	return e, e.Validate(thisYear)
}

// Value returns the field of e as an Edit carries it.
func Value(e Evacuee, field string) string {
	switch field {
	case FieldName:
		return e.Name
	case FieldKana:
		return e.Kana
	case FieldBirthYear:
		return strconv.Itoa(e.BirthYear)
	}
	return ""
}

// PersonKey is who a hand-entered record is, as far as it can tell: the
// reading without spaces and the birth year. Two records with one key at
// two shelters are most likely one person checked in twice, which staff
// must see.
func PersonKey(e Evacuee) string {
	return strings.ReplaceAll(NormalizeKana(e.Kana), "\u3000", "") + "/" + strconv.Itoa(e.BirthYear)
}
