// Package api is the server's HTTP API: device registration, the card
// check, residents' accounts, the city desk, the admin screen's API, the
// health report and the PWA, behind httpguard. New builds it from its
// dependencies, so it is tested in process with httptest; the command
// line (package cli) only opens the store and starts the listener.
//
// Every refusal is a Refusal of refusal.go (code, words for the person,
// HTTP status); every other error is a 500 with a generic message, its
// cause logged.
package api

import (
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/app/visit"
	"smartpass.city/smartpass/server/audit"
	"smartpass.city/smartpass/server/cardpay"
	"smartpass.city/smartpass/server/commands"
	"smartpass.city/smartpass/server/devices"
	"smartpass.city/smartpass/server/faces"
	"smartpass.city/smartpass/server/fares"
	"smartpass.city/smartpass/server/httpguard"
	"smartpass.city/smartpass/server/hub"
	"smartpass.city/smartpass/server/ledger"
	"smartpass.city/smartpass/server/oplog"
	"smartpass.city/smartpass/server/publish"
	"smartpass.city/smartpass/server/pwa"
	"smartpass.city/smartpass/server/residents"
	"smartpass.city/smartpass/server/routes"
	"smartpass.city/smartpass/server/staff"
	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/server/visits"
	"smartpass.city/smartpass/syncproto"
)

// Deps is what the API is built from.
type Deps struct {
	Log store.Store
	// Writer is the one writer of the server's own ops on Log.
	Writer     *publish.Writer
	Devices    *devices.Registry
	Facilities devices.Facilities
	Audit      *audit.Log
	// Anchors are the JPKI trust anchors cards are checked against; nil:
	// this server cannot check cards (nor open accounts).
	Anchors *jpki.Anchors
	// City is the municipality whose residents' children enter play
	// parks free, as card addresses name it.
	City string
	// PWA serves the app; nil serves no pages (an API test).
	PWA *pwa.Server
	// Demo adds a demo server's routes (package demo); nil on a
	// production server. Its pages load the navigator.usb shim.
	Demo func(mux routes.Mux)
	// Wallet is what the city sets for its wallet's ledger (zero: the
	// defaults, package ledger).
	Wallet ledger.Config
	// Card configures card top-ups; nil: none on this server.
	Card *Card
	// Mount adds the routes of a service built on the account API's
	// holders (reg: nil when no JPKI anchors are configured) and the
	// admin screen's staff sessions: the hometown-tax donor's page
	// (server/furusato). Nil: none.
	Mount func(mux routes.Mux, reg *residents.Registry, staff *staff.Registry) error
	// Payments, called before Mount, hands over the wallet's ledger and
	// the card gateway (nil without Card): the hometown-tax counter pays
	// donations through them. Nil: nobody needs them.
	Payments func(led *ledger.Ledger, card *cardpay.Gateway)
	// Version is the server's build version.
	Version string
	// Dev allows plain HTTP to the private endpoints from loopback.
	Dev bool
	// CodeRefill is how long a client that spent its budget of wrong
	// set-up codes waits for its next try; Download is the write
	// deadline of a file under /web/; Hello is how long a sync socket
	// has to authenticate. Zero: the production values.
	CodeRefill, Download, Hello time.Duration
	// MaxPreAuth caps the sync sockets open and not yet authenticated;
	// zero: the hub's default.
	MaxPreAuth int
	// SharedStore says other server processes serve the same store (a
	// PostgreSQL tenant): each device's ingest allowance is then kept in
	// the store, one for all of them (hub.Options.SharedAllowance).
	SharedStore bool
	Logger      *slog.Logger
	// TrustedProxies are the reverse proxies whose X-Forwarded-For
	// names the caller (httpguard.Resolve); none: the header is never
	// believed.
	TrustedProxies []netip.Prefix
}

// API is the server's HTTP API (an http.Handler), and the hooks the sync
// hub calls for the ops it stores.
type API struct {
	handler http.Handler
	hub     *hub.Hub
	cmds    *commands.Set
	ledger  *ledger.Ledger
	visits  *visits.Door
	// stop ends the fares' sweep, once.
	stop     chan struct{}
	stopOnce sync.Once
}

// New builds the API: it publishes the card trust anchors and the pass
// key to every device (the server's own ops) and routes every endpoint.
func New(ctx context.Context, d Deps) (*API, error) {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	cards, err := newCardCheck(ctx, d.Log, d.Writer, d.Anchors, d.Audit, d.Logger)
	if err != nil {
		return nil, err
	}
	pk, err := passKey(ctx, d.Log, d.Writer)
	if err != nil {
		return nil, err
	}
	accts := &accounts{facilities: d.Facilities, lookup: d.Devices.Lookup, passKey: pk, audit: d.Audit, logger: d.Logger}
	if cards.v != nil {
		accts.reg = &residents.Registry{Log: d.Log, Verifier: cards.v, Nonces: &cards.nonces}
	}
	accts.faces = faces.New(d.Writer, accts.reg, d.Facilities, d.City, d.Logger)
	led := newLedger(d)
	accts.ledger = led
	// Transit fares post with the vehicles' taps, and a transit
	// operator's riders get their rider profile with their face.
	poster := fares.New(d.Log, fares.NewNetworks(d.Log), led, d.Writer)
	poster.Logger = d.Logger
	accts.faces.More = poster.FaceFacts
	// Shops' profiles carry each payer's offline allowance (the city's
	// cap: checkout's default) and the wallet's limits.
	accts.faces.Wallets = func(resident string) (template.Pay, error) {
		return payOf(led, resident)
	}
	// What a crash left between a desk's face op and its follow-up.
	if err := accts.faces.Drain(ctx); err != nil {
		d.Logger.Error("faces noted before a restart could not all be followed up; they stay noted", "err", err)
	}
	// A payment op is checked (an online one refused when the wallet
	// cannot pay) before it is stored, and posted in the transaction
	// that stores it.
	verify := func(device string, op syncproto.Op) error {
		if err := cards.recheck(device, op); err != nil {
			return err
		}
		return led.Check(device, op)
	}
	h := hub.New(d.Log, d.Devices, hub.Options{Dev: d.Dev, Server: d.Version, Logger: d.Logger, Audit: d.Audit.Note, Refused: d.Audit.Refused,
		Verify: verify, Records: hub.JoinRecords(led.Records, poster.Records, accts.faces.Records), Prepare: accts.faces.Prepare, Stored: accts.faces.Stored, HelloTimeout: d.Hello, MaxPreAuth: d.MaxPreAuth, SharedAllowance: d.SharedStore})
	cmds := commands.New(d.Log, d.Writer, d.Devices, h, d.Audit)
	mux := routes.New()
	mux.Handle("GET /sync", h)
	mux.Handle("POST "+syncproto.RegisterPath, newRegistrar(d.Devices, d.Audit, d.Logger, cmp.Or(d.CodeRefill, failureRefill)))
	mux.HandleFunc(syncproto.CardAPI.Nonce.Pattern(), cards.nonce)
	mux.HandleFunc(syncproto.CardAPI.Verify.Pattern(), cards.verify)
	accts.routes(mux)
	w := &wallets{a: accts, ledger: led, pub: d.Writer}
	if d.Card != nil {
		w.card = cardpay.New(d.Card.Key, d.Card.URL, d.Log, led)
		w.routes(mux, d.Card)
	} else {
		w.routes(mux, &Card{})
	}
	(&transitAPI{a: accts, poster: poster, web: &adminWeb{cmds: cmds, logger: d.Logger}}).routes(mux)
	stop := make(chan struct{})
	go sweepEvery(stop, poster, 5*time.Minute, d.Logger)
	var door *visits.Door
	if accts.reg != nil { // the hospital visit's requests are signed like the account API's
		door = visits.New(visits.Deps{Log: d.Log, Writer: d.Writer, Registry: accts.reg, Lookup: d.Devices.Lookup, Audit: d.Audit, Logger: d.Logger, Refusal: refusalOf})
		door.Routes(mux)
	}
	(&adminWeb{cmds: cmds, logger: d.Logger}).routes(mux)
	if d.Payments != nil {
		d.Payments(led, w.card)
	}
	if d.Mount != nil {
		if err := d.Mount(mux, accts.reg, cmds.Staff); err != nil {
			return nil, err
		}
	}
	if d.Demo != nil {
		d.Demo(mux)
	}
	mux.HandleFunc("GET /healthz", health(d, h))
	if d.PWA != nil {
		mux.Handle("GET /", pwa.LogErrors(d.PWA.Handler(d.Demo != nil), d.Logger))
	}
	cmds.Routes = mux.Patterns
	guarded := httpguard.Wrap(mux, httpguard.Options{Dev: d.Dev, Private: privatePaths, Logger: d.Logger, TrustedProxies: d.TrustedProxies})
	return &API{handler: downloads(guarded, cmp.Or(d.Download, 15*time.Minute)), hub: h, cmds: cmds, ledger: led, visits: door, stop: stop}, nil
}

// newLedger is the wallet's ledger in d's store: its server postings and
// wallet reads go to the audit chain.
func newLedger(d Deps) *ledger.Ledger {
	led := ledger.New(d.Log, d.Wallet)
	led.Audit = func(actor, action, subject, detail string) error {
		_, err := d.Audit.Append(actor, action, subject, detail)
		return err
	}
	return led
}

// Ledger is the city wallet's ledger, which the hub posts to.
func (a *API) Ledger() *ledger.Ledger { return a.ledger }

// Commands are the admin commands over the API's store and hub (the
// admin socket runs them).
func (a *API) Commands() *commands.Set { return a.cmds }

// Visits is the hospital visit's door (nil on a server that cannot
// check cards): a demo server seeds the demo hospitals through it
// (visits.Door.SeedDemo), the one writer of those kinds.
func (a *API) Visits() *visits.Door { return a.visits }

// Close ends every sync session; call it before the store closes, so no
// handler reads a closed store.
func (a *API) Close() {
	a.stopOnce.Do(func() { close(a.stop) })
	a.hub.Close()
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

// health answers GET /healthz with the server's version and the store's
// state, for monitoring and for the tests.
func health(d Deps, h *hub.Hub) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		app, built := "", false
		if d.PWA != nil {
			app, built = d.PWA.Version()
		}
		rw.Header().Set("Content-Type", "application/json")
		json.NewEncoder(rw).Encode(map[string]any{
			"version": d.Version,
			"app":     map[string]any{"version": app, "built": built},
			"store":   map[string]any{"state": "open", "epoch": d.Log.Epoch(), "head": d.Log.Head()},
			"sync":    map[string]any{"connections": h.Conns()},
		})
	}
}

// privatePaths need TLS (or -dev on loopback): a resident's account and
// the admin API carry signatures, passwords and session tokens; the
// hospital visit's, special-care personal data.
var privatePaths = append([]string{account.CreatePath, account.DeskPath, account.DeskHouseholdPath, "/admin/api/"}, visit.Private...)

// downloads gives a GET of the files under /web/ (app.wasm, the face
// model: megabytes, on a tablet's slow link) a longer write deadline than
// the server's WriteTimeout, which stays short for everything else. A
// sync socket needs nothing: the websocket upgrade clears the deadlines
// and the hub sets its own per frame.
func downloads(next http.Handler, d time.Duration) http.Handler {
	if d <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/web/") {
			// An error means the writer cannot: the server's deadline stands.
			_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
		}
		next.ServeHTTP(w, r)
	})
}

// LogOptions are the op log's options wherever the server opens it:
// feeds by scope, and a resident's face deletion erasing their earlier
// templates from the log.
func LogOptions(key []byte, logger *slog.Logger) oplog.Options {
	return oplog.Options{
		Key: key, Logger: logger, Feeds: scope.Feeds,
		Erasure: &oplog.Erasure{Record: template.Erases, Redact: template.Redact},
	}
}
