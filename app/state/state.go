// Package state folds an op log into the records the screens show. The fold
// is deterministic: any device and the server, given the same set of ops in
// any arrival order, compute the same state. That is what lets a shelter
// tablet show its own unsynced records at once and agree with HQ later.
package state

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/hospital"
	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/app/pass"
	"smartpass.city/smartpass/app/scope"
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
	edits map[string]map[string][]edit
	// last is the place of the last op folded in Fold's order (its
	// HLC, Device and Seq); folded is false while none was.
	last   syncproto.Op
	folded bool
}

// edit is one applied correction.
type edit struct {
	id    string // the edit op's record id
	value string
	prev  string
	hlc   uint64
}

// Rejected is an op the fold could not apply.
type Rejected struct {
	Op     syncproto.Op
	Reason string
}

// Fold returns the state of ops, ordered by (HLC, device, seq) first so the
// result does not depend on the order they arrived in.
func Fold(ops []syncproto.Op) *State {
	sorted := slices.Clone(ops)
	slices.SortFunc(sorted, compareOps)
	s := &State{
		Facilities: make(map[string]facility.Facility),
		Evacuees:   make(map[string]shelter.Evacuee),
		Templates:  make(map[string]template.Template),
		Profiles:   make(map[string]template.Profile),
		PassesUsed: make(map[string]bool),
		Patients:   make(map[string]map[string]string),
		edits:      make(map[string]map[string][]edit),
	}
	for _, op := range sorted {
		s.next(op)
	}
	return s
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

// next applies op, the next in fold order, keeping a refusal as Rejected.
func (s *State) next(op syncproto.Op) {
	if err := s.apply(op); err != nil {
		s.Rejected = append(s.Rejected, Rejected{Op: op, Reason: err.Error()})
	}
	s.last, s.folded = syncproto.Op{HLC: op.HLC, Device: op.Device, Seq: op.Seq}, true
}

func compareOps(a, b syncproto.Op) int {
	return cmp.Or(cmp.Compare(a.HLC, b.HLC), cmp.Compare(a.Device, b.Device), cmp.Compare(a.Seq, b.Seq))
}

// RecordID names the record an op created: the op's own identity, which is
// unique across devices without coordination.
func RecordID(op syncproto.Op) string {
	return op.Device + "." + strconv.FormatUint(op.Seq, 10)
}

func (s *State) apply(op syncproto.Op) error {
	switch op.Kind {
	case facility.OpUpsert:
		f, err := validBody[facility.Facility](op)
		if err != nil {
			return err
		}
		s.Facilities[f.ID] = f
	case shelter.OpEvacueeAdd:
		e, err := body[shelter.Evacuee](op)
		if err != nil {
			return err
		}
		e.ID = RecordID(op)
		s.Evacuees[e.ID] = e
	case shelter.OpEvacueeEdit:
		ed, err := body[shelter.Edit](op)
		if err != nil {
			return err
		}
		e, ok := s.Evacuees[ed.Record]
		if !ok || e.Shelter != ed.Shelter {
			return fmt.Errorf("state: %s: no record %s at %s", op.Kind, ed.Record, ed.Shelter)
		}
		// The year is the edit's own, so every device judges it alike.
		e, err = ed.Apply(e, hlc.Wall(op.HLC).Year())
		if err != nil {
			return fmt.Errorf("state: %s of %s: %w", op.Kind, ed.Record, err)
		}
		s.Evacuees[ed.Record] = e
		if s.edits[ed.Record] == nil {
			s.edits[ed.Record] = make(map[string][]edit)
		}
		s.edits[ed.Record][ed.Field] = append(s.edits[ed.Record][ed.Field], edit{id: RecordID(op), value: shelter.Value(e, ed.Field), prev: ed.Prev, hlc: op.HLC})
	case template.OpPut:
		t, err := validBody[template.Template](op)
		if err != nil {
			return err
		}
		s.Templates[t.Resident] = t
	case template.OpDelete:
		d, err := body[template.Delete](op)
		if err != nil {
			return err
		}
		delete(s.Templates, d.Resident)
		delete(s.Profiles, d.Resident)
	case template.OpProfile:
		p, err := validBody[template.Profile](op)
		if err != nil {
			return err
		}
		s.Profiles[p.Resident] = p
	case jpki.OpAnchors:
		a, err := body[jpki.Anchors](op)
		if err != nil {
			return err
		}
		s.Anchors = &a
	case pass.OpKeys:
		k, err := body[pass.Keys](op)
		if err != nil {
			return err
		}
		s.PassKeys = k
	case identify.OpIdentified:
		i, err := body[identify.Identification](op)
		if err != nil {
			return err
		}
		if i.Pass != "" && i.Outcome == identify.Accepted {
			s.PassesUsed[i.Pass] = true
		}
	case hospital.OpLink:
		l, err := validBody[hospital.Link](op)
		if err != nil {
			return err
		}
		if s.Patients[l.Facility] == nil {
			s.Patients[l.Facility] = make(map[string]string)
		}
		s.Patients[l.Facility][l.Resident] = l.Patient
	case hospital.OpReception:
		r, err := validBody[hospital.Reception](op)
		if err != nil {
			return err
		}
		s.Receptions = append(s.Receptions, Reception{Reception: r, ID: RecordID(op), At: hlc.Wall(op.HLC)})
	case scope.OpRejected:
		// The server refused the op its device recorded: show it as
		// refused, with the original kind and body, never apply it.
		r, err := body[scope.Rejection](op)
		if err != nil {
			return err
		}
		orig := op
		orig.Kind, orig.Body = r.Kind, r.Body
		s.Rejected = append(s.Rejected, Rejected{Op: orig, Reason: "refused by the server: " + r.Reason})
	default:
		// A kind from a newer app version: keep it in the log, show nothing.
	}
	return nil
}

// body decodes an op's body as a T.
func body[T any](op syncproto.Op) (T, error) {
	var v T
	if err := json.Unmarshal(op.Body, &v); err != nil {
		return v, fmt.Errorf("state: %s body: %w", op.Kind, err)
	}
	return v, nil
}

// validBody decodes an op's body as a T and checks it.
func validBody[T interface{ Validate() error }](op syncproto.Op) (T, error) {
	v, err := body[T](op)
	if err == nil {
		if err = v.Validate(); err != nil {
			err = fmt.Errorf("state: %w", err)
		}
	}
	return v, err
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
	return eds[len(eds)-1].id
}

// Reception is a hospital reception as the desk's queue lists it.
type Reception struct {
	hospital.Reception
	ID string
	At time.Time
}

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
		out[i] = Change{Value: ed.value, At: hlc.Wall(ed.hlc)}
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
			c := Conflict{Kind: ConflictEdit, Records: []string{record}, Field: field, Values: []string{win.value}}
			for _, ed := range eds[:len(eds)-1] {
				if ed.prev == win.prev && !slices.Contains(c.Values, ed.value) {
					c.Values = append(c.Values, ed.value)
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
