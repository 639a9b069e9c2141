package api

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"smartpass.city/smartpass/server/commands"

	"smartpass.city/smartpass/app/admin"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/server/devices"
	"smartpass.city/smartpass/server/httpguard"
	"smartpass.city/smartpass/server/routes"
	"smartpass.city/smartpass/server/staff"
	"smartpass.city/smartpass/syncproto"
)

// adminWeb serves the admin API (package app/admin) to the browser admin
// screen: staff sign in, and each request runs the admin command it
// stands for, as them (the audit log names the staff account), after
// their role is checked. A device officer limited to one facility sees
// and touches only its devices.
type adminWeb struct {
	cmds   *commands.Set
	logger *slog.Logger
}

// codeTTL is how long a code issued from the screen stays valid: the
// officer sets the tablet up now, not next week.
const codeTTL = 24 * time.Hour

// routes adds the admin API to mux, each endpoint from its definition
// in admin.API.
func (a *adminWeb) routes(mux routes.Mux) {
	api := admin.API
	mux.HandleFunc(api.SignIn.Pattern(), a.signIn)
	staffRoute(mux, a, api.SignOut, admin.SeeDevices, a.signOut)
	staffRoute(mux, a, api.Overview, admin.SeeDevices, a.overview)
	staffRoute(mux, a, api.Facility, admin.ManageFacilities, a.facility)
	staffRoute(mux, a, api.Code, admin.ManageDevices, a.code)
	staffRoute(mux, a, api.Revoke, admin.ManageDevices, a.revoke)
	staffRoute(mux, a, api.StaffAdd, admin.ManageStaff, a.staffAdd)
	staffRoute(mux, a, api.StaffRevoke, admin.ManageStaff, a.staffRevoke)
	staffRoute(mux, a, api.Audit, admin.ReadAudit, a.auditRead)
}

// staffRoute routes ep to fn for staff whose role has the permission
// p: the body is decoded as the endpoint's request, and fn answers the
// endpoint's answer, so a handler cannot drift from the definition the
// admin screen calls.
func staffRoute[Req admin.InSession, Resp any](mux routes.Mux, a *adminWeb, ep syncproto.Endpoint[Req, Resp], p admin.Permission, fn func(staffCall, Req) (Resp, error)) {
	mux.HandleFunc(ep.Pattern(), a.as(p, func(c staffCall) (any, error) {
		req, err := requestOf[Req](c)
		if err != nil {
			return nil, err
		}
		out, err := fn(c, req)
		return out, err
	}))
}

// maxAdminBody bounds a request: the largest is a staff account.
const maxAdminBody = 16 << 10

func (a *adminWeb) signIn(w http.ResponseWriter, r *http.Request) {
	req, err := decodeRequest(admin.API.SignIn, io.LimitReader(r.Body, maxAdminBody))
	if err != nil {
		refuse(w, refuseAdminInvalid)
		return
	}
	from := httpguard.ClientOf(r).Host
	sess, err := a.cmds.Staff.SignIn(r.Context(), req.ID, req.Password, from)
	switch {
	case errors.Is(err, staff.ErrBusy):
		a.cmds.Audit.Refused("staff.signin.refused", from, "busy")
		refuse(w, refuseAdminBusy)
	case errors.Is(err, staff.ErrSignIn):
		// Counted, not appended: anyone can send these (audit.Refused).
		// The id is not recorded: it is whatever the caller typed.
		a.cmds.Audit.Refused("staff.signin.refused", from, "signin_failed")
		refuse(w, refuseAdminSignIn)
	case err != nil:
		httpguard.Internal(w, r, a.logger, "staff sign-in", err)
	default:
		if nerr := a.cmds.ByStaff(sess.Staff.ID).Note("staff.signin", sess.Staff.ID, "ok from "+from); nerr != nil {
			a.logger.Error("audit a staff sign-in", "err", nerr)
		}
		answer(w, admin.API.SignIn, sess)
	}
}

// staffCall is an admin API request of a signed-in staff member: its
// body, and the commands run as them.
type staffCall struct {
	who  admin.Staff
	body []byte
	cmds commands.Set
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
			refuse(w, refuseAdminInvalid)
			return
		}
		who, err := a.cmds.Staff.Session(req.Token)
		if err != nil {
			refuse(w, refuseAdminSession)
			return
		}
		if !who.Role.May(p) {
			refuse(w, refuseAdminForbidden)
			return
		}
		out, err := fn(staffCall{who: who, body: body, cmds: a.cmds.ByStaff(who.ID)})
		var invalid invalidRequest
		switch {
		case errors.As(err, &invalid):
			refuseWith(w, refuseAdminInvalid, invalid.Error())
		case errors.Is(err, commands.ErrForbidden):
			refuse(w, refuseAdminForbidden)
		case err != nil:
			httpguard.Internal(w, r, a.logger, "admin API of "+who.ID, err)
		default:
			if f, ok := out.(download); ok {
				f.send(w)
				return
			}
			writeJSON(w, out)
		}
	}
}

// download is an admin answer that is a file to save, not JSON: a
// report as a CSV for Excel.
type download struct {
	name, ctype string
	body        []byte
}

// send writes the file, never cached: a report is of the moment, and
// may be about people.
func (d download) send(w http.ResponseWriter) {
	w.Header().Set("Content-Type", d.ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+d.name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(d.body)
}

// invalidRequest is a request the command refused as malformed or
// impossible (an unknown facility, a taken id): the staff member's to fix.
type invalidRequest struct{ error }

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

func (a *adminWeb) signOut(c staffCall, req admin.Request) (syncproto.None, error) {
	a.cmds.Staff.SignOut(req.Token)
	return syncproto.None{}, nil
}

// mine reports whether a facility is within the staff member's reach.
func mine(who admin.Staff, facilityID string) bool {
	return who.Facility == "" || who.Facility == facilityID
}

func (a *adminWeb) overview(c staffCall, _ admin.Request) (admin.Overview, error) {
	var out admin.Overview
	facs, err := c.cmds.Do("facilities", nil)
	if err != nil {
		return admin.Overview{}, err
	}
	for _, f := range facs.Facilities {
		if mine(c.who, f.ID) {
			out.Facilities = append(out.Facilities, f)
		}
	}
	devs, err := c.cmds.Do("devices", nil)
	if err != nil {
		return admin.Overview{}, err
	}
	for _, d := range devs.Devices {
		if mine(c.who, d.Facility) {
			out.Devices = append(out.Devices, admin.Device{ID: d.ID, Facility: d.Facility, Role: string(d.Role), Registered: d.Registered, Revoked: d.Revoked, LastSync: d.LastSync})
		}
	}
	if c.who.Role.May(admin.ManageStaff) {
		st, err := c.cmds.Do("staff", nil)
		if err != nil {
			return admin.Overview{}, err
		}
		out.Staff = st.Staff
	}
	return out, nil
}

func (a *adminWeb) facility(c staffCall, req admin.FacilityRequest) (facility.Facility, error) {
	if err := req.Facility.Validate(); err != nil {
		return facility.Facility{}, invalidRequest{err}
	}
	if _, err := c.cmds.Do("facility", []string{commands.Arg(req.Facility)}); err != nil {
		return facility.Facility{}, err
	}
	return req.Facility, nil
}

func (a *adminWeb) code(c staffCall, req admin.CodeRequest) (admin.Code, error) {
	if !mine(c.who, req.Facility) {
		return admin.Code{}, commands.ErrForbidden
	}
	reply, err := c.cmds.Do("code", []string{req.Facility, req.Role, codeTTL.String()})
	if errors.Is(err, commands.ErrForbidden) {
		return admin.Code{}, err
	}
	if err != nil {
		return admin.Code{}, invalidRequest{err}
	}
	return admin.Code{Code: reply.Code, Expires: time.Now().Add(codeTTL)}, nil
}

func (a *adminWeb) revoke(c staffCall, req admin.RevokeRequest) (syncproto.None, error) {
	devs, err := c.cmds.Devices.List() // its facility: no last sync needed
	if err != nil {
		return syncproto.None{}, err
	}
	i := slices.IndexFunc(devs, func(d devices.Device) bool { return d.ID == req.ID })
	if i < 0 {
		return syncproto.None{}, invalidRequest{fmt.Errorf("no device %q", req.ID)}
	}
	if !mine(c.who, devs[i].Facility) {
		return syncproto.None{}, commands.ErrForbidden
	}
	if _, err := c.cmds.Do("revoke", []string{req.ID}); err != nil {
		return syncproto.None{}, err
	}
	return syncproto.None{}, nil
}

func (a *adminWeb) staffAdd(c staffCall, req admin.StaffRequest) (admin.NewStaff, error) {
	reply, err := c.cmds.Do("staff-add", []string{commands.Arg(req.Staff)})
	if err != nil {
		return admin.NewStaff{}, invalidRequest{err}
	}
	return admin.NewStaff{Staff: reply.Staff[0], Password: reply.Password}, nil
}

func (a *adminWeb) staffRevoke(c staffCall, req admin.RevokeRequest) (syncproto.None, error) {
	if req.ID == c.who.ID {
		return syncproto.None{}, invalidRequest{errors.New("you cannot close your own account")}
	}
	if _, err := c.cmds.Do("staff-revoke", []string{req.ID}); err != nil {
		return syncproto.None{}, invalidRequest{err}
	}
	return syncproto.None{}, nil
}

// auditRead answers the newest 100 matching entries; the read itself is
// recorded first, so nobody reads the log unseen.
func (a *adminWeb) auditRead(c staffCall, req admin.AuditRequest) (admin.Audit, error) {
	if err := c.cmds.Note("audit.read", cmp.Or(req.Subject, req.Actor, req.Action, "all"), ""); err != nil {
		return admin.Audit{}, err
	}
	args := []string{"last=100"}
	for k, v := range map[string]string{"actor": req.Actor, "action": req.Action, "subject": req.Subject} {
		if v != "" {
			args = append(args, k+"="+v)
		}
	}
	reply, err := c.cmds.Do("audit", args)
	if err != nil {
		return admin.Audit{}, err
	}
	out := admin.Audit{Total: reply.Entries, Entries: []admin.Entry{}}
	for _, e := range reply.Log {
		out.Entries = append(out.Entries, admin.Entry{Seq: e.Seq, Time: e.Time, Actor: e.Actor, Action: e.Action, Subject: e.Subject, Detail: e.Detail})
	}
	return out, nil
}
