// Package opkind is the registry of op kinds. Each domain package declares
// each of its kinds once, at init, in a Kind: the rules its body keeps,
// the roles that may record it (or that only the server writes it), the
// feeds it travels on, what the audit log keeps of it, and how it folds
// into state. The device's rules (app/scope), the fold (app/state), the
// sync hub and its audit read this registry and nothing else about kinds,
// so a new kind touches its own package only.
//
// The registry sits below every domain package: it imports only the wire
// format and the roles, so a domain package can import it and the
// packages that read it can import the domain packages.
package opkind

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"smartpass.city/smartpass/app/role"
	"smartpass.city/smartpass/syncproto"
)

// Kind declares one op kind.
type Kind struct {
	// Name is the op's Kind on the wire.
	Name string
	// Validate checks an op's body by the kind's rules: the function the
	// device calls before it records the op, which the server applies to
	// every op it stores. Nil: no rules (a server's own record).
	Validate func(op syncproto.Op) error
	// Roles may record the kind on a device. Empty: no device does.
	Roles []role.Role
	// ServerOnly says that only the server writes the kind (facility
	// records, trust anchors, refusals); it may not have Roles.
	ServerOnly bool
	// Facility returns the facility an op concerns: a device may record
	// it only for its own, and Feeds.Facility sends it there. Nil: the
	// kind concerns no one facility.
	Facility func(op syncproto.Op) (string, error)
	// Feeds are where the kind's ops go besides FeedAll.
	Feeds Feeds
	// SnapshotKey names the record an op of a snapshot feed is about (a
	// snapshot keeps the latest op per key). Nil: the body's resident.
	SnapshotKey func(op syncproto.Op) string
	// Audit returns what the audit log keeps of an op once stored; ok
	// false keeps nothing. Nil: the kind is not audited.
	Audit func(op syncproto.Op) (e Entry, ok bool)
	// AuditRefused returns what the audit log keeps when the server
	// refused an op of this kind (reason: why). Nil: a refusal is not
	// audited beyond the session's log.
	AuditRefused func(op syncproto.Op, reason string) (e Entry, ok bool)
	// Body declares Validate and Facility over one reading of the body
	// (Over): Register fills both in from it (a Kind that was never
	// registered has them nil), and Inspect, which the sync hub calls
	// for the ops of every device bound to a facility, reads the body
	// once for both. A kind with Body sets neither Validate nor
	// Facility itself.
	Body *Body
	// Fold applies an op to the folded state. An error keeps the op as
	// rejected, with the error as the reason. Nil: the kind changes no
	// state (it is kept in the log, for the audit).
	Fold func(p *Parts, op syncproto.Op) error
}

// Feeds say which feeds the ops of a kind belong to. None set: FeedAll
// only, which the audit role alone pulls (the private kinds).
type Feeds struct {
	// Public: every device's public feed.
	Public bool
	// Facility: the feed of the facility the op concerns (Kind.Facility).
	Facility bool
	// HQ: the HQ's feed too (with Facility): shelters' records. A kind
	// stays with its facility unless it says so.
	HQ bool
	// By returns feeds the body decides (a template's facilities).
	By func(op syncproto.Op) []string
}

// Entry is what the audit log keeps of an op: the device that pushed it
// is the actor.
type Entry struct {
	Action, Subject, Detail string
}

// Feed names. A facility's own feed is FacilityFeed(id), its face
// templates TemplateFeed(id).
const (
	FeedAll    = "all"    // every op: audit only
	FeedPublic = "public" // facility records, which every device needs
	FeedHQ     = "hq"     // every shelter's records, for the HQ
)

// FacilityFeed names the feed of one facility's own ops.
func FacilityFeed(id string) string { return "facility." + id }

// TemplatePrefix starts the name of every template feed.
const TemplatePrefix = "templates."

// TemplateFeed names the feed of the templates a facility's terminals
// match against.
func TemplateFeed(id string) string { return TemplatePrefix + id }

// ErrDeclaration is wrapped by the panic of Register when a declaration
// contradicts itself or another.
var ErrDeclaration = errors.New("opkind: bad declaration")

var (
	mu    sync.RWMutex
	kinds = make(map[string]Kind)
)

// Register declares a kind. It panics on a second declaration of one
// name or a declaration that contradicts itself, as a program that
// declared its kinds wrongly cannot run correctly; call it from init.
func Register(k Kind) {
	if k.Body != nil {
		if k.Validate != nil || k.Facility != nil {
			panic(fmt.Errorf("%w: %s declares Body and also Validate or Facility", ErrDeclaration, k.Name))
		}
		k.Validate, k.Facility = k.Body.validate, k.Body.facility
	}
	if err := check(k); err != nil {
		panic(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := kinds[k.Name]; dup {
		panic(fmt.Errorf("%w: %s declared twice", ErrDeclaration, k.Name))
	}
	k.Roles = slices.Clone(k.Roles)
	kinds[k.Name] = k
}

// check finds a declaration's contradictions.
func check(k Kind) error {
	switch {
	case k.Name == "":
		return fmt.Errorf("%w: a kind without a name", ErrDeclaration)
	case k.ServerOnly && len(k.Roles) > 0:
		return fmt.Errorf("%w: %s is server-only but names roles %v", ErrDeclaration, k.Name, k.Roles)
	case (k.Feeds.Facility || k.Feeds.HQ) && k.Facility == nil:
		return fmt.Errorf("%w: %s goes to its facility's feed but names no facility", ErrDeclaration, k.Name)
	case k.Feeds.HQ && !k.Feeds.Facility:
		return fmt.Errorf("%w: %s goes to the HQ but not to its facility", ErrDeclaration, k.Name)
	}
	return nil
}

// Lookup returns the declaration of the kind named name.
func Lookup(name string) (Kind, bool) {
	mu.RLock()
	defer mu.RUnlock()
	k, ok := kinds[name]
	return k, ok
}

// Names returns the names of every declared kind, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(kinds))
	for n := range kinds {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// MayRecord reports whether a device of role r may record the kind.
func (k Kind) MayRecord(r role.Role) bool { return slices.Contains(k.Roles, r) }

// FeedsOf returns the feeds op belongs to besides FeedAll. An op of a kind
// not declared here belongs to FeedAll only; so does one whose facility
// cannot be read.
func FeedsOf(op syncproto.Op) []string {
	k, ok := Lookup(op.Kind)
	if !ok {
		return nil
	}
	var at string
	if k.Feeds.Facility {
		var err error
		if at, err = k.Facility(op); err != nil {
			at = ""
		}
	}
	return k.FeedsAt(op, at)
}

// FeedsAt is FeedsOf for a caller that has read the op's facility
// already (at; "" when it has none), so the body is not read again for
// it: the sync hub checks every pushed op's facility before storing it.
func (k Kind) FeedsAt(op syncproto.Op, at string) []string {
	var out []string
	if k.Feeds.Public {
		out = append(out, FeedPublic)
	}
	if k.Feeds.Facility && at != "" {
		out = append(out, FacilityFeed(at))
		if k.Feeds.HQ {
			out = append(out, FeedHQ)
		}
	}
	if k.Feeds.By != nil {
		out = append(out, k.Feeds.By(op)...)
	}
	return out
}

// AuditOf returns what the audit log keeps of op, once stored.
func AuditOf(op syncproto.Op) (Entry, bool) {
	if k, ok := Lookup(op.Kind); ok && k.Audit != nil {
		return k.Audit(op)
	}
	return Entry{}, false
}

// RecordID names the record an op created: the op's own identity, which is
// unique across devices without coordination.
func RecordID(op syncproto.Op) string {
	return op.Device + "." + strconv.FormatUint(op.Seq, 10)
}

// Decode decodes an op's body as a T.
func Decode[T any](op syncproto.Op) (T, error) {
	var v T
	if err := json.Unmarshal(op.Body, &v); err != nil {
		return v, fmt.Errorf("%s body: %w", op.Kind, err)
	}
	return v, nil
}

// DecodeValid decodes an op's body as a T and checks it.
func DecodeValid[T interface{ Validate() error }](op syncproto.Op) (T, error) {
	v, err := Decode[T](op)
	if err == nil {
		err = v.Validate()
	}
	return v, err
}

// Rule makes a Kind.Validate of a validation over the kind's body type.
func Rule[T any](validate func(T) error) func(syncproto.Op) error {
	return func(op syncproto.Op) error {
		v, err := Decode[T](op)
		if err != nil {
			return err
		}
		return validate(v)
	}
}

// Field makes a Kind.Facility (or any reading of one field) of a getter
// over the kind's body type. An empty facility is an error: the op then
// concerns no one, and no device may record it.
func Field[T any](get func(T) string) func(syncproto.Op) (string, error) {
	return func(op syncproto.Op) (string, error) {
		v, err := Decode[T](op)
		if err != nil {
			return "", err
		}
		return facilityOf(op, get(v))
	}
}

// facilityOf is the facility at an op names; "" is an error: the op
// then concerns no one, and no device may record it.
func facilityOf(op syncproto.Op, at string) (string, error) {
	if at == "" {
		return "", fmt.Errorf("%s names no facility", op.Kind)
	}
	return at, nil
}

// Body is a kind's rules and facility over one type of body (Over).
type Body struct {
	validate func(op syncproto.Op) error
	facility func(op syncproto.Op) (string, error)
	inspect  func(op syncproto.Op) (string, error)
}

// Over declares a kind's Body: its rules (validate) and the facility it
// concerns (facility; "" is an error, as with Field) over a body of type
// T. Validate and Facility behave as Rule(validate) and Field(facility);
// Inspect does both with one decoding.
func Over[T any](validate func(T) error, facility func(T) string) *Body {
	return &Body{
		validate: Rule(validate),
		facility: Field(facility),
		inspect: func(op syncproto.Op) (string, error) {
			v, err := Decode[T](op)
			if err != nil {
				return "", err
			}
			if err := validate(v); err != nil {
				return "", err
			}
			return facilityOf(op, facility(v))
		},
	}
}

// Inspect checks op by the kind's rules and returns the facility it
// concerns, reading the body once when the kind declares a Body: the
// errors of Validate, then of Facility. ok false: the kind has no
// Body, and a caller uses Validate and Facility.
func (k Kind) Inspect(op syncproto.Op) (facility string, ok bool, err error) {
	if k.Body == nil {
		return "", false, nil
	}
	facility, err = k.Body.inspect(op)
	return facility, true, err
}
