// Package state folds an op log into the records the screens show. The fold
// is deterministic: any device and the server, given the same set of ops in
// any arrival order, compute the same state. That is what lets a shelter
// tablet show its own unsynced records at once and agree with HQ later.
package state

import (
	"cmp"
	"reflect"
	"slices"
	"time"

	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/hospital"
	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/app/pass"
	_ "smartpass.city/smartpass/app/scope" // links every kind, and the server's refusals
	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/syncproto"
)

// State is the result of folding ops.
type State struct {
	Facilities map[string]facility.Facility
	Evacuees   map[string]shelter.Evacuee
	// Templates holds the face templates this device may match against,
	// by resident.
	Templates map[string]template.Template
	// Profiles holds what this device may know of those residents, by
	// resident (template.Profile).
	Profiles map[string]template.Profile
	// Anchors are the JPKI trust anchors and revocation lists the server
	// published last, for checking cards offline (nil: none yet).
	Anchors *jpki.Anchors
	// Patients are the hospitals' patient numbers, by facility and then
	// resident; Receptions every reception, in fold (arrival) order.
	Patients   map[string]map[string]string
	Receptions []Reception
	// PassKeys are the keys QR passes are signed with, as the server
	// published them last (empty: none yet).
	PassKeys pass.Keys
	// PassesUsed holds the passes this device admitted (pass.Pass.ID):
	// a pass is admitted once.
	PassesUsed map[string]bool
	// Rejected lists ops that could not be applied, with the reason, so
	// staff see them instead of losing them silently.
	Rejected []Rejected

	// edits holds every applied edit per record and field, in fold
	// order: the last one is the field's value.
	edits map[string]map[string][]shelter.FieldEdit
	// parts is where each kind folds (opkind.Parts): the fields above
	// are bound to their kinds' parts, a kind without a field here keeps
	// its own (Parts).
	parts *opkind.Parts
	// last is the place of the last op folded in Fold's order (its
	// HLC, Device and Seq); folded is false while none was.
	last   syncproto.Op
	folded bool
}

// Rejected is an op the fold could not apply.
type Rejected = opkind.Rejected

// Fold returns the state of ops, ordered by (HLC, device, seq) first so the
// result does not depend on the order they arrived in.
func Fold(ops []syncproto.Op) *State { return FoldPaced(slices.Clone(ops), 0, nil) }

// checkEvery is how many ops FoldPaced folds between looks at the clock
// (in a browser each look is a call out to JavaScript).
const checkEvery = 64

// FoldPaced is Fold that sorts ops in place into fold order first (ops
// nearly in that order, as a projection keeps them, sort in about one
// pass), and calls pause after each stretch of about slice spent folding
// (nil: never). In a browser Go's WebAssembly runs on the page's one
// thread and gives it back only when every goroutine waits: a fold of a
// terminal's whole log, seconds with a city's templates, would hold the
// camera's frames for all of it; a pause that waits (a short sleep)
// gives the page its turn between stretches.
func FoldPaced(ops []syncproto.Op, slice time.Duration, pause func()) *State {
	slices.SortFunc(ops, compareOps)
	s := &State{}
	start := time.Now()
	for i, op := range ops {
		s.next(op)
		if pause != nil && i%checkEvery == checkEvery-1 && time.Since(start) >= slice {
			pause()
			start = time.Now()
		}
	}
	return s
}

// Parts returns the folded parts, for a kind whose part the State has no
// field for (opkind.Slot.In).
func (s *State) Parts() *opkind.Parts {
	if s.parts == nil {
		s.bind()
	}
	return s.parts
}

// bind makes the State's fields the parts their kinds fold into. A State
// made by hand (a screen's test) keeps its fields' contents.
func (s *State) bind() {
	s.parts = &opkind.Parts{}
	keep(s.parts, facility.Facilities, &s.Facilities)
	keep(s.parts, shelter.Evacuees, &s.Evacuees)
	keep(s.parts, shelter.Edits, &s.edits)
	keep(s.parts, template.Templates, &s.Templates)
	keep(s.parts, template.Profiles, &s.Profiles)
	keep(s.parts, jpki.Published, &s.Anchors)
	keep(s.parts, hospital.Patients, &s.Patients)
	keep(s.parts, hospital.Arrivals, &s.Receptions)
	keep(s.parts, pass.Published, &s.PassKeys)
	keep(s.parts, identify.PassesUsed, &s.PassesUsed)
	keep(s.parts, opkind.Rejections, &s.Rejected)
}

// keep binds field to slot in p, keeping what it held.
func keep[T any](p *opkind.Parts, slot *opkind.Slot[T], field *T) {
	was := *field
	slot.Bind(p, field)
	if !reflect.ValueOf(&was).Elem().IsZero() {
		*field = was
	}
}

// Apply folds op into s as the next op, and reports true, when op comes
// after every op folded so far in Fold's order: the result is then what
// Fold would return with op added. Otherwise it changes nothing and
// reports false, and the caller folds again from every op. A tab keeps
// one state this way: its own records and most synced ops arrive in
// order, and each costs one op's work instead of a fold of the whole log.
func (s *State) Apply(op syncproto.Op) bool {
	if s.folded && compareOps(op, s.last) <= 0 {
		return false
	}
	s.next(op)
	return true
}

// next applies op, the next in fold order (a refusal is kept as
// Rejected by the kind's fold).
func (s *State) next(op syncproto.Op) {
	s.apply(op)
	s.last, s.folded = syncproto.Op{HLC: op.HLC, Device: op.Device, Seq: op.Seq}, true
}

func compareOps(a, b syncproto.Op) int {
	return cmp.Or(cmp.Compare(a.HLC, b.HLC), cmp.Compare(a.Device, b.Device), cmp.Compare(a.Seq, b.Seq))
}

// RecordID names the record an op created: the op's own identity, which is
// unique across devices without coordination.
func RecordID(op syncproto.Op) string { return opkind.RecordID(op) }

// apply folds one op into s, by its kind's declaration (opkind.Fold).
func (s *State) apply(op syncproto.Op) {
	opkind.Fold(s.Parts(), op)
}

// Shelters returns the shelter facilities, ordered by id.
func (s *State) Shelters() []facility.Facility { return s.FacilitiesOf(facility.Shelter) }

// FacilitiesOf returns the facilities of the given kinds, ordered by id.
func (s *State) FacilitiesOf(kinds ...facility.Kind) []facility.Facility {
	var out []facility.Facility
	for _, f := range s.Facilities {
		if slices.Contains(kinds, f.Kind) {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b facility.Facility) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// EvacueesAt returns the evacuees of one shelter in reading (kana) order;
// people identified by their pass, who have a name but no reading, by
// name.
func (s *State) EvacueesAt(shelterID string) []shelter.Evacuee {
	var out []shelter.Evacuee
	for _, e := range s.Evacuees {
		if e.Shelter == shelterID {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b shelter.Evacuee) int {
		return cmp.Or(cmp.Compare(cmp.Or(a.Kana, a.Name), cmp.Or(b.Kana, b.Name)), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// FieldSource names the edit that gave a record's field its current value
// ("" for the value it was created with): the Prev of the next edit.
func (s *State) FieldSource(record, field string) string {
	eds := s.edits[record][field]
	if len(eds) == 0 {
		return ""
	}
	return eds[len(eds)-1].ID
}

// Reception is a hospital reception as the desk's queue lists it.
type Reception = hospital.Arrival

// Queue returns the receptions at facility on the day of now (local
// time), in order of arrival: the desk's queue. The first is number 1.
func (s *State) Queue(facility string, now time.Time) []Reception {
	y, m, d := now.Date()
	var out []Reception
	for _, r := range s.Receptions {
		if ry, rm, rd := r.At.In(now.Location()).Date(); r.Facility == facility && ry == y && rm == m && rd == d {
			out = append(out, r)
		}
	}
	return out
}

// Change is one value a record's field took, and when.
type Change struct {
	Value string
	At    time.Time
}

// History returns the values a field of a record took after it was
// created, oldest first: a person's comings and goings are history, never
// overwritten.
func (s *State) History(record, field string) []Change {
	eds := s.edits[record][field]
	out := make([]Change, len(eds))
	for i, ed := range eds {
		out[i] = Change{Value: ed.Value, At: hlc.Wall(ed.HLC)}
	}
	return out
}

// Conflict kinds.
const (
	// ConflictTwoShelters: records of one person (by shelter.PersonKey)
	// at more than one shelter.
	ConflictTwoShelters = "two_shelters"
	// ConflictEdit: a field corrected on two devices that did not see
	// each other's correction; Values holds the winner first.
	ConflictEdit = "edit"
)

// Conflict is something staff must look at and resolve: the fold has
// picked a value or kept both records, deterministically, but a person
// should decide.
type Conflict struct {
	Kind    string
	Records []string // evacuee ids, sorted
	Field   string   // ConflictEdit only
	Values  []string // ConflictEdit only: the value shown first, then the others
}

// Conflicts returns the conflicts in the state, in a stable order.
func (s *State) Conflicts() []Conflict {
	var out []Conflict
	byPerson := make(map[string][]shelter.Evacuee)
	for _, e := range s.Evacuees {
		if e.Status == shelter.StatusLeft {
			continue // checked out there: no longer in two places
		}
		k := shelter.PersonKey(e)
		byPerson[k] = append(byPerson[k], e)
	}
	for _, group := range byPerson {
		places := make(map[string]bool)
		for _, e := range group {
			places[e.Shelter] = true
		}
		if len(places) < 2 {
			continue
		}
		c := Conflict{Kind: ConflictTwoShelters}
		for _, e := range group {
			c.Records = append(c.Records, e.ID)
		}
		slices.Sort(c.Records)
		out = append(out, c)
	}
	for record, fields := range s.edits {
		for field, eds := range fields {
			win := eds[len(eds)-1]
			c := Conflict{Kind: ConflictEdit, Records: []string{record}, Field: field, Values: []string{win.Value}}
			for _, ed := range eds[:len(eds)-1] {
				if ed.Prev == win.Prev && !slices.Contains(c.Values, ed.Value) {
					c.Values = append(c.Values, ed.Value)
				}
			}
			if len(c.Values) > 1 {
				out = append(out, c)
			}
		}
	}
	slices.SortFunc(out, func(a, b Conflict) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), slices.Compare(a.Records, b.Records), cmp.Compare(a.Field, b.Field))
	})
	return out
}
