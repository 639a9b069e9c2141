package cli

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"smartpass.city/smartpass/server/commands"
	"smartpass.city/smartpass/server/store"

	"smartpass.city/smartpass/app/admin"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/qrcode"
	"smartpass.city/smartpass/app/route"
	"smartpass.city/smartpass/server/audit"
	"smartpass.city/smartpass/server/devices"
	"smartpass.city/smartpass/server/publish"
	"smartpass.city/smartpass/server/staff"
)

// serveAdmin answers the admin commands on ln until it closes.
func serveAdmin(ln net.Listener, log store.Store, key []byte, a *commands.Set, logger *slog.Logger) {
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
				a.Audit.Note("admin", "backup", "", "online")
				return
			}
			reply, err := a.Do(fields[0], fields[1:])
			if err != nil {
				reply.Error = err.Error()
			}
			logger.Info("admin command", "cmd", fields[0], "args", logArgs(fields[1:]), "err", err)
			json.NewEncoder(conn).Encode(reply)
		}()
	}
}

// logArgs shortens long arguments for the server's log: a transit feed
// arrives as megabytes of base64, which the log does not need.
func logArgs(args []string) []string {
	const keep = 120
	out := make([]string, len(args))
	for i, a := range args {
		if len(a) > keep {
			a = fmt.Sprintf("%s…(%d bytes)", a[:keep], len(a))
		}
		out[i] = a
	}
	return out
}

// runAdmin is a device command from the shell: through the running
// server's admin socket, or on the store itself when no server runs.
func runAdmin(cmd string, args []string, out io.Writer, logger *slog.Logger) error {
	fs := newFlags(cmd)
	data := fs.String("data", "./data", "data directory of the store")
	keyFile := fs.String("key-file", "", "the store's key file (default: DATA.key), used when no server runs")
	var pg config
	fs.StringVar(&pg.storeURL, "store", "", "a PostgreSQL store (postgres://…) to run the command on directly, with -tenant and -key-file (the tenant's servers may be running: they see the change)")
	fs.StringVar(&pg.tenant, "tenant", "", "with -store: the municipality")
	var fac, role, device, url string
	var filters []string
	var f facility.Facility
	var ttl time.Duration
	var member admin.Staff
	var reset, revoke string
	var tr commands.TransitImport
	var trConfig string
	var st settleArgs
	switch cmd {
	case "settle":
		st.flags(fs)
	case "transit-import":
		fs.StringVar(&tr.Operator, "operator", "", "the operator's facility id (kind transit)")
		fs.StringVar(&trConfig, "config", "", "the operator's fare rules and tolerances (JSON)")
		fs.StringVar(&tr.From, "from", "", "the day the feed takes effect, YYYY-MM-DD (default: its first calendar day)")
	case "staff":
		fs.StringVar(&member.ID, "add", "", "add a staff account with this id (2–32 of a-z, 0-9, . _ -): its first password is printed once")
		fs.StringVar(&member.Name, "name", "", "with -add: the person's name and section, as the audit log shows it")
		fs.Func("role", "with -add: admin (everything), devices (set up and revoke tablets) or auditor (reads the audit log)", func(v string) error { member.Role = admin.Role(v); return nil })
		fs.StringVar(&member.Facility, "facility", "", "with -add -role devices: only this facility's tablets")
		fs.StringVar(&reset, "reset", "", "give the account with this id a new password (and unlock it)")
		fs.StringVar(&revoke, "revoke", "", "close the account with this id for good")
	case "device-code":
		fs.StringVar(&fac, "facility", "", "facility id the device will belong to")
		fs.StringVar(&role, "role", "", "the device's role: shelter, reception, playpark, hq or vehicle")
		fs.DurationVar(&ttl, "ttl", 24*time.Hour, "how long the code stays valid")
		fs.StringVar(&url, "url", "", "the server's address as tablets reach it (https://pass.city.example): the QR code printed then opens the set-up page with the code filled in")
	case "revoke":
		fs.StringVar(&device, "device", "", "id of the device to revoke")
	case "facility":
		fs.StringVar(&f.ID, "id", "", "the facility's id (lower-case letters, digits, hyphens): new, or one to change")
		fs.Func("kind", "shelter, hospital, playpark, shop, hq or transit", func(v string) error { f.Kind = facility.Kind(v); return nil })
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
			cmd, cmdArgs = "staff-add", []string{commands.Arg(member)}
		case reset != "":
			cmd, cmdArgs = "staff-reset", []string{reset}
		case revoke != "":
			cmd, cmdArgs = "staff-revoke", []string{revoke}
		}
	case "facility":
		if err := f.Validate(); err != nil {
			return err
		}
		cmdArgs = []string{commands.Arg(f)}
	case "transit-import":
		if tr.Operator == "" || trConfig == "" || fs.NArg() != 1 {
			return errors.New("transit import: give -operator, -config and the feed's zip file")
		}
		var err error
		if tr.Feed, err = os.ReadFile(fs.Arg(0)); err != nil {
			return fmt.Errorf("transit import: %w", err)
		}
		if tr.Config, err = os.ReadFile(trConfig); err != nil {
			return fmt.Errorf("transit import: %w", err)
		}
		cmdArgs = []string{commands.Arg(tr)}
	case "settle":
		a, err := st.arg()
		if err != nil {
			return err
		}
		cmdArgs = []string{a}
	}
	pg.data, pg.keyFile = *data, *keyFile
	reply, err := adminCall(pg, cmd, cmdArgs, logger)
	if err != nil {
		return err
	}
	switch {
	case cmd == "settle":
		return st.write(out, reply.Settled)
	case cmd == "transit-import":
		fmt.Fprintf(out, "feed of %s stored as import %s; its vehicles receive it at their next sync\n", tr.Operator, reply.Import)
	case cmd == "ledger-verify":
		r := reply.Ledger
		fmt.Fprintf(out, "ledger intact: %d entries over %d accounts, each summing to zero; every balance the sum of its postings; wallets hold ¥%d unused and ¥%d of recorded offline debt\n", r.Entries, r.Accounts, r.Outstanding, r.Debt)
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
func adminCall(c config, cmd string, args []string, logger *slog.Logger) (commands.Reply, error) {
	var reply commands.Reply
	if c.storeURL != "" {
		// PostgreSQL serves several servers at once, and the server's
		// own ops are numbered in the commit: the command writes beside
		// them.
		key, err := loadKey(keyPath(c.keyFile, c.data), c.data, false, logger)
		if err != nil {
			return reply, fmt.Errorf("%s: %w", cmd, err)
		}
		log, err := openEngine(context.Background(), c, key, logger)
		if err != nil {
			return reply, fmt.Errorf("%s: %w", cmd, err)
		}
		defer log.Close()
		return storeCall(log, cmd, args)
	}
	data := c.data
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
	log, err := OpenStore(data, c.keyFile, logger)
	if err != nil {
		return reply, fmt.Errorf("%s: %w", cmd, err)
	}
	defer log.Close()
	return storeCall(log, cmd, args)
}

// storeCall runs cmd on log itself, as the server would.
func storeCall(log store.Store, cmd string, args []string) (commands.Reply, error) {
	var reply commands.Reply
	pub, err := publish.New(log)
	if err != nil {
		return reply, fmt.Errorf("%s: %w", cmd, err)
	}
	reply, err = commands.New(log, pub, devices.New(log, commands.FacilitiesOf(log)), nil, audit.New(log)).Do(cmd, args)
	if err != nil {
		return reply, fmt.Errorf("%s: %w", cmd, err)
	}
	return reply, nil
}

// seedDemoAdmin gives a demo store an administrator, "admin", and returns
// its password for the start-up banner. A demo server makes a new password
// at every start (ending the old one's sessions): the banner is the one
// place a newcomer needs to look, and the password is never stored in clear
// nor written to the log. It returns "" when the store has staff but no
// usable "admin" (a city that set up its own accounts).
func seedDemoAdmin(reg *staff.Registry) (string, error) {
	list, err := reg.List()
	if err != nil {
		return "", err
	}
	if len(list) == 0 {
		_, password, err := reg.Add(admin.Staff{ID: demoAdminID, Name: "デモ管理者", Role: admin.Administrator})
		return password, err
	}
	for _, s := range list {
		if s.ID == demoAdminID && s.Role == admin.Administrator && s.Revoked.IsZero() {
			return reg.Reset(demoAdminID)
		}
	}
	return "", nil
}

// demoAdminID is the demo administrator's staff id.
const demoAdminID = "admin"

// printBanner writes the block `make run` ends its start-up with: the
// address to open and, on a demo server, how to sign in to the admin
// screen. It goes to standard error with the log lines, so it follows
// them in order, and is marked apart from them by its frame.
func printBanner(w io.Writer, base, password string) {
	lines := []string{
		"Smart Pass is running / スマートパスを起動しました",
		"",
		"  開く / Open:        " + base + "/",
	}
	if password != "" {
		lines = append(lines,
			"  管理画面 / Admin:   "+base+route.Admin,
			"    ID:               "+demoAdminID,
			"    パスワード / password: "+password,
			"    (demo administrator created: a new password at every start of a demo server)",
		)
	}
	fmt.Fprintln(w, "┏"+strings.Repeat("━", 70))
	for _, l := range lines {
		fmt.Fprintln(w, "┃ "+l)
	}
	fmt.Fprintln(w, "┗"+strings.Repeat("━", 70))
}
