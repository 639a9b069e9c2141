// Package visits is the server's side of the hospital visit (app/visit):
// the account page's bookings, answers, consents, notebook imports,
// accesses, receipts and emergency notices, signed by the account's
// holder; and a hospital reception device's day list, consented history,
// visit summaries, bills, emergency summaries and FHIR exports, signed by
// the device. It is the one writer of the hospital kinds the server
// writes (one door per write): each request is checked against the
// folded state under one lock, then written, so a refusal is a typed
// answer and not an op the fold rejects later.
//
// Requests are authenticated by the residents registry exactly as the
// account API's are (a server nonce used once, the account's or the
// device's key over account.Message); a device acts for its own hospital
// only, which the server takes from its enrollment, never from the body.
// Every request, answered or refused, is audited with who asked.
package visits

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/state"
	"smartpass.city/smartpass/server/audit"
	"smartpass.city/smartpass/server/httpguard"
	"smartpass.city/smartpass/server/publish"
	"smartpass.city/smartpass/server/refusal"
	"smartpass.city/smartpass/server/residents"
	"smartpass.city/smartpass/server/routes"
	"smartpass.city/smartpass/server/signedreq"
	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/syncproto"
)

// Deps is what the door is built from.
type Deps struct {
	Log store.Store
	// Writer is the server's one writer of its own ops.
	Writer *publish.Writer
	// Registry authenticates holders and devices and knows households.
	Registry *residents.Registry
	// Lookup finds an enrolled device (devices.Registry.Lookup).
	Lookup func(id string) (ed25519.PublicKey, scope.Device, error)
	Audit  *audit.Log
	Logger *slog.Logger
	// Refusal words the errors the routes share with the account API
	// (the registry's, the card nonce's); nil: only this package's.
	Refusal func(error) (refusal.Refusal, bool)
	// Now is the clock of the checks (nil: time.Now); the fold's clock
	// is the writer's, so a test moves neither.
	Now func() time.Time
}

// Door serves the hospital visit's endpoints.
type Door struct {
	d Deps

	// mu serialises check-then-write, and guards the folded state.
	mu    sync.Mutex
	ops   []syncproto.Op
	st    *state.State
	after uint64
}

// New returns the door over d.
func New(d Deps) *Door {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Door{d: d}
}

// folded are the op kinds the door's state needs, by prefix: facilities,
// the medical record, appointments, the hospital's links, bills and
// emergency uses.
var folded = []string{"facility.", "medical.", "appointment.", "hospital.", "emergency."}

func relevant(kind string) bool {
	for _, p := range folded {
		if strings.HasPrefix(kind, p) {
			return true
		}
	}
	return false
}

// current brings the folded state up to the log's head: the new ops are
// applied in order when they come after every op folded (the usual
// case), else everything is folded again. Call with mu held.
func (d *Door) current() (*state.State, error) {
	refold := d.st == nil
	for {
		batch, err := d.d.Log.Since(scope.FeedAll, d.after, 1024, 8<<20)
		if err != nil {
			return nil, fmt.Errorf("visits: read: %w", err)
		}
		if len(batch) == 0 {
			break
		}
		for _, op := range batch {
			d.after = op.Global
			if !relevant(op.Kind) {
				continue
			}
			d.ops = append(d.ops, op)
			if !refold && !d.st.Apply(op) {
				refold = true
			}
		}
	}
	if refold {
		d.st = state.Fold(d.ops)
	}
	return d.st, nil
}

// write stores ops as the server's, then folds them and returns the
// first one's record id; an op the fold rejected after all (a race the
// checks could not see) is an error. Call with mu held.
func (d *Door) write(ctx context.Context, bodies ...op) (string, error) {
	ops := make([]syncproto.Op, len(bodies))
	for i, b := range bodies {
		raw, err := json.Marshal(b.body)
		if err != nil {
			return "", fmt.Errorf("visits: %s: %w", b.kind, err)
		}
		ops[i] = syncproto.Op{Kind: b.kind, Body: raw}
	}
	if err := d.d.Writer.Write(ctx, ops, nil); err != nil {
		return "", err
	}
	st, err := d.current()
	if err != nil {
		return "", err
	}
	for _, r := range st.Rejected {
		for _, o := range ops {
			if r.Op.Device == publish.Device && r.Op.Seq == o.Seq {
				return "", fmt.Errorf("%w: %s", errRaced, r.Reason)
			}
		}
	}
	ops[0].Device = publish.Device
	return state.RecordID(ops[0]), nil
}

// op is one op to write: its kind and body.
type op struct {
	kind string
	body any
}

// Routes adds every endpoint of visit.API to mux.
func (d *Door) Routes(mux routes.Mux) {
	d.holderRoutes(mux)
	d.offerRoutes(mux)
	d.deviceRoutes(mux)
}

// maxRequest bounds a request: a notebook's QR codes are the largest.
const maxRequest = 256 << 10

// byHolder routes ep, signed by an account's holder (signedreq), then
// do under the lock with the current state; audited as action by the
// holder on the subject do names.
func byHolder[Req, Resp any](mux routes.Mux, d *Door, ep account.Endpoint[Req, Resp], action string, do func(ctx context.Context, st *state.State, holder account.Account, req Req) (Resp, string, error)) {
	rd := signedreq.Reader{Registry: d.d.Registry, Limit: maxRequest}
	answer := func(w http.ResponseWriter, r *http.Request, action string, holder account.Account, subject string, out any, err error) {
		d.answer(w, r, action, holder.ID, subject, out, err)
	}
	signedreq.Route(mux, ep, rd, answer, action, func(ctx context.Context, holder account.Account, req Req) (Resp, string, error) {
		return locked(d, func(st *state.State) (Resp, string, error) { return do(ctx, st, holder, req) })
	})
}

// byDevice routes ep, signed by a hospital's reception device: do gets
// the device (its facility is the hospital it acts for).
func byDevice[Req, Resp any](mux routes.Mux, d *Door, ep account.Endpoint[Req, Resp], action string, do func(ctx context.Context, st *state.State, dev scope.Device, req Req) (Resp, string, error)) {
	mux.HandleFunc(ep.Pattern(), func(w http.ResponseWriter, r *http.Request) {
		var out Resp
		subject := ""
		s, err := signedreq.Reader{Limit: maxRequest}.Signed(w, r)
		if err != nil {
			d.answer(w, r, action, "", "", out, err)
			return
		}
		key, dev, err := d.d.Lookup(s.Signer)
		switch {
		case err != nil:
			err = fmt.Errorf("%w: %v", residents.ErrSigned, err)
		case dev.Role != scope.Reception || dev.Facility.Kind != facility.Hospital:
			err = fmt.Errorf("%w: %s is %s at %s", errDevice, s.Signer, dev.Role, dev.Facility.ID)
		default:
			err = d.d.Registry.CheckSigned(ep.Path, s, key)
		}
		if err == nil {
			var v Req
			if v, err = signedreq.Body[Req](s.Body); err == nil {
				out, subject, err = locked(d, func(st *state.State) (Resp, string, error) { return do(r.Context(), st, dev, v) })
			}
		}
		actor := ""
		if err == nil || dev.ID != "" {
			actor = s.Signer
		}
		d.answer(w, r, action, actor, subject, out, err)
	})
}

// locked runs do with the current state, the door's lock held.
func locked[Resp any](d *Door, do func(st *state.State) (Resp, string, error)) (Resp, string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	st, err := d.current()
	if err != nil {
		var zero Resp
		return zero, "", err
	}
	return do(st)
}

// answer sends out, or err's refusal, and audits either: by actor (the
// holder or the device; "" for nobody proven, counted only) on subject.
func (d *Door) answer(w http.ResponseWriter, r *http.Request, action, actor, subject string, out any, err error) {
	if err != nil {
		ref, ok := d.refusalOf(err)
		code := ref.Code
		if !ok {
			code = syncproto.CodeInternal
		}
		if actor == "" {
			d.d.Audit.Refused(action+".refused", r.RemoteAddr, code)
		} else {
			d.d.Audit.Note(actor, action+".refused", subject, code)
		}
		if !ok {
			httpguard.Internal(w, r, d.d.Logger, action, err)
			return
		}
		refusal.Send(w, ref, ref.Message())
		return
	}
	d.d.Audit.Note(actor, action, subject, "")
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(out)
}

// refusalOf is err's refusal: a Refusal returned as it is, this
// package's table, then the shared one.
func (d *Door) refusalOf(err error) (refusal.Refusal, bool) {
	if ref, ok := errors.AsType[refusal.Refusal](err); ok {
		return ref, true
	}
	for _, c := range refusals {
		if errors.Is(err, c.err) {
			return c.ref, true
		}
	}
	if d.d.Refusal != nil {
		return d.d.Refusal(err)
	}
	return refusal.Refusal{}, false
}
