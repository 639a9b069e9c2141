// Package scope decides what an enrolled device may do: which op kinds it
// may push and which feeds it pulls, from the facility and role it was
// enrolled for. The server enforces these rules on every push and pull; the
// device uses the same code to show only the screens its role has. Like the
// state fold, it is one piece of code on both sides so they cannot
// disagree.
//
// A feed is the part of the log a device may see. Each op belongs to the
// feeds Feeds returns, decided when the server stores it: a facility's own
// events go to that facility's feed, facility records to the public feed,
// and everything to FeedAll, which only the HQ pulls. So a play park never
// receives a shelter's roster, and a shelter never receives another
// shelter's.
package scope

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"smartpass.city/smartpass/app/access"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/hospital"
	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/app/pass"
	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/syncproto"
)

// Role is what a device does at its facility.
type Role string

// The roles. Each belongs to one facility kind (RolesFor).
const (
	Shelter   Role = "shelter"   // a shelter's check-in tablet
	Reception Role = "reception" // a hospital's reception terminal
	PlayPark  Role = "playpark"  // a play park's entrance terminal
	HQ        Role = "hq"        // the disaster HQ's screens: every shelter, read only
	// Registrar is the city office's enrollment desk, which records
	// residents' face templates for the facilities they consented to.
	Registrar Role = "registrar"
	// Audit reads the whole log (FeedAll), templates included: backup
	// checks and the tests' auditor, never a screen.
	Audit Role = "audit"
)

// rolesByKind lists the roles a device of each facility kind may hold.
var rolesByKind = map[facility.Kind][]Role{
	facility.Shelter:  {Shelter},
	facility.Hospital: {Reception},
	facility.PlayPark: {PlayPark},
	facility.HQ:       {HQ, Registrar, Audit},
}

// RolesFor returns the roles a device of a facility of kind k may hold.
func RolesFor(k facility.Kind) []Role { return slices.Clone(rolesByKind[k]) }

// screenRoles are the roles a tablet works in through a screen of the
// app. Only these are issued from the admin screen: a role without a
// screen (Audit, which pulls the whole log) is for the data directory's
// owner alone, at the command line.
var screenRoles = []Role{Shelter, Reception, PlayPark, HQ, Registrar}

// HasScreen reports whether r is a role a tablet works in through one of
// the app's screens, so that staff may hand out set-up codes for it.
func (r Role) HasScreen() bool { return slices.Contains(screenRoles, r) }

// ScreenRolesFor returns the roles of RolesFor(k) that have a screen: the
// ones the admin screen offers and issues codes for.
func ScreenRolesFor(k facility.Kind) []Role {
	return slices.DeleteFunc(RolesFor(k), func(r Role) bool { return !r.HasScreen() })
}

// ErrNoScreen is what a staff member asking a code for a role without a
// screen is told.
var ErrNoScreen = errors.New("this role has no screen: its set-up codes come from the server's command line only")

// Feed names. A facility's own feed is FacilityFeed(id), its face
// templates TemplateFeed(id).
const (
	FeedAll    = "all"    // every op: audit only
	FeedPublic = "public" // facility records, which every device needs
	FeedHQ     = "hq"     // every shelter's records, for the HQ
)

// FacilityFeed names the feed of one facility's own ops.
func FacilityFeed(id string) string { return "facility." + id }

// templatePrefix starts the name of every template feed.
const templatePrefix = "templates."

// TemplateFeed names the feed of the templates a facility's terminals
// match against.
func TemplateFeed(id string) string { return templatePrefix + id }

// IsSnapshot reports whether feed is served to a new device as a
// compacted snapshot (template feeds: many records, read-mostly).
func IsSnapshot(feed string) bool { return strings.HasPrefix(feed, templatePrefix) }

// SnapshotKey names the record an op of a snapshot feed is about: a
// snapshot keeps only the latest op per key.
func SnapshotKey(op syncproto.Op) string {
	var r struct{ Resident string }
	json.Unmarshal(op.Body, &r)
	if op.Kind == template.OpProfile {
		// Beside the template, not instead of it.
		return r.Resident + "/profile"
	}
	return r.Resident
}

// OpRejected is the kind of op the server stores in place of an op the
// pushing device was not allowed to record. It keeps the op's (device,
// seq), so the device's queue moves on, and the original kind and body, so
// staff of that facility see what was refused and why. Its body is a
// Rejection.
const OpRejected = "sync.rejected"

// Rejection is the body of an OpRejected op.
type Rejection struct {
	Facility string          `json:"facility"` // of the device that pushed it
	Kind     string          `json:"kind"`
	Body     json.RawMessage `json:"body,omitempty"`
	Reason   string          `json:"reason"`
	// Invalid: the body broke its kind's rules (ErrInvalid). The verdict
	// then stays in the feed of the facility that pushed it, and does not
	// carry the malformed record on to the HQ.
	Invalid bool `json:"invalid,omitempty"`
}

// ErrForbidden is wrapped by Check and CheckRole.
var ErrForbidden = errors.New("not allowed for this device")

// Device is an enrolled device as the rules see it.
type Device struct {
	ID       string
	Facility facility.Facility
	Role     Role
}

// CheckRole reports whether a device of facility f may be enrolled as role.
func CheckRole(f facility.Facility, role Role) error {
	if !slices.Contains(rolesByKind[f.Kind], role) {
		return fmt.Errorf("%w: role %q at %s (a %s); allowed: %v", ErrForbidden, role, f.ID, f.Kind, rolesByKind[f.Kind])
	}
	return nil
}

// Feeds returns the feeds the device pulls.
func (d Device) Feeds() []string {
	switch d.Role {
	case HQ:
		return []string{FeedPublic, FeedHQ}
	case Audit:
		return []string{FeedAll}
	case Registrar:
		return []string{FeedPublic}
	}
	return []string{FeedPublic, FacilityFeed(d.Facility.ID), TemplateFeed(d.Facility.ID)}
}

// MayPull reports whether the device may pull feed.
func (d Device) MayPull(feed string) bool { return slices.Contains(d.Feeds(), feed) }

// pushable lists the op kinds each role records.
var pushable = map[Role][]string{
	Shelter:   {shelter.OpEvacueeAdd, shelter.OpEvacueeEdit, jpki.OpChecked, access.OpRead, identify.OpIdentified},
	HQ:        {access.OpRead},
	Registrar: {template.OpPut, template.OpDelete},
	PlayPark:  {identify.OpIdentified, jpki.OpChecked},
	Reception: {identify.OpIdentified, jpki.OpChecked, hospital.OpLink, hospital.OpReception},
}

// Check reports whether the device may record op: its role must record
// that kind, its body must keep its kind's rules (Validate), and the op
// must concern the device's own facility. No device records OpRejected:
// only the server writes its verdicts, so a device cannot plant one in
// another facility's feed.
func (d Device) Check(op syncproto.Op) error {
	if !slices.Contains(pushable[d.Role], op.Kind) {
		return fmt.Errorf("%w: a %s device does not record %s", ErrForbidden, d.Role, op.Kind)
	}
	if err := Validate(op); err != nil {
		return err
	}
	if d.Role == Registrar {
		// The city desk records for residents of every facility.
		return nil
	}
	at, err := facilityOf(op)
	if err != nil {
		return fmt.Errorf("%w: %w: %v", ErrForbidden, ErrInvalid, err)
	}
	if at != d.Facility.ID {
		return fmt.Errorf("%w: a device of %s recorded %s for %s", ErrForbidden, d.Facility.ID, op.Kind, at)
	}
	return nil
}

// ErrInvalid is wrapped (beside ErrForbidden) by Check and Validate when
// an op's body breaks its kind's rules: a reading that is not kana, a
// birth year not yet come, an identification with no outcome.
var ErrInvalid = errors.New("the record breaks its kind's rules")

// validators check an op's body by its kind's own rules, each the
// function of the kind's package that the device calls before it records
// the op: the server applies the same ones to every op it stores.
var validators = map[string]func(syncproto.Op) error{
	shelter.OpEvacueeAdd:  rule(func(e shelter.Evacuee) error { return e.Validate(latestYear()) }),
	shelter.OpEvacueeEdit: rule(func(ed shelter.Edit) error { return ed.Validate(latestYear()) }),
	identify.OpIdentified: rule(identify.Identification.Validate),
	jpki.OpChecked:        rule(jpki.Checked.Validate),
	access.OpRead:         rule(access.Read.Validate),
	hospital.OpLink:       rule(hospital.Link.Validate),
	hospital.OpReception:  rule(hospital.Reception.Validate),
	template.OpPut:        rule(template.Template.Validate),
	template.OpDelete:     rule(template.Delete.Validate),
}

// Validate checks op's body by the rules of its kind. A kind with no rules
// here (a server's own record, a kind of a newer build) passes: whether a
// device may record it at all is Check's question.
func Validate(op syncproto.Op) error {
	if v, ok := validators[op.Kind]; ok {
		if err := v(op); err != nil {
			return fmt.Errorf("%w: %w: %v", ErrForbidden, ErrInvalid, err)
		}
	}
	return nil
}

// rule makes a validator of a kind's Validate method over its body type.
func rule[T any](validate func(T) error) func(syncproto.Op) error {
	return func(op syncproto.Op) error {
		var v T
		if err := json.Unmarshal(op.Body, &v); err != nil {
			return fmt.Errorf("%s body: %w", op.Kind, err)
		}
		return validate(v)
	}
}

// latestYear is the year it is somewhere on Earth now (UTC+14): a tablet
// in Japan just past midnight on New Year's Day is not refused a baby
// born that night by a server whose clock says UTC.
func latestYear() int { return time.Now().UTC().Add(14 * time.Hour).Year() }

// Reject returns the op the server stores instead of op, which d was not
// allowed to record: same identity and clock, kind OpRejected.
func (d Device) Reject(op syncproto.Op, reason error) syncproto.Op {
	r := Rejection{Facility: d.Facility.ID, Kind: op.Kind, Body: op.Body, Reason: reason.Error(), Invalid: errors.Is(reason, ErrInvalid)}
	body, err := json.Marshal(r)
	if err != nil || len(body) > syncproto.MaxOpBody {
		// Keep the verdict even when the original does not fit beside it.
		r.Body = nil
		body, _ = json.Marshal(r)
	}
	return syncproto.Op{Device: op.Device, Seq: op.Seq, HLC: op.HLC, Kind: OpRejected, Body: body}
}

// Feeds returns the feeds op belongs to besides FeedAll. An op of a kind
// this build does not know belongs to FeedAll only.
func Feeds(op syncproto.Op) []string {
	switch op.Kind {
	case facility.OpUpsert, jpki.OpAnchors, pass.OpKeys:
		return []string{FeedPublic}
	case template.OpPut, template.OpDelete:
		var t struct{ Facilities []string }
		json.Unmarshal(op.Body, &t)
		var out []string
		for _, f := range t.Facilities {
			out = append(out, TemplateFeed(f))
		}
		return out
	case template.OpProfile:
		var p template.Profile
		if json.Unmarshal(op.Body, &p) != nil || p.Facility == "" {
			return nil
		}
		return []string{TemplateFeed(p.Facility)}
	case identify.OpIdentified, jpki.OpChecked, access.OpRead:
		// The audit role's alone: no terminal needs another's.
		return nil
	}
	if at, err := facilityOf(op); err == nil && at != "" {
		if toHQ(op) {
			return []string{FacilityFeed(at), FeedHQ}
		}
		return []string{FacilityFeed(at)}
	}
	return nil
}

// hqKinds are the kinds of a facility's op that the HQ sees too: the
// shelters' records, for the disaster HQ. Nothing else: a hospital's
// patient numbers and receptions are the hospital's alone, and a kind
// added later stays with its facility until it is listed here.
var hqKinds = map[string]bool{shelter.OpEvacueeAdd: true, shelter.OpEvacueeEdit: true}

// toHQ reports whether op goes to the HQ feed: an op of an HQ kind, or a
// refusal of one for being out of the device's scope (a refused hospital
// op carries the patient's record, so only HQ kinds; a malformed record
// stays with its facility).
func toHQ(op syncproto.Op) bool {
	if op.Kind == OpRejected {
		var r Rejection
		return json.Unmarshal(op.Body, &r) == nil && hqKinds[r.Kind] && !r.Invalid
	}
	return hqKinds[op.Kind]
}

// facilityOf returns the facility an op concerns.
func facilityOf(op syncproto.Op) (string, error) {
	var at string
	var err error
	switch op.Kind {
	case shelter.OpEvacueeAdd:
		at, err = field(op, func(e shelter.Evacuee) string { return e.Shelter })
	case shelter.OpEvacueeEdit:
		at, err = field(op, func(ed shelter.Edit) string { return ed.Shelter })
	case OpRejected:
		at, err = field(op, func(r Rejection) string { return r.Facility })
	case identify.OpIdentified:
		at, err = field(op, func(i identify.Identification) string { return i.Facility })
	case jpki.OpChecked:
		at, err = field(op, func(c jpki.Checked) string { return c.Facility })
	case access.OpRead:
		at, err = field(op, func(r access.Read) string { return r.Facility })
	case hospital.OpLink:
		at, err = field(op, func(l hospital.Link) string { return l.Facility })
	case hospital.OpReception:
		at, err = field(op, func(r hospital.Reception) string { return r.Facility })
	default:
		return "", fmt.Errorf("%s concerns no facility", op.Kind)
	}
	if err != nil {
		return "", err
	}
	if at == "" {
		return "", fmt.Errorf("%s names no facility", op.Kind)
	}
	return at, nil
}

// field decodes op's body as a T and returns what get reads from it.
func field[T any](op syncproto.Op, get func(T) string) (string, error) {
	var v T
	if err := json.Unmarshal(op.Body, &v); err != nil {
		return "", fmt.Errorf("%s body: %w", op.Kind, err)
	}
	return get(v), nil
}
