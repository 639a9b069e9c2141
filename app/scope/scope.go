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
// and everything to FeedAll, which only the audit role pulls. So a play
// park never receives a shelter's roster, and a shelter never receives
// another shelter's.
//
// What each kind allows (the roles that record it, the rules its body
// keeps, the facility it concerns, its feeds, its audit entry) the kind
// declares in its own package (app/opkind); scope reads those
// declarations and adds the device's side: its role, its facility.
package scope

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/app/role"
	"smartpass.city/smartpass/syncproto"
)

// Role is what a device does at its facility (app/role, where the kinds
// declare who records them).
type Role = role.Role

// The roles. Each belongs to one facility kind (RolesFor).
const (
	Shelter   = role.Shelter
	Reception = role.Reception
	PlayPark  = role.PlayPark
	HQ        = role.HQ
	Registrar = role.Registrar
	Vehicle   = role.Vehicle
	Counter   = role.Counter
	Audit     = role.Audit
	Shop      = role.Shop
)

// rolesByKind lists the roles a device of each facility kind may hold.
var rolesByKind = map[facility.Kind][]Role{
	facility.Shelter:  {Shelter},
	facility.Hospital: {Reception},
	facility.PlayPark: {PlayPark},
	facility.HQ:       {HQ, Registrar, Audit},
	facility.Transit:  {Vehicle},
	facility.Shop:     {Shop},
	facility.Donation: {Counter},
}

// RolesFor returns the roles a device of a facility of kind k may hold.
func RolesFor(k facility.Kind) []Role { return slices.Clone(rolesByKind[k]) }

// ScreenRolesFor returns the roles of RolesFor(k) that have a screen: the
// ones the admin screen offers and issues codes for.
func ScreenRolesFor(k facility.Kind) []Role {
	return slices.DeleteFunc(RolesFor(k), func(r Role) bool { return !r.HasScreen() })
}

// ErrNoScreen is what a staff member asking a code for a role without a
// screen is told.
var ErrNoScreen = errors.New("this role has no screen: its set-up codes come from the server's command line only")

// Feed names (app/opkind, where the kinds declare their feeds). A
// facility's own feed is FacilityFeed(id), its face templates
// TemplateFeed(id).
const (
	FeedAll    = opkind.FeedAll    // every op: audit only
	FeedPublic = opkind.FeedPublic // facility records, which every device needs
	FeedHQ     = opkind.FeedHQ     // every shelter's records, for the HQ
)

// FacilityFeed names the feed of one facility's own ops.
func FacilityFeed(id string) string { return opkind.FacilityFeed(id) }

// TemplateFeed names the feed of the templates a facility's terminals
// match against.
func TemplateFeed(id string) string { return opkind.TemplateFeed(id) }

// IsSnapshot reports whether feed is served to a new device as a
// compacted snapshot (template feeds: many records, read-mostly).
func IsSnapshot(feed string) bool { return strings.HasPrefix(feed, opkind.TemplatePrefix) }

// SnapshotKey names the record an op of a snapshot feed is about: a
// snapshot keeps only the latest op per key. A kind that does not say
// (Kind.SnapshotKey) is about its body's resident.
func SnapshotKey(op syncproto.Op) string {
	if k, ok := opkind.Lookup(op.Kind); ok && k.SnapshotKey != nil {
		return k.SnapshotKey(op)
	}
	var r struct{ Resident string }
	json.Unmarshal(op.Body, &r)
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

// Check reports whether the device may record op: its role must record
// that kind, its body must keep its kind's rules (Validate), and the op
// must concern the device's own facility. No device records OpRejected:
// only the server writes its verdicts, so a device cannot plant one in
// another facility's feed.
func (d Device) Check(op syncproto.Op) error {
	_, err := d.route(op, false)
	return err
}

// Route is Check that also returns the feeds op belongs to (Feeds), read
// from the facility the check read: the body is read once for both.
func (d Device) Route(op syncproto.Op) (feeds []string, err error) { return d.route(op, true) }

// route is Check, and Route when routed is set.
func (d Device) route(op syncproto.Op, routed bool) (feeds []string, err error) {
	k, ok := opkind.Lookup(op.Kind)
	if !ok || !k.MayRecord(d.Role) {
		return nil, fmt.Errorf("%w: a %s device does not record %s", ErrForbidden, d.Role, op.Kind)
	}
	if d.Role != Registrar {
		// A kind that declares its rules and facility over one body
		// (opkind.Over) is read once for both.
		if at, ok, err := k.Inspect(op); ok {
			if err != nil {
				return nil, fmt.Errorf("%w: %w: %v", ErrForbidden, ErrInvalid, err)
			}
			return d.at(k, op, at, routed)
		}
	}
	if err := Validate(op); err != nil {
		return nil, err
	}
	if d.Role == Registrar {
		// The city desk records for residents of every facility.
		if !routed {
			return nil, nil
		}
		return Feeds(op), nil
	}
	if k.Facility == nil {
		return nil, fmt.Errorf("%w: %w: %s concerns no facility", ErrForbidden, ErrInvalid, op.Kind)
	}
	at, err := k.Facility(op)
	if err != nil {
		return nil, fmt.Errorf("%w: %w: %v", ErrForbidden, ErrInvalid, err)
	}
	return d.at(k, op, at, routed)
}

// at finishes route for an op of kind k that concerns facility at: the
// device's own, or refused; and its feeds when routed.
func (d Device) at(k opkind.Kind, op syncproto.Op, at string, routed bool) ([]string, error) {
	switch {
	case at != d.Facility.ID:
		return nil, fmt.Errorf("%w: a device of %s recorded %s for %s", ErrForbidden, d.Facility.ID, op.Kind, at)
	case !routed:
		return nil, nil
	}
	return k.FeedsAt(op, at), nil
}

// ErrInvalid is wrapped (beside ErrForbidden) by Check and Validate when
// an op's body breaks its kind's rules: a reading that is not kana, a
// birth year not yet come, an identification with no outcome.
var ErrInvalid = errors.New("the record breaks its kind's rules")

// Validate checks op's body by the rules of its kind (Kind.Validate). A
// kind with no rules (a server's own record, a kind of a newer build)
// passes: whether a device may record it at all is Check's question.
func Validate(op syncproto.Op) error {
	if k, ok := opkind.Lookup(op.Kind); ok && k.Validate != nil {
		if err := k.Validate(op); err != nil {
			return fmt.Errorf("%w: %w: %v", ErrForbidden, ErrInvalid, err)
		}
	}
	return nil
}

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

// Feeds returns the feeds op belongs to besides FeedAll, as its kind
// declares them (Kind.Feeds). An op of a kind this build does not know
// belongs to FeedAll only.
func Feeds(op syncproto.Op) []string { return opkind.FeedsOf(op) }

// AuditOf returns what the audit log keeps of op once stored, as its kind
// declares it (Kind.Audit); ok false: nothing.
func AuditOf(op syncproto.Op) (opkind.Entry, bool) { return opkind.AuditOf(op) }
