// Package admin is the browser admin API: the roles of city staff and
// what each may do, and the requests and answers the admin screen and the
// server exchange. Staff sign in with their own id and password; every
// request after carries the session's token in its JSON body (no cookie,
// so no other site can make the browser send one).
//
// The roles separate duties as a city's information-security rules ask:
// the administrator runs everything, a device officer sets up and
// revokes the tablets of one facility (or all), and an auditor reads the
// audit log and the device list but changes nothing.
package admin

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/syncproto"
)

// The admin API's paths (API: each endpoint's request and answer).
const (
	SignInPath      = "/admin/api/signin"
	SignOutPath     = "/admin/api/signout"
	OverviewPath    = "/admin/api/overview"
	FacilityPath    = "/admin/api/facility"
	CodePath        = "/admin/api/code"
	RevokePath      = "/admin/api/revoke"
	StaffAddPath    = "/admin/api/staff/add"
	StaffRevokePath = "/admin/api/staff/revoke"
	AuditPath       = "/admin/api/audit"
)

// Role is what a staff account may do.
type Role string

// The roles.
const (
	// Administrator: facilities, devices, staff accounts, the audit log.
	Administrator Role = "admin"
	// DeviceOfficer: issues set-up codes and revokes devices, of their
	// facility when the account names one, of every facility otherwise.
	DeviceOfficer Role = "devices"
	// Auditor: reads the audit log and the devices; changes nothing.
	Auditor Role = "auditor"
)

// Roles lists every role, in the order screens offer them.
func Roles() []Role { return []Role{Administrator, DeviceOfficer, Auditor} }

// Permission is one thing a role may do.
type Permission int

// The permissions.
const (
	SeeDevices Permission = iota
	ManageDevices
	ManageStaff
	ReadAudit
	// ManageFacilities: add a facility or change one (sent to every
	// device).
	ManageFacilities
)

// May reports whether r has the permission p.
func (r Role) May(p Permission) bool {
	switch r {
	case Administrator:
		return true
	case DeviceOfficer:
		return p == SeeDevices || p == ManageDevices
	case Auditor:
		return p == SeeDevices || p == ReadAudit
	}
	return false
}

// Staff is a staff account as the screens see it (never its password).
type Staff struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role Role   `json:"role"`
	// Facility, when set, limits a device officer to that facility.
	Facility string    `json:"facility,omitempty"`
	Created  time.Time `json:"created"`
	Revoked  time.Time `json:"revoked,omitzero"`
}

// ErrInvalid: a staff account's fields are not acceptable.
var ErrInvalid = errors.New("invalid staff account")

var idRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,31}$`)

// ValidID reports whether id may name a staff account: 2–32 lower-case
// letters, digits, dots, hyphens or underscores. A sign-in with any other
// id is refused before it reaches the audit log.
func ValidID(id string) bool { return idRE.MatchString(id) }

// Validate checks a new account: an id of 2–32 lower-case letters,
// digits, dots, hyphens or underscores, a name, and a known role.
func (s Staff) Validate() error {
	switch {
	case !ValidID(s.ID):
		return fmt.Errorf("%w: the id %q (2–32 of a-z, 0-9, . _ -)", ErrInvalid, s.ID)
	case s.Name == "" || len(s.Name) > 100:
		return fmt.Errorf("%w: a name is needed (up to 100 bytes)", ErrInvalid)
	case !s.Role.May(SeeDevices):
		return fmt.Errorf("%w: the role %q (admin, devices or auditor)", ErrInvalid, s.Role)
	case s.Facility != "" && s.Role != DeviceOfficer:
		return fmt.Errorf("%w: only a device officer is limited to one facility", ErrInvalid)
	}
	return nil
}

// SignIn asks for a session.
type SignIn struct {
	ID       string `json:"id"`
	Password string `json:"password"`
}

// Session is a signed-in staff member's session.
type Session struct {
	Token string `json:"token"`
	Staff Staff  `json:"staff"`
}

// Request is what every request after sign-in carries; each endpoint's
// request embeds it.
type Request struct {
	Token string `json:"token"`
}

// SessionToken is the session the request is made in.
func (r Request) SessionToken() string { return r.Token }

// InSession is a request made in a session: every endpoint's but the
// sign-in, which the server checks before anything else.
type InSession interface {
	SessionToken() string
}

// API is every endpoint of the admin API, each a POST of JSON: its path,
// request and answer, shared by the server's handlers and the admin
// screen. A refusal is a syncproto.Error with one of the Refused codes.
var API = struct {
	SignIn      syncproto.Endpoint[SignIn, Session]
	SignOut     syncproto.Endpoint[Request, syncproto.None]
	Overview    syncproto.Endpoint[Request, Overview]
	Facility    syncproto.Endpoint[FacilityRequest, facility.Facility]
	Code        syncproto.Endpoint[CodeRequest, Code]
	Revoke      syncproto.Endpoint[RevokeRequest, syncproto.None]
	StaffAdd    syncproto.Endpoint[StaffRequest, NewStaff]
	StaffRevoke syncproto.Endpoint[RevokeRequest, syncproto.None]
	Audit       syncproto.Endpoint[AuditRequest, Audit]
}{
	SignIn:      syncproto.Post[SignIn, Session](SignInPath),
	SignOut:     syncproto.Post[Request, syncproto.None](SignOutPath),
	Overview:    syncproto.Post[Request, Overview](OverviewPath),
	Facility:    syncproto.Post[FacilityRequest, facility.Facility](FacilityPath),
	Code:        syncproto.Post[CodeRequest, Code](CodePath),
	Revoke:      syncproto.Post[RevokeRequest, syncproto.None](RevokePath),
	StaffAdd:    syncproto.Post[StaffRequest, NewStaff](StaffAddPath),
	StaffRevoke: syncproto.Post[RevokeRequest, syncproto.None](StaffRevokePath),
	Audit:       syncproto.Post[AuditRequest, Audit](AuditPath),
}

// Device is an enrolled device as the admin screen lists it.
type Device struct {
	ID         string    `json:"id"`
	Facility   string    `json:"facility"`
	Role       string    `json:"role"`
	Registered time.Time `json:"registered"`
	Revoked    time.Time `json:"revoked,omitzero"`
	LastSync   time.Time `json:"last_sync,omitzero"`
}

// Overview answers OverviewPath: what the staff member's role may see.
type Overview struct {
	Facilities []facility.Facility `json:"facilities"`
	Devices    []Device            `json:"devices,omitempty"`
	Staff      []Staff             `json:"staff,omitempty"`
}

// FacilityRequest adds a facility or changes the one with its id.
type FacilityRequest struct {
	Request
	Facility facility.Facility `json:"facility"`
}

// CodeRequest asks for a one-time set-up code.
type CodeRequest struct {
	Request
	Facility string `json:"facility"`
	Role     string `json:"role"`
}

// Code answers CodeRequest.
type Code struct {
	Code    string    `json:"code"`
	Expires time.Time `json:"expires"`
}

// RevokeRequest revokes a device (RevokePath) or a staff account
// (StaffRevokePath).
type RevokeRequest struct {
	Request
	ID string `json:"id"`
}

// StaffRequest adds a staff account.
type StaffRequest struct {
	Request
	Staff Staff `json:"staff"`
}

// NewStaff answers StaffRequest: the account and its first password,
// shown once to the administrator to hand over.
type NewStaff struct {
	Staff    Staff  `json:"staff"`
	Password string `json:"password"`
}

// AuditRequest asks for the newest audit entries, optionally of one
// actor, action prefix or subject word.
type AuditRequest struct {
	Request
	Actor   string `json:"actor,omitempty"`
	Action  string `json:"action,omitempty"`
	Subject string `json:"subject,omitempty"`
}

// Entry is an audit log entry.
type Entry struct {
	Seq     uint64    `json:"seq"`
	Time    time.Time `json:"time"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Subject string    `json:"subject,omitempty"`
	Detail  string    `json:"detail,omitempty"`
}

// Audit answers AuditRequest: the entries, newest last, and how many the
// whole log holds, its chain checked.
type Audit struct {
	Entries []Entry `json:"entries"`
	Total   int     `json:"total"`
}

// The refusal codes of the admin API (syncproto.Error's Code).
const (
	RefusedSignIn    = "signin_failed" // every failure: unknown id, wrong password, revoked, back-off
	RefusedBusy      = "signin_busy"   // too many sign-ins at once: nothing checked, try again
	RefusedSession   = "session_ended" // the token is unknown or expired
	RefusedForbidden = "forbidden"     // the role may not
	RefusedInvalid   = "invalid"       // the request itself
)
