package main

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/route"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/server/audit"
	"smartpass.city/smartpass/server/devices"
	"smartpass.city/smartpass/server/httpguard"
	"smartpass.city/smartpass/syncproto"
)

// Error codes of the registration endpoint, beside syncproto's own. The
// PWA turns each into a sentence for the person setting up the tablet.
const (
	codeBadCode = "bad_code" // unknown, used or expired
	codeTaken   = "taken"    // the device id is registered already
)

// failureLimit bounds wrong codes per client address per window: a code
// has 40 bits, so guessing one at this rate takes longer than any code
// lives.
const (
	failureLimit  = 20
	failureWindow = 10 * time.Minute
)

// registrar serves POST /devices/register.
type registrar struct {
	reg    *devices.Registry
	audit  *audit.Log
	logger *slog.Logger

	mu       sync.Mutex
	failures map[string]*failures
}

type failures struct {
	n     int
	since time.Time
}

func newRegistrar(reg *devices.Registry, a *audit.Log, logger *slog.Logger) *registrar {
	return &registrar{reg: reg, audit: a, logger: logger, failures: make(map[string]*failures)}
}

func (rg *registrar) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	if rg.blocked(host) {
		writeRefusal(w, http.StatusTooManyRequests, syncproto.CodeLimit, "too many wrong codes from this network; wait ten minutes")
		return
	}
	var req syncproto.RegisterRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&req); err != nil {
		writeRefusal(w, http.StatusBadRequest, syncproto.CodeMalformed, "the registration request is not valid JSON")
		return
	}
	d, err := rg.reg.Register(req)
	switch {
	case errors.Is(err, devices.ErrBadCode):
		rg.fail(host)
		rg.logger.Warn("device registration: bad code", "remote", r.RemoteAddr, "device", req.Device)
		rg.audit.Note(req.Device, "device.register.refused", "", "bad code from "+r.RemoteAddr)
		writeRefusal(w, http.StatusForbidden, codeBadCode, "the enrollment code is unknown, already used or expired")
	case errors.Is(err, devices.ErrTaken):
		writeRefusal(w, http.StatusConflict, codeTaken, "this device is registered already; clear the app's data to set it up again")
	case errors.Is(err, devices.ErrBadRequest):
		writeRefusal(w, http.StatusBadRequest, syncproto.CodeInvalid, err.Error())
	case err != nil:
		httpguard.Internal(w, r, rg.logger, "device registration", err)
	default:
		rg.logger.Info("device registered", "device", d.ID, "facility", d.Facility, "role", d.Role, "name", d.Name)
		rg.audit.Note(d.ID, "device.register", d.Facility, string(d.Role)+" from "+r.RemoteAddr)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(syncproto.RegisterResponse{Device: d.ID, Facility: d.Facility, Role: string(d.Role)})
	}
}

func (rg *registrar) blocked(host string) bool {
	rg.mu.Lock()
	defer rg.mu.Unlock()
	f := rg.failures[host]
	if f != nil && time.Since(f.since) > failureWindow {
		delete(rg.failures, host)
		return false
	}
	return f != nil && f.n >= failureLimit
}

func (rg *registrar) fail(host string) {
	rg.mu.Lock()
	defer rg.mu.Unlock()
	if len(rg.failures) > 10000 { // many addresses guessing: forget the old ones
		for h, f := range rg.failures {
			if time.Since(f.since) > failureWindow {
				delete(rg.failures, h)
			}
		}
	}
	f := rg.failures[host]
	if f == nil {
		f = &failures{since: time.Now()}
		rg.failures[host] = f
	}
	f.n++
}

func writeRefusal(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(syncproto.Error{Code: code, Message: msg})
}

// demoCodes serves GET /demo/codes on a demo server only: a fresh one-hour
// code for every facility and role, so a newcomer can set up a tablet of
// any kind without an admin.
func demoCodes(reg *devices.Registry, fac devices.Facilities, logger *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		all, err := fac()
		if err != nil {
			httpguard.Internal(w, r, logger, "demo codes", err)
			return
		}
		var out []syncproto.DemoCode
		for _, f := range facility.Demo() {
			if _, ok := all[f.ID]; !ok {
				continue
			}
			f = all[f.ID]
			// Every role with a screen (the auditor has none).
			for _, role := range scope.RolesFor(f.Kind) {
				if route.ForRole(string(role)) == "" {
					continue
				}
				code, err := reg.Issue(f.ID, role, time.Hour)
				if err != nil {
					httpguard.Internal(w, r, logger, "demo codes", err)
					return
				}
				out = append(out, syncproto.DemoCode{Facility: f.ID, NameJA: f.NameJA, NameEN: f.NameEN, Role: string(role), Code: code})
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(out)
	}
}
