package shelter

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// OpEvacueeEdit is the op kind that corrects one field of an evacuee
// record. The record itself stays a fact; corrections are ops of their
// own, so every earlier value is still in the log.
const OpEvacueeEdit = "shelter.evacuee.edit"

// The fields an Edit may change.
const (
	FieldName       = "name"
	FieldKana       = "kana"
	FieldBirthYear  = "birth_year"
	FieldSex        = "sex"
	FieldArea       = "area"
	FieldHousehold  = "household"
	FieldStatus     = "status"
	FieldStay       = "stay"
	FieldLocation   = "location"
	FieldNeeds      = "needs" // the categories, comma-separated
	FieldAllergies  = "allergies"
	FieldMedication = "medication"
	FieldPets       = "pets"
	FieldDisclose   = "disclose" // "yes" or "no"
)

// field reads and writes one field of a record as an Edit carries it.
type field struct {
	get func(Evacuee) string
	set func(*Evacuee, string) error
}

// text is a field holding a string as it is.
func text(p func(*Evacuee) *string) field {
	return field{
		get: func(e Evacuee) string { return *p(&e) },
		set: func(e *Evacuee, v string) error { *p(e) = v; return nil },
	}
}

var fields = map[string]field{
	FieldName:       text(func(e *Evacuee) *string { return &e.Name }),
	FieldKana:       text(func(e *Evacuee) *string { return &e.Kana }),
	FieldSex:        text(func(e *Evacuee) *string { return &e.Sex }),
	FieldArea:       text(func(e *Evacuee) *string { return &e.Area }),
	FieldHousehold:  text(func(e *Evacuee) *string { return &e.Household }),
	FieldStatus:     text(func(e *Evacuee) *string { return &e.Status }),
	FieldStay:       text(func(e *Evacuee) *string { return &e.Stay }),
	FieldLocation:   text(func(e *Evacuee) *string { return &e.Location }),
	FieldAllergies:  text(func(e *Evacuee) *string { return &e.Allergies }),
	FieldMedication: text(func(e *Evacuee) *string { return &e.Medication }),
	FieldPets:       text(func(e *Evacuee) *string { return &e.Pets }),
	FieldBirthYear: {
		get: func(e Evacuee) string { return strconv.Itoa(e.BirthYear) },
		set: func(e *Evacuee, v string) error {
			y, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return &FieldError{FieldBirthYear, fmt.Errorf("%w: %q", ErrBirthYear, v)}
			}
			e.BirthYear = y
			return nil
		},
	},
	FieldNeeds: {
		get: func(e Evacuee) string { return strings.Join(e.Needs, ",") },
		set: func(e *Evacuee, v string) error {
			e.Needs = nil
			if v != "" {
				e.Needs = strings.Split(v, ",")
			}
			return nil
		},
	},
	FieldDisclose: {
		get: func(e Evacuee) string { return map[bool]string{true: "yes", false: "no"}[e.Disclose] },
		set: func(e *Evacuee, v string) error {
			if v != "yes" && v != "no" {
				return &FieldError{FieldDisclose, fmt.Errorf("%w: %q", ErrChoice, v)}
			}
			e.Disclose = v == "yes"
			return nil
		},
	},
}

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
	f, ok := fields[ed.Field]
	if !ok {
		return e, &FieldError{ed.Field, fmt.Errorf("%w: no such field", ErrRequired)}
	}
	e.Needs = slices.Clone(e.Needs) // the record before the edit keeps its own
	if err := f.set(&e, ed.Value); err != nil {
		return e, err
	}
	e = e.Normalize()
	return e, e.Validate(thisYear)
}

// Validate checks an edit on its own, as the server must without the
// record it corrects: it names a shelter and a record, a field an edit
// may change, and a value that a record may hold in that field (applied
// to a record that is valid whatever that field holds). The device runs
// it on every edit it records; the server on every edit it stores.
func (ed Edit) Validate(thisYear int) error {
	switch {
	case ed.Shelter == "":
		return &FieldError{"shelter", ErrRequired}
	case ed.Record == "":
		return &FieldError{"record", ErrRequired}
	case len(ed.Shelter) > MaxIDLen || len(ed.Record) > 2*MaxIDLen || len(ed.Prev) > 2*MaxIDLen:
		return &FieldError{"record", ErrTooLong}
	}
	// An identified person needs no reading, so an edit clearing it is
	// the record's business, not the edit's.
	_, err := ed.Apply(Evacuee{Shelter: ed.Shelter, Resident: "r", BirthYear: thisYear}, thisYear)
	return err
}

// Value returns the field of e as an Edit carries it.
func Value(e Evacuee, field string) string {
	if f, ok := fields[field]; ok {
		return f.get(e)
	}
	return ""
}

// PersonKey is who a record is, as far as it can tell: the resident an
// identified person is, else the reading without spaces and the birth
// year. Two records with one key at two shelters are most likely one
// person checked in twice, which staff must see.
func PersonKey(e Evacuee) string {
	if e.Resident != "" {
		return "resident:" + e.Resident
	}
	return strings.ReplaceAll(NormalizeKana(e.Kana), "\u3000", "") + "/" + strconv.Itoa(e.BirthYear)
}
