// Package shelter holds the evacuation-shelter records that volunteers write:
// who arrived, entered by hand when the person has no pass.
//
// Records are facts in the op log: adding an evacuee is an op of kind
// OpEvacueeAdd whose body is an Evacuee. The record's identity is the op that
// created it, so two tablets offline for days can never mint the same id.
package shelter

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// OpEvacueeAdd is the op kind for a person entered by hand at a shelter.
const OpEvacueeAdd = "shelter.evacuee.add"

// Evacuee is a person at a shelter: checked in by hand, with what the
// shelter needs to look after them. Only Shelter, Kana and BirthYear are
// required; the rest is filled in as staff learn it, each change an Edit.
type Evacuee struct {
	ID        string `json:"-"` // set by the fold from the creating op
	Shelter   string `json:"shelter"`
	Name      string `json:"name,omitempty"` // as the person writes it, kanji or kana
	Kana      string `json:"kana"`           // reading, for sorting and search
	BirthYear int    `json:"birth_year"`
	// Resident is set when the person was identified by their pass (face
	// or QR): the name, birth year and sex then come from the shelter's
	// profile of them (template.Profile), and no reading is needed.
	Resident string `json:"resident,omitempty"`
	// Sex is the card's code (card.Sex*): "1" male, "2" female, "3"
	// unknown (signature certificates), "9" not given; ""
	// when not asked.
	Sex string `json:"sex,omitempty"`
	// Area is the district of the home address (大聖寺, 山代, ...): enough
	// for HQ to tell relatives apart, without a full address.
	Area string `json:"area,omitempty"`
	// Household is shared by the people checked in together, so a family
	// is found, counted and moved as one.
	Household string `json:"household,omitempty"`
	// Status is StatusIn when empty.
	Status string `json:"status,omitempty"`
	// Stay is where the person sleeps: StayShelter when empty.
	Stay string `json:"stay,omitempty"`
	// Location is where in the shelter ("体育館 A-12").
	Location string `json:"location,omitempty"`
	// Needs are the 要配慮者 categories that apply (Needs lists them).
	Needs      []string `json:"needs,omitempty"`
	Allergies  string   `json:"allergies,omitempty"`
	Medication string   `json:"medication,omitempty"`
	Pets       string   `json:"pets,omitempty"`
	// Disclose: the person agrees that their safety and shelter may be
	// told to people who ask (安否情報の開示同意). Without it HQ answers an
	// inquirer with nothing.
	Disclose bool `json:"disclose,omitempty"`
}

// Statuses of a person at a shelter; a change is an Edit, so the history
// of comings and goings stays in the log.
const (
	StatusIn   = "in"   // 在所 (the default)
	StatusOut  = "out"  // 一時外出
	StatusLeft = "left" // 退所
)

// Where a person registered at a shelter stays: many sleep at home, in
// their car or in a tent and come for food, water and news.
const (
	StayShelter = "shelter"
	StayHome    = "home"
	StayCar     = "car"
	StayTent    = "tent"
)

// Needs are the special-needs categories (要配慮者) a shelter tracks.
var Needs = []string{"dialysis", "oxygen", "medication", "allergy", "pregnancy", "disability", "mobility", "interpreter"}

// Present reports whether the person is at the shelter now: checked in,
// not out, not left, and sleeping there.
func (e Evacuee) Present() bool {
	return (e.Status == "" || e.Status == StatusIn) && (e.Stay == "" || e.Stay == StayShelter)
}

// Congestion is the shelter's crowding level from its occupancy and
// capacity, in the bands the city reports: 0 (under 30%), 1 (30–60%),
// 2 (60–80%), 3 (80% and over). A shelter with no capacity set is 0.
func Congestion(present, capacity int) int {
	if capacity <= 0 {
		return 0
	}
	pct := 100 * present / capacity
	switch {
	case pct >= 80:
		return 3
	case pct >= 60:
		return 2
	case pct >= 30:
		return 1
	}
	return 0
}

// Field errors wrapped by Validate, so the form can say which field is wrong
// and how, in the reader's language.
var (
	ErrRequired  = errors.New("required")
	ErrNotKana   = errors.New("not kana")
	ErrTooLong   = errors.New("too long")
	ErrBirthYear = errors.New("birth year out of range")
	ErrChoice    = errors.New("not one of the choices")
	ErrControl   = errors.New("holds a control character")
)

// FieldError says which form field failed and why.
type FieldError struct {
	Field string // "shelter", "name", "kana" or "birth_year"
	Err   error
}

func (e *FieldError) Error() string { return "shelter: " + e.Field + ": " + e.Err.Error() }

// Unwrap returns the reason, one of the Err variables.
func (e *FieldError) Unwrap() error { return e.Err }

// MaxNameRunes bounds names and readings; real names are far shorter.
const MaxNameRunes = 40

// MaxIDLen bounds the ids a record holds (shelter, resident, record), in
// bytes.
const MaxIDLen = 64

// MaxNoteRunes bounds the free-text fields (allergies, medication, pets).
const MaxNoteRunes = 200

// Normalize trims the fields and folds the reading to full-width katakana, so
// "やまだ たろう" and "ﾔﾏﾀﾞ ﾀﾛｳ" sort and match as the same reading.
func (e Evacuee) Normalize() Evacuee {
	e.Shelter = strings.TrimSpace(e.Shelter)
	e.Name = strings.TrimSpace(e.Name)
	e.Kana = NormalizeKana(e.Kana)
	e.Area = strings.TrimSpace(e.Area)
	e.Location = strings.TrimSpace(e.Location)
	e.Allergies = strings.TrimSpace(e.Allergies)
	e.Medication = strings.TrimSpace(e.Medication)
	e.Pets = strings.TrimSpace(e.Pets)
	slices.Sort(e.Needs)
	e.Needs = slices.Compact(e.Needs)
	return e
}

// Validate checks a normalised record against what a shelter needs: a
// reading (kana) that staff can sort and call out, and a plausible birth
// year. thisYear is the current year on the device.
func (e Evacuee) Validate(thisYear int) error {
	switch {
	case e.Shelter == "":
		return &FieldError{"shelter", ErrRequired}
	case len(e.Shelter) > MaxIDLen:
		return &FieldError{"shelter", ErrTooLong}
	case utf8.RuneCountInString(e.Name) > MaxNameRunes:
		return &FieldError{"name", ErrTooLong}
	case e.Kana == "" && e.Resident == "":
		return &FieldError{"kana", ErrRequired}
	case len(e.Resident) > MaxIDLen:
		return &FieldError{"resident", ErrTooLong}
	case utf8.RuneCountInString(e.Kana) > MaxNameRunes:
		return &FieldError{"kana", ErrTooLong}
	case !isKana(e.Kana):
		return &FieldError{"kana", ErrNotKana}
	case e.BirthYear < thisYear-120 || e.BirthYear > thisYear:
		return &FieldError{"birth_year", fmt.Errorf("%w: %d", ErrBirthYear, e.BirthYear)}
	case !slices.Contains([]string{"", "1", "2", "3", "9"}, e.Sex):
		return &FieldError{FieldSex, fmt.Errorf("%w: %q", ErrChoice, e.Sex)}
	case !slices.Contains([]string{"", StatusIn, StatusOut, StatusLeft}, e.Status):
		return &FieldError{FieldStatus, fmt.Errorf("%w: %q", ErrChoice, e.Status)}
	case !slices.Contains([]string{"", StayShelter, StayHome, StayCar, StayTent}, e.Stay):
		return &FieldError{FieldStay, fmt.Errorf("%w: %q", ErrChoice, e.Stay)}
	}
	for _, n := range e.Needs {
		if !slices.Contains(Needs, n) {
			return &FieldError{FieldNeeds, fmt.Errorf("%w: %q", ErrChoice, n)}
		}
	}
	// Fields in a fixed order (not a map: a record with two faults names
	// the same one every time, and the check allocates nothing).
	for _, f := range [...]struct {
		name, v string
		max     int
	}{
		{FieldArea, e.Area, MaxNameRunes}, {FieldHousehold, e.Household, MaxNameRunes}, {FieldLocation, e.Location, MaxNameRunes},
		{FieldAllergies, e.Allergies, MaxNoteRunes}, {FieldMedication, e.Medication, MaxNoteRunes}, {FieldPets, e.Pets, MaxNoteRunes},
	} {
		if utf8.RuneCountInString(f.v) > f.max {
			return &FieldError{f.name, ErrTooLong}
		}
	}
	// Every field is one line of text a person typed: a control character
	// (a newline, a tab, an escape) came from somewhere else, and would
	// break the roster's lines or a terminal that prints it.
	for _, f := range [...]struct{ name, v string }{
		{"shelter", e.Shelter}, {FieldName, e.Name}, {"resident", e.Resident}, {FieldArea, e.Area}, {FieldHousehold, e.Household},
		{FieldLocation, e.Location}, {FieldAllergies, e.Allergies}, {FieldMedication, e.Medication}, {FieldPets, e.Pets},
	} {
		if strings.ContainsFunc(f.v, unicode.IsControl) || !utf8.ValidString(f.v) {
			return &FieldError{f.name, ErrControl}
		}
	}
	return nil
}

// NormalizeKana folds a reading to full-width katakana with single
// full-width spaces: hiragana becomes katakana, half-width katakana (with its
// separate voicing marks) becomes full width.
func NormalizeKana(s string) string {
	var b strings.Builder
	rs := []rune(strings.TrimSpace(s))
	space := false
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteRune('\u3000')
		}
		space = false
		switch {
		case r >= 'ぁ' && r <= 'ゖ':
			r += 'ァ' - 'ぁ'
		case r >= 0xFF66 && r <= 0xFF9D:
			r = halfKata[r-0xFF66]
			if i+1 < len(rs) {
				switch rs[i+1] {
				case 'ﾞ':
					if v, ok := voiced(r, 1); ok {
						r, i = v, i+1
					}
				case 'ﾟ':
					if v, ok := voiced(r, 2); ok {
						r, i = v, i+1
					}
				}
			}
		case r == 'ｰ':
			r = 'ー'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// halfKata maps U+FF66..U+FF9D to full-width katakana.
var halfKata = []rune("ヲァィゥェォャュョッーアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン")

// voiced returns the voiced (step 1, dakuten) or semi-voiced (step 2,
// handakuten) form of a full-width katakana, if it has one.
func voiced(r rune, step rune) (rune, bool) {
	switch {
	case step == 1 && r == 'ウ':
		return 'ヴ', true
	case step == 1 && ((r >= 'カ' && r <= 'ト' && (r-'カ')%2 == 0) || (r >= 'ハ' && r <= 'ホ' && (r-'ハ')%3 == 0)):
		return r + 1, true
	case step == 2 && r >= 'ハ' && r <= 'ホ' && (r-'ハ')%3 == 0:
		return r + 2, true
	}
	return r, false
}

func isKana(s string) bool {
	for _, r := range s {
		if !(r >= 'ァ' && r <= 'ヺ') && r != 'ー' && r != '・' && r != '\u3000' {
			return false
		}
	}
	return true
}

// ErrYear is wrapped by ParseBirthYear.
var ErrYear = errors.New("not a year")

// eras maps the Japanese era names (and their usual Latin initials) to the
// Western year before the era's first year, for ParseBirthYear.
var eras = []struct {
	names []string
	base  int
}{
	{[]string{"令和", "R"}, 2018},
	{[]string{"平成", "H"}, 1988},
	{[]string{"昭和", "S"}, 1925},
	{[]string{"大正", "T"}, 1911},
	{[]string{"明治", "M"}, 1867},
}

// ParseBirthYear reads a birth year as people write it on a form: a
// Western year ("1950", "１９５０") or a Japanese era year ("昭和25",
// "S25", "昭和25年"), because many elderly evacuees know their birth year
// only in the era calendar.
func ParseBirthYear(s string) (int, error) {
	s = strings.TrimSuffix(strings.TrimSpace(foldDigits(s)), "年")
	base := 0
	for _, era := range eras {
		for _, name := range era.names {
			if rest, ok := strings.CutPrefix(strings.ToUpper(s), name); ok {
				s, base = strings.TrimSpace(rest), era.base
			}
		}
	}
	if s == "元" && base != 0 {
		return base + 1, nil // 元年: the era's first year
	}
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' || n > 9999 {
			return 0, fmt.Errorf("shelter: birth year %q: %w", s, ErrYear)
		}
		n = n*10 + int(r-'0')
	}
	if s == "" || (base != 0 && n == 0) {
		return 0, fmt.Errorf("shelter: birth year %q: %w", s, ErrYear)
	}
	return base + n, nil
}

// foldDigits turns full-width digits (what a Japanese keyboard often
// types) into ASCII ones.
func foldDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '０' && r <= '９' {
			return r - '０' + '0'
		}
		return r
	}, s)
}
