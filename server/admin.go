package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"smartpass.city/smartpass/app/admin"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/qrcode"
	"smartpass.city/smartpass/app/route"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/server/audit"
	"smartpass.city/smartpass/server/devices"
	"smartpass.city/smartpass/server/facilities"
	"smartpass.city/smartpass/server/hub"
	"smartpass.city/smartpass/server/oplog"
	"smartpass.city/smartpass/server/staff"
)

// The admin socket speaks one command line per connection:
//
//	backup                         -> the sealed backup stream
//	code FACILITY ROLE TTL         -> adminReply{Code}
//	devices                        -> adminReply{Devices}
//	revoke DEVICE                  -> adminReply{Devices: [the device]}
//	audit-verify                   -> adminReply{Entries}
//	staff                          -> adminReply{Staff}
//	staff-add STAFF (base64 JSON)  -> adminReply{Staff: [it], Password}
//	staff-reset ID                 -> adminReply{Password}
//	staff-revoke ID                -> adminReply{Staff: [it]}
//
// Only the data directory's owner can reach it (mode 0600), who could read
// the store's files anyway. Staff with accounts use the browser admin
// screen (adminweb.go), which runs the same commands as them.

// adminReply is the JSON answer to every command but backup.
type adminReply struct {
	Code    string           `json:"code,omitempty"`
	Devices []devices.Device `json:"devices,omitempty"`
	Entries int              `json:"entries,omitempty"`
	Log     []audit.Entry    `json:"log,omitempty"`
	// Facilities answers "facilities" and "facility".
	Facilities []facility.Facility `json:"facilities,omitempty"`
	Staff      []admin.Staff       `json:"staff,omitempty"`
	// Password is a staff account's new password, shown once.
	Password string `json:"password,omitempty"`
	Error    string `json:"error,omitempty"`
}

// admin runs the device commands against a registry, on the running
// server (with its hub, so a revoked device is cut off at once) or on a
// store opened offline (hub nil).
type adminCmds struct {
	log   *oplog.Log
	reg   *devices.Registry
	hub   *hub.Hub
	audit *audit.Log
	staff *staff.Registry
	// actor is who the audit log names: "" for the data directory's
	// owner at the shell ("admin"), a staff account from the browser.
	actor string
}

// newAdminCmds returns the commands over a store, with the hub of the
// running server (nil on a store opened offline).
func newAdminCmds(log *oplog.Log, reg *devices.Registry, h *hub.Hub, auditLog *audit.Log) adminCmds {
	return adminCmds{log: log, reg: reg, hub: h, audit: auditLog, staff: staff.New(log)}
}

// byStaff returns the commands run as the staff account id.
func (a adminCmds) byStaff(id string) adminCmds {
	a.actor = "staff:" + id
	return a
}

// note appends an audit entry as the command's actor.
func (a adminCmds) note(action, subject, detail string) error {
	_, err := a.audit.Append(cmp.Or(a.actor, "admin"), action, subject, detail)
	return err
}

func (a adminCmds) do(cmd string, args []string) (adminReply, error) {
	switch {
	case cmd == "code" && len(args) == 3:
		ttl, err := time.ParseDuration(args[2])
		if err != nil || ttl <= 0 {
			return adminReply{}, fmt.Errorf("code: the validity %q is not a duration such as 24h", args[2])
		}
		role := scope.Role(args[1])
		if a.actor != "" && !role.HasScreen() {
			// Staff issue codes for the roles a tablet works in; a role
			// with no screen (audit: the whole log) only from the owner's
			// command line.
			return adminReply{}, fmt.Errorf("%w: %w", errForbidden, scope.ErrNoScreen)
		}
		code, err := a.reg.Issue(args[0], role, ttl)
		if err == nil {
			err = a.note("device.code", args[0], args[1]+" for "+ttl.String())
		}
		return adminReply{Code: code}, err
	case cmd == "devices" && len(args) == 0:
		list, err := a.reg.List()
		if err != nil {
			return adminReply{}, err
		}
		// When each last synced: the audit log's newest session of it.
		for i := range list {
			e, _, err := a.audit.Latest(list[i].ID, "sync.session")
			if err != nil {
				return adminReply{}, err
			}
			list[i].LastSync = e.Time
		}
		return adminReply{Devices: list}, nil
	case cmd == "revoke" && len(args) == 1:
		d, err := a.reg.Revoke(args[0])
		if err == nil && a.hub != nil {
			a.hub.Drop(d.ID)
		}
		if err == nil {
			err = a.note("device.revoke", d.ID, d.Facility)
		}
		return adminReply{Devices: []devices.Device{d}}, err
	case cmd == "audit":
		return a.auditList(args)
	case cmd == "facility" && len(args) == 1:
		f, err := argOf[facility.Facility](cmd, args[0])
		if err != nil {
			return adminReply{}, err
		}
		if err := facilities.Put(context.Background(), a.log, f); err != nil {
			return adminReply{}, err
		}
		err = a.note("facility.put", f.ID, string(f.Kind)+" "+f.NameJA)
		return adminReply{Facilities: []facility.Facility{f}}, err
	case cmd == "facilities" && len(args) == 0:
		all, err := facilities.Current(a.log)
		var list []facility.Facility
		for _, f := range all {
			list = append(list, f)
		}
		slices.SortFunc(list, func(x, y facility.Facility) int { return cmp.Compare(x.ID, y.ID) })
		return adminReply{Facilities: list}, err
	case cmd == "audit-verify" && len(args) == 0:
		n, err := a.audit.Verify(nil)
		return adminReply{Entries: n}, err
	case cmd == "staff" && len(args) == 0:
		list, err := a.staff.List()
		return adminReply{Staff: list}, err
	case cmd == "staff-add" && len(args) == 1:
		s, err := argOf[admin.Staff](cmd, args[0])
		if err != nil {
			return adminReply{}, err
		}
		s, password, err := a.staff.Add(s)
		if err == nil {
			err = a.note("staff.add", s.ID, strings.TrimSpace(string(s.Role)+" "+s.Facility))
		}
		return adminReply{Staff: []admin.Staff{s}, Password: password}, err
	case cmd == "staff-reset" && len(args) == 1:
		password, err := a.staff.Reset(args[0])
		if err == nil {
			err = a.note("staff.reset", args[0], "")
		}
		return adminReply{Password: password}, err
	case cmd == "staff-revoke" && len(args) == 1:
		s, err := a.staff.Revoke(args[0])
		if err == nil {
			err = a.note("staff.revoke", s.ID, string(s.Role))
		}
		return adminReply{Staff: []admin.Staff{s}}, err
	}
	return adminReply{}, fmt.Errorf("unknown admin command %q with %d arguments", cmd, len(args))
}

// arg encodes a record as one argument of a command line: base64 JSON,
// since names have spaces.
func arg(v any) string {
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
func (a adminCmds) auditList(args []string) (adminReply, error) {
	want := map[string]string{}
	for _, arg := range args {
		k, v, ok := strings.Cut(arg, "=")
		if !ok || !slices.Contains([]string{"actor", "action", "subject", "last"}, k) {
			return adminReply{}, fmt.Errorf("audit: filter %q (actor=, action=, subject=, last=)", arg)
		}
		want[k] = v
	}
	last, err := strconv.Atoi(cmp.Or(want["last"], "50"))
	if err != nil || last <= 0 {
		return adminReply{}, fmt.Errorf("audit: last=%q is not a count", want["last"])
	}
	var out []audit.Entry
	n, err := a.audit.Verify(func(e audit.Entry) {
		switch {
		case want["actor"] != "" && e.Actor != want["actor"]:
		case want["action"] != "" && !strings.HasPrefix(e.Action, want["action"]):
		case want["subject"] != "" && !slices.Contains(strings.Fields(e.Subject), want["subject"]):
		default:
			out = append(out, e)
		}
	})
	if err != nil {
		return adminReply{}, err
	}
	return adminReply{Entries: n, Log: out[max(0, len(out)-last):]}, nil
}

// serveAdmin answers the admin commands on ln until it closes.
func serveAdmin(ln net.Listener, log *oplog.Log, key []byte, a adminCmds, logger *slog.Logger) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			line, err := bufio.NewReader(conn).ReadString('\n')
			if err != nil {
				return
			}
			fields := strings.Fields(line)
			if len(fields) == 0 {
				return
			}
			conn.SetReadDeadline(time.Time{})
			if fields[0] == "backup" {
				if err := writeBackup(conn, log, key); err != nil {
					logger.Error("online backup failed", "err", err)
					return
				}
				logger.Info("online backup written")
				a.audit.Note("admin", "backup", "", "online")
				return
			}
			reply, err := a.do(fields[0], fields[1:])
			if err != nil {
				reply.Error = err.Error()
			}
			logger.Info("admin command", "cmd", fields[0], "args", fields[1:], "err", err)
			json.NewEncoder(conn).Encode(reply)
		}()
	}
}

// runAdmin is a device command from the shell: through the running
// server's admin socket, or on the store itself when no server runs.
func runAdmin(cmd string, args []string, out io.Writer, logger *slog.Logger) error {
	fs := newFlags(cmd)
	data := fs.String("data", "./data", "data directory of the store")
	keyFile := fs.String("key-file", "", "the store's key file (default: DATA.key), used when no server runs")
	var fac, role, device, url string
	var filters []string
	var f facility.Facility
	var ttl time.Duration
	var member admin.Staff
	var reset, revoke string
	switch cmd {
	case "staff":
		fs.StringVar(&member.ID, "add", "", "add a staff account with this id (2–32 of a-z, 0-9, . _ -): its first password is printed once")
		fs.StringVar(&member.Name, "name", "", "with -add: the person's name and section, as the audit log shows it")
		fs.Func("role", "with -add: admin (everything), devices (set up and revoke tablets) or auditor (reads the audit log)", func(v string) error { member.Role = admin.Role(v); return nil })
		fs.StringVar(&member.Facility, "facility", "", "with -add -role devices: only this facility's tablets")
		fs.StringVar(&reset, "reset", "", "give the account with this id a new password (and unlock it)")
		fs.StringVar(&revoke, "revoke", "", "close the account with this id for good")
	case "device-code":
		fs.StringVar(&fac, "facility", "", "facility id the device will belong to")
		fs.StringVar(&role, "role", "", "the device's role: shelter, reception, playpark or hq")
		fs.DurationVar(&ttl, "ttl", 24*time.Hour, "how long the code stays valid")
		fs.StringVar(&url, "url", "", "the server's address as tablets reach it (https://pass.city.example): the QR code printed then opens the set-up page with the code filled in")
	case "revoke":
		fs.StringVar(&device, "device", "", "id of the device to revoke")
	case "facility":
		fs.StringVar(&f.ID, "id", "", "the facility's id (lower-case letters, digits, hyphens): new, or one to change")
		fs.Func("kind", "shelter, hospital, playpark or hq", func(v string) error { f.Kind = facility.Kind(v); return nil })
		fs.StringVar(&f.NameJA, "name-ja", "", "its name in Japanese")
		fs.StringVar(&f.NameEN, "name-en", "", "its name in English")
		fs.IntVar(&f.Capacity, "capacity", 0, "how many people a shelter takes")
	case "audit":
		for _, field := range []string{"actor", "action", "subject"} {
			fs.Func(field, "only entries of this "+field+" (action: or its prefix, such as face.; subject: one of its words, such as a resident number)", func(v string) error {
				filters = append(filters, field+"="+v)
				return nil
			})
		}
		fs.Func("last", "how many of the newest matching entries (default 50)", func(v string) error {
			filters = append(filters, "last="+v)
			return nil
		})
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	var cmdArgs []string
	switch cmd {
	case "device-code":
		if fac == "" || role == "" {
			return errors.New("device-code: give -facility and -role")
		}
		cmd, cmdArgs = "code", []string{fac, role, ttl.String()}
	case "revoke":
		if device == "" {
			return errors.New("revoke: give -device ID")
		}
		cmdArgs = []string{device}
	case "audit":
		cmdArgs = filters
	case "staff":
		switch {
		case member.ID != "":
			if err := member.Validate(); err != nil {
				return err
			}
			cmd, cmdArgs = "staff-add", []string{arg(member)}
		case reset != "":
			cmd, cmdArgs = "staff-reset", []string{reset}
		case revoke != "":
			cmd, cmdArgs = "staff-revoke", []string{revoke}
		}
	case "facility":
		if err := f.Validate(); err != nil {
			return err
		}
		cmdArgs = []string{arg(f)}
	}
	reply, err := adminCall(*data, *keyFile, cmd, cmdArgs, logger)
	if err != nil {
		return err
	}
	switch {
	case cmd == "audit-verify":
		fmt.Fprintf(out, "audit log intact: %d entries, each chained to the one before\n", reply.Entries)
	case cmd == "facility" || cmd == "facilities":
		tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "FACILITY\tKIND\tNAME\tNAME (EN)\tCAPACITY")
		for _, f := range reply.Facilities {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", f.ID, f.Kind, audit.Printable(f.NameJA), audit.Printable(f.NameEN), f.Capacity)
		}
		tw.Flush()
	case reply.Password != "":
		fmt.Fprintf(out, "the password of %s, shown this once: hand it over in person\n%s\n", cmp.Or(member.ID, reset), reply.Password)
	case cmd == "staff" || cmd == "staff-revoke":
		tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "STAFF\tNAME\tROLE\tFACILITY\tCREATED\tREVOKED")
		for _, s := range reply.Staff {
			revoked := "-"
			if !s.Revoked.IsZero() {
				revoked = s.Revoked.Local().Format(time.DateTime)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, audit.Printable(s.Name), s.Role, cmp.Or(s.Facility, "(all)"), s.Created.Local().Format(time.DateTime), revoked)
		}
		tw.Flush()
	case cmd == "audit":
		tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "#\tTIME\tACTOR\tACTION\tSUBJECT\tDETAIL")
		for _, e := range reply.Log {
			// Escaped as they print: an entry written before Append
			// escaped its fields cannot forge a line either.
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.Time.Local().Format(time.DateTime), audit.Printable(e.Actor), audit.Printable(e.Action), audit.Printable(e.Subject), audit.Printable(e.Detail))
		}
		tw.Flush()
		fmt.Fprintf(out, "(%d shown; the log holds %d entries and its chain holds)\n", len(reply.Log), reply.Entries)
	case reply.Code != "":
		fmt.Fprintf(out, "enrollment code for a %s device at %s (valid %s, once): %s\n", role, fac, ttl, reply.Code)
		// The same as a QR code, for the tablet's set-up page to scan.
		content := reply.Code
		if url != "" {
			content = strings.TrimSuffix(url, "/") + route.Setup + "?code=" + reply.Code
		}
		if art, err := qrcode.Text(content); err == nil {
			fmt.Fprintf(out, "\n%s\n(%s)\n", art, content)
		}
	default:
		tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "DEVICE\tFACILITY\tROLE\tNAME\tREGISTERED\tREVOKED\tLAST SYNC")
		when := func(t time.Time) string {
			if t.IsZero() {
				return "-"
			}
			return t.Local().Format(time.DateTime)
		}
		for _, d := range reply.Devices {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.Facility, d.Role, audit.Printable(d.Name), d.Registered.Format(time.DateTime), when(d.Revoked), when(d.LastSync))
		}
		tw.Flush()
	}
	return nil
}

// adminCall runs cmd on the running server, or on the store when none
// runs.
func adminCall(data, keyFile, cmd string, args []string, logger *slog.Logger) (adminReply, error) {
	var reply adminReply
	if conn, err := net.Dial("unix", adminSocket(data)); err == nil {
		defer conn.Close()
		fmt.Fprintln(conn, strings.Join(append([]string{cmd}, args...), " "))
		if err := json.NewDecoder(conn).Decode(&reply); err != nil {
			return reply, fmt.Errorf("%s: no answer from the running server: %w", cmd, err)
		}
		if reply.Error != "" {
			return reply, fmt.Errorf("%s: %s", cmd, reply.Error)
		}
		return reply, nil
	}
	if !hasStore(data) {
		return reply, fmt.Errorf("%s: no server runs on %s and there is no store there", cmd, data)
	}
	key, err := loadKey(keyPath(keyFile, data), data, false, logger)
	if err != nil {
		return reply, err
	}
	log, err := oplog.Open(data, logOptions(key, nil))
	if err != nil {
		return reply, fmt.Errorf("%s: %w", cmd, err)
	}
	defer log.Close()
	reply, err = newAdminCmds(log, devices.New(log, facilitiesOf(log)), nil, audit.New(log)).do(cmd, args)
	if err != nil {
		return reply, fmt.Errorf("%s: %w", cmd, err)
	}
	return reply, nil
}

// facilitiesOf reads the facilities log holds, for the device register.
func facilitiesOf(log *oplog.Log) devices.Facilities {
	return func() (map[string]facility.Facility, error) { return facilities.Current(log) }
}
