package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"smartpass.city/smartpass/app/admin"
	"smartpass.city/smartpass/app/route"
	"smartpass.city/smartpass/server/devices"
	"smartpass.city/smartpass/server/httpguard"
	"smartpass.city/smartpass/server/staff"
)

// adminWeb serves the admin API (package app/admin) to the browser admin
// screen: staff sign in, and each request runs the admin command it
// stands for, as them (the audit log names the staff account), after
// their role is checked. A device officer limited to one facility sees
// and touches only its devices.
type adminWeb struct {
	cmds   adminCmds
	logger *slog.Logger
}

// codeTTL is how long a code issued from the screen stays valid: the
// officer sets the tablet up now, not next week.
const codeTTL = 24 * time.Hour

// routes adds the admin API to mux.
func (a *adminWeb) routes(mux *http.ServeMux) {
	mux.HandleFunc("POST "+admin.SignInPath, a.signIn)
	mux.HandleFunc("POST "+admin.SignOutPath, a.as(admin.SeeDevices, a.signOut))
	mux.HandleFunc("POST "+admin.OverviewPath, a.as(admin.SeeDevices, a.overview))
	mux.HandleFunc("POST "+admin.FacilityPath, a.as(admin.ManageFacilities, a.facility))
	mux.HandleFunc("POST "+admin.CodePath, a.as(admin.ManageDevices, a.code))
	mux.HandleFunc("POST "+admin.RevokePath, a.as(admin.ManageDevices, a.revoke))
	mux.HandleFunc("POST "+admin.StaffAddPath, a.as(admin.ManageStaff, a.staffAdd))
	mux.HandleFunc("POST "+admin.StaffRevokePath, a.as(admin.ManageStaff, a.staffRevoke))
	mux.HandleFunc("POST "+admin.AuditPath, a.as(admin.ReadAudit, a.auditRead))
}

// maxAdminBody bounds a request: the largest is a staff account.
const maxAdminBody = 16 << 10

func (a *adminWeb) signIn(w http.ResponseWriter, r *http.Request) {
	var req admin.SignIn
	if err := json.NewDecoder(io.LimitReader(r.Body, maxAdminBody)).Decode(&req); err != nil {
		writeRefusal(w, http.StatusBadRequest, admin.RefusedInvalid, "the request is not JSON")
		return
	}
	from := remoteHost(r)
	sess, err := a.cmds.staff.SignIn(r.Context(), req.ID, req.Password, from)
	switch {
	case errors.Is(err, staff.ErrBusy):
		a.cmds.audit.Refused("staff.signin.refused", from, "busy")
		writeRefusal(w, http.StatusServiceUnavailable, admin.RefusedBusy, "the server is busy with other sign-ins: try again in a moment")
	case errors.Is(err, staff.ErrSignIn):
		// Counted, not appended: anyone can send these (audit.Refused).
		// The id is not recorded: it is whatever the caller typed.
		a.cmds.audit.Refused("staff.signin.refused", from, "signin_failed")
		writeRefusal(w, http.StatusUnauthorized, admin.RefusedSignIn, "the staff id or password is wrong, or tried too often just now: wait a little")
	case err != nil:
		a.logger.Error("staff sign-in", "err", err)
		writeRefusal(w, http.StatusInternalServerError, "internal", "the server could not check the sign-in")
	default:
		if nerr := a.cmds.byStaff(sess.Staff.ID).note("staff.signin", sess.Staff.ID, "ok from "+from); nerr != nil {
			a.logger.Error("audit a staff sign-in", "err", nerr)
		}
		writeJSON(w, sess)
	}
}

// remoteHost is the address of a request's caller, without its port: the
// source that back-off and the refusal counts go by.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// staffCall is an admin API request of a signed-in staff member: its
// body, and the commands run as them.
type staffCall struct {
	who  admin.Staff
	body []byte
	cmds adminCmds
}

// as checks the session and the role's permission, then runs fn, whose
// answer or error goes back as JSON.
func (a *adminWeb) as(p admin.Permission, fn func(staffCall) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxAdminBody))
		var req admin.Request
		if err == nil {
			err = json.Unmarshal(body, &req)
		}
		if err != nil {
			writeRefusal(w, http.StatusBadRequest, admin.RefusedInvalid, "the request is not JSON")
			return
		}
		who, err := a.cmds.staff.Session(req.Token)
		if err != nil {
			writeRefusal(w, http.StatusUnauthorized, admin.RefusedSession, "the session has ended: sign in again")
			return
		}
		if !who.Role.May(p) {
			writeRefusal(w, http.StatusForbidden, admin.RefusedForbidden, "your role ("+string(who.Role)+") may not do this")
			return
		}
		out, err := fn(staffCall{who: who, body: body, cmds: a.cmds.byStaff(who.ID)})
		var invalid invalidRequest
		switch {
		case errors.As(err, &invalid):
			writeRefusal(w, http.StatusBadRequest, admin.RefusedInvalid, invalid.Error())
		case errors.Is(err, errForbidden):
			writeRefusal(w, http.StatusForbidden, admin.RefusedForbidden, err.Error())
		case err != nil:
			httpguard.Internal(w, r, a.logger, "admin API of "+who.ID, err)
		default:
			writeJSON(w, out)
		}
	}
}

// invalidRequest is a request the command refused as malformed or
// impossible (an unknown facility, a taken id): the staff member's to fix.
type invalidRequest struct{ error }

// errForbidden: outside the staff member's facility, or a device role
// staff may not hand out.
var errForbidden = errors.New("this is outside what your account may do")

// requestOf decodes the staff member's request as a T.
func requestOf[T any](c staffCall) (T, error) {
	var req T
	if err := json.Unmarshal(c.body, &req); err != nil {
		return req, invalidRequest{fmt.Errorf("the request does not fit: %w", err)}
	}
	return req, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (a *adminWeb) signOut(c staffCall) (any, error) {
	req, err := requestOf[admin.Request](c)
	if err != nil {
		return nil, err
	}
	a.cmds.staff.SignOut(req.Token)
	return struct{}{}, nil
}

// mine reports whether a facility is within the staff member's reach.
func mine(who admin.Staff, facilityID string) bool {
	return who.Facility == "" || who.Facility == facilityID
}

func (a *adminWeb) overview(c staffCall) (any, error) {
	var out admin.Overview
	facs, err := c.cmds.do("facilities", nil)
	if err != nil {
		return nil, err
	}
	for _, f := range facs.Facilities {
		if mine(c.who, f.ID) {
			out.Facilities = append(out.Facilities, f)
		}
	}
	devs, err := c.cmds.do("devices", nil)
	if err != nil {
		return nil, err
	}
	for _, d := range devs.Devices {
		if mine(c.who, d.Facility) {
			out.Devices = append(out.Devices, admin.Device{ID: d.ID, Facility: d.Facility, Role: string(d.Role), Registered: d.Registered, Revoked: d.Revoked, LastSync: d.LastSync})
		}
	}
	if c.who.Role.May(admin.ManageStaff) {
		st, err := c.cmds.do("staff", nil)
		if err != nil {
			return nil, err
		}
		out.Staff = st.Staff
	}
	return out, nil
}

func (a *adminWeb) facility(c staffCall) (any, error) {
	req, err := requestOf[admin.FacilityRequest](c)
	if err != nil {
		return nil, err
	}
	if err := req.Facility.Validate(); err != nil {
		return nil, invalidRequest{err}
	}
	if _, err := c.cmds.do("facility", []string{arg(req.Facility)}); err != nil {
		return nil, err
	}
	return req.Facility, nil
}

func (a *adminWeb) code(c staffCall) (any, error) {
	req, err := requestOf[admin.CodeRequest](c)
	if err != nil {
		return nil, err
	}
	if !mine(c.who, req.Facility) {
		return nil, errForbidden
	}
	reply, err := c.cmds.do("code", []string{req.Facility, req.Role, codeTTL.String()})
	if errors.Is(err, errForbidden) {
		return nil, err
	}
	if err != nil {
		return nil, invalidRequest{err}
	}
	return admin.Code{Code: reply.Code, Expires: time.Now().Add(codeTTL)}, nil
}

func (a *adminWeb) revoke(c staffCall) (any, error) {
	req, err := requestOf[admin.RevokeRequest](c)
	if err != nil {
		return nil, err
	}
	devs, err := c.cmds.reg.List() // its facility: no last sync needed
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(devs, func(d devices.Device) bool { return d.ID == req.ID })
	if i < 0 {
		return nil, invalidRequest{fmt.Errorf("no device %q", req.ID)}
	}
	if !mine(c.who, devs[i].Facility) {
		return nil, errForbidden
	}
	if _, err := c.cmds.do("revoke", []string{req.ID}); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (a *adminWeb) staffAdd(c staffCall) (any, error) {
	req, err := requestOf[admin.StaffRequest](c)
	if err != nil {
		return nil, err
	}
	reply, err := c.cmds.do("staff-add", []string{arg(req.Staff)})
	if err != nil {
		return nil, invalidRequest{err}
	}
	return admin.NewStaff{Staff: reply.Staff[0], Password: reply.Password}, nil
}

func (a *adminWeb) staffRevoke(c staffCall) (any, error) {
	req, err := requestOf[admin.RevokeRequest](c)
	if err != nil {
		return nil, err
	}
	if req.ID == c.who.ID {
		return nil, invalidRequest{errors.New("you cannot close your own account")}
	}
	if _, err := c.cmds.do("staff-revoke", []string{req.ID}); err != nil {
		return nil, invalidRequest{err}
	}
	return struct{}{}, nil
}

// auditRead answers the newest 100 matching entries; the read itself is
// recorded first, so nobody reads the log unseen.
func (a *adminWeb) auditRead(c staffCall) (any, error) {
	req, err := requestOf[admin.AuditRequest](c)
	if err != nil {
		return nil, err
	}
	if err := c.cmds.note("audit.read", cmp.Or(req.Subject, req.Actor, req.Action, "all"), ""); err != nil {
		return nil, err
	}
	args := []string{"last=100"}
	for k, v := range map[string]string{"actor": req.Actor, "action": req.Action, "subject": req.Subject} {
		if v != "" {
			args = append(args, k+"="+v)
		}
	}
	reply, err := c.cmds.do("audit", args)
	if err != nil {
		return nil, err
	}
	out := admin.Audit{Total: reply.Entries, Entries: []admin.Entry{}}
	for _, e := range reply.Log {
		out.Entries = append(out.Entries, admin.Entry{Seq: e.Seq, Time: e.Time, Actor: e.Actor, Action: e.Action, Subject: e.Subject, Detail: e.Detail})
	}
	return out, nil
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
