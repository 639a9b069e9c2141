// Package commands is the administrator's commands over a store: enrollment
// codes, devices and their revocation, facilities, staff accounts and the
// audit log. The command line (package cli, through the admin socket or on
// a store opened offline) and the browser admin screen (package api, as a
// signed-in staff member) run the same commands, so both get the same
// checks and the same audit entries.
package commands

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"smartpass.city/smartpass/app/admin"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/server/audit"
	"smartpass.city/smartpass/server/devices"
	"smartpass.city/smartpass/server/facilities"
	"smartpass.city/smartpass/server/hub"
	"smartpass.city/smartpass/server/ledger"
	"smartpass.city/smartpass/server/publish"
	"smartpass.city/smartpass/server/staff"
	"smartpass.city/smartpass/server/store"
)

// The admin socket (package cli) speaks one command line per connection:
//
//	backup                         -> the sealed backup stream
//	code FACILITY ROLE TTL         -> Reply{Code}
//	devices                        -> Reply{Devices}
//	revoke DEVICE                  -> Reply{Devices: [the device]}
//	audit-verify                   -> Reply{Entries}
//	ledger-verify                  -> Reply{Ledger}
//	staff                          -> Reply{Staff}
//	staff-add STAFF (base64 JSON)  -> Reply{Staff: [it], Password}
//	staff-reset ID                 -> Reply{Password}
//	staff-revoke ID                -> Reply{Staff: [it]}
//	transit-import IMPORT (base64 JSON of a TransitImport) -> Reply{Import}
//	settle SETTLE (base64 JSON of a Settle) -> Reply{Settled}
//
// Only the data directory's owner can reach it (mode 0600), who could read
// the store's files anyway. Staff with accounts use the browser admin
// screen (package api), which runs the same commands as them.

// Reply is the JSON answer to every command but backup.
type Reply struct {
	Code    string           `json:"code,omitempty"`
	Devices []devices.Device `json:"devices,omitempty"`
	Entries int              `json:"entries,omitempty"`
	Log     []audit.Entry    `json:"log,omitempty"`
	// Facilities answers "facilities" and "facility".
	Facilities []facility.Facility `json:"facilities,omitempty"`
	Staff      []admin.Staff       `json:"staff,omitempty"`
	// Password is a staff account's new password, shown once.
	Password string `json:"password,omitempty"`
	// Import names the import "transit-import" stored.
	Import string `json:"import,omitempty"`
	// Settled answers "settle": the shops' settlements and the payout.
	Settled *Settled `json:"settled,omitempty"`
	// Ledger answers "ledger-verify": what the wallet's books hold and
	// any invariant broken.
	Ledger *ledger.Report `json:"ledger,omitempty"`
	Error  string         `json:"error,omitempty"`
	// Routes answers "routes": the running server's route table.
	Routes []string `json:"routes,omitempty"`
}

// Set runs the commands against a store, on the running server (with its
// hub, so a revoked device is cut off at once) or on a store opened
// offline (Hub nil).
type Set struct {
	Log store.Store
	// Writer writes the facility records (the server's own ops).
	Writer  *publish.Writer
	Devices *devices.Registry
	// Hub drops a revoked device's sessions; nil offline. The running
	// server sets it once the hub exists (the hub is made after the API
	// that holds this Set).
	Hub   *hub.Hub
	Audit *audit.Log
	Staff *staff.Registry
	// Routes lists the running server's route table (routes.Table);
	// nil offline, where there is none.
	Routes func() []string
	// actor is who the audit log names: "" for the data directory's
	// owner at the shell ("admin"), a staff account from the browser.
	actor string
}

// New returns the commands over a store, with the hub of the running
// server (nil on a store opened offline).
func New(log store.Store, w *publish.Writer, reg *devices.Registry, h *hub.Hub, auditLog *audit.Log) *Set {
	return &Set{Log: log, Writer: w, Devices: reg, Hub: h, Audit: auditLog, Staff: staff.New(log)}
}

// ByStaff returns the commands run as the staff account id.
func (a Set) ByStaff(id string) Set {
	a.actor = "staff:" + id
	return a
}

// Note appends an audit entry as the command's actor.
func (a Set) Note(action, subject, detail string) error {
	_, err := a.Audit.Append(cmp.Or(a.actor, "admin"), action, subject, detail)
	return err
}

// Do runs one command line (cmd and its arguments) and returns its reply.
func (a Set) Do(cmd string, args []string) (Reply, error) {
	switch {
	case cmd == "code" && len(args) == 3:
		ttl, err := time.ParseDuration(args[2])
		if err != nil || ttl <= 0 {
			return Reply{}, fmt.Errorf("code: the validity %q is not a duration such as 24h", args[2])
		}
		role := scope.Role(args[1])
		if a.actor != "" && !role.HasScreen() {
			// Staff issue codes for the roles a tablet works in; a role
			// with no screen (audit: the whole log) only from the owner's
			// command line.
			return Reply{}, fmt.Errorf("%w: %w", ErrForbidden, scope.ErrNoScreen)
		}
		code, err := a.Devices.Issue(args[0], role, ttl)
		if err == nil {
			err = a.Note("device.code", args[0], args[1]+" for "+ttl.String())
		}
		return Reply{Code: code}, err
	case cmd == "devices" && len(args) == 0:
		list, err := a.Devices.List()
		if err != nil {
			return Reply{}, err
		}
		// When each last synced: the audit log's newest session of it.
		for i := range list {
			e, _, err := a.Audit.Latest(list[i].ID, "sync.session")
			if err != nil {
				return Reply{}, err
			}
			list[i].LastSync = e.Time
		}
		return Reply{Devices: list}, nil
	case cmd == "revoke" && len(args) == 1:
		d, err := a.Devices.Revoke(args[0])
		if err == nil && a.Hub != nil {
			a.Hub.Drop(d.ID)
		}
		if err == nil {
			err = a.Note("device.revoke", d.ID, d.Facility)
		}
		return Reply{Devices: []devices.Device{d}}, err
	case cmd == "audit":
		return a.auditList(args)
	case cmd == "facility" && len(args) == 1:
		f, err := argOf[facility.Facility](cmd, args[0])
		if err != nil {
			return Reply{}, err
		}
		if err := a.Writer.Facilities(context.Background(), f); err != nil {
			return Reply{}, err
		}
		err = a.Note("facility.put", f.ID, string(f.Kind)+" "+f.NameJA)
		return Reply{Facilities: []facility.Facility{f}}, err
	case cmd == "transit-import" && len(args) == 1:
		req, err := argOf[TransitImport](cmd, args[0])
		if err != nil {
			return Reply{}, err
		}
		id, err := a.transitImport(req)
		return Reply{Import: id}, err
	case cmd == "settle" && len(args) == 1:
		req, err := argOf[Settle](cmd, args[0])
		if err != nil {
			return Reply{}, err
		}
		s, err := a.settle(req)
		return Reply{Settled: &s}, err
	case cmd == "facilities" && len(args) == 0:
		all, err := facilities.Current(a.Log)
		var list []facility.Facility
		for _, f := range all {
			list = append(list, f)
		}
		slices.SortFunc(list, func(x, y facility.Facility) int { return cmp.Compare(x.ID, y.ID) })
		return Reply{Facilities: list}, err
	case cmd == "audit-verify" && len(args) == 0:
		n, err := a.Audit.Verify(nil)
		return Reply{Entries: n}, err
	case cmd == "ledger-verify" && len(args) == 0:
		r, err := ledger.Verify(a.Log)
		return Reply{Ledger: &r}, err
	case cmd == "staff" && len(args) == 0:
		list, err := a.Staff.List()
		return Reply{Staff: list}, err
	case cmd == "staff-add" && len(args) == 1:
		s, err := argOf[admin.Staff](cmd, args[0])
		if err != nil {
			return Reply{}, err
		}
		s, password, err := a.Staff.Add(s)
		if err == nil {
			err = a.Note("staff.add", s.ID, strings.TrimSpace(string(s.Role)+" "+s.Facility))
		}
		return Reply{Staff: []admin.Staff{s}, Password: password}, err
	case cmd == "staff-reset" && len(args) == 1:
		password, err := a.Staff.Reset(args[0])
		if err == nil {
			err = a.Note("staff.reset", args[0], "")
		}
		return Reply{Password: password}, err
	case cmd == "routes" && len(args) == 0 && a.Routes != nil && a.actor == "":
		// The owner's socket only: what the server answers, for the
		// test that walks every endpoint's guards.
		return Reply{Routes: a.Routes()}, nil
	case cmd == "staff-revoke" && len(args) == 1:
		s, err := a.Staff.Revoke(args[0])
		if err == nil {
			err = a.Note("staff.revoke", s.ID, string(s.Role))
		}
		return Reply{Staff: []admin.Staff{s}}, err
	}
	return Reply{}, fmt.Errorf("unknown admin command %q with %d arguments", cmd, len(args))
}

// Arg encodes a record as one argument of a command line: base64 JSON,
// since names have spaces.
func Arg(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// argOf decodes a record that arg encoded for cmd.
func argOf[T any](cmd, s string) (T, error) {
	var v T
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &v)
	}
	if err != nil {
		return v, fmt.Errorf("%s: %w", cmd, err)
	}
	return v, nil
}

// auditList returns the audit entries matching the filters in args
// (actor=, action=, subject= a word of the subject, last= how many of the
// newest), checking the chain on the way: an admin reading the log reads
// a log that holds.
func (a Set) auditList(args []string) (Reply, error) {
	want := map[string]string{}
	for _, arg := range args {
		k, v, ok := strings.Cut(arg, "=")
		if !ok || !slices.Contains([]string{"actor", "action", "subject", "last"}, k) {
			return Reply{}, fmt.Errorf("audit: filter %q (actor=, action=, subject=, last=)", arg)
		}
		want[k] = v
	}
	last, err := strconv.Atoi(cmp.Or(want["last"], "50"))
	if err != nil || last <= 0 {
		return Reply{}, fmt.Errorf("audit: last=%q is not a count", want["last"])
	}
	var out []audit.Entry
	n, err := a.Audit.Verify(func(e audit.Entry) {
		switch {
		case want["actor"] != "" && e.Actor != want["actor"]:
		case want["action"] != "" && !strings.HasPrefix(e.Action, want["action"]):
		case want["subject"] != "" && !slices.Contains(strings.Fields(e.Subject), want["subject"]):
		default:
			out = append(out, e)
		}
	})
	if err != nil {
		return Reply{}, err
	}
	return Reply{Entries: n, Log: out[max(0, len(out)-last):]}, nil
}

// ErrForbidden: outside the staff member's facility, or a device role
// staff may not hand out.
var ErrForbidden = errors.New("this is outside what your account may do")

// FacilitiesOf reads the facilities log holds, for the device register.
func FacilitiesOf(log store.Store) devices.Facilities {
	return facilities.NewCache(log).Current
}
