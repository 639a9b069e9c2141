// Command server is the Smart Pass server: it serves the PWA, the sync
// websocket that every tablet and phone talks to, and keeps the op log in
// an embedded Badger store.
//
//	go run ./server -demo -dev
//
// starts it on 127.0.0.1:8080 with its data in ./data (encrypted with the
// key in ./data.key, created on first start), demo facilities seeded and
// plain websockets allowed on loopback.
//
//	server backup -data DIR -out FILE    sealed copy, online or offline
//	server restore -data NEWDIR -in FILE a new store from a backup
//	server facility -id ID -kind KIND -name-ja NAME [-name-en NAME] [-capacity N]
//	                                     add or change a facility
//	server facilities                    the facilities
//	server device-code -facility ID -role ROLE   a one-time enrollment code
//	server devices                       the enrolled devices
//	server revoke -device ID             cut a device off
//	server audit [-actor ID] [-action A] [-subject S] [-last N]
//	                                     the audit log's newest entries
//	server audit-verify                  check the audit log's hash chain
//	server staff [-add ID -name N -role R [-facility F] | -reset ID | -revoke ID]
//	                                     staff accounts of the admin screen
//
// The device commands reach a running server through its admin socket
// (DATA.sock), or work on the store directly when no server runs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/server/audit"
	"smartpass.city/smartpass/server/devices"
	"smartpass.city/smartpass/server/facilities"
	"smartpass.city/smartpass/server/httpguard"
	"smartpass.city/smartpass/server/hub"
	"smartpass.city/smartpass/server/oplog"
	"smartpass.city/smartpass/server/residents"
	"smartpass.city/smartpass/syncproto"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type config struct {
	addr    string
	data    string
	keyFile string
	assets  string
	dev     bool
	demo    bool
	tlsCert string
	tlsKey  string
	// jpkiRoots and jpkiCRLs are the JPKI trust anchors and revocation
	// lists cards are checked against (a demo server uses its own test
	// PKI when none are given).
	jpkiRoots string
	jpkiCRLs  []string
	// city is the municipality of the residents (as their cards' addresses
	// name it): its children enter play parks free.
	city string
	// limits are the connection time-outs and the cap on unauthenticated
	// sync sessions.
	limits connLimits
}

// connLimits bound every phase of a connection, so a client that
// connects and then trickles, or never signs in, is cut off.
type connLimits struct {
	// header: the request line and headers; read: the whole request,
	// body included (the largest is a few KiB of JSON); write: an answer
	// (a download under /web/ gets download instead: app.wasm on a slow
	// link); idle: a kept-alive connection between requests; hello: a
	// sync socket from connect to authenticated.
	header, read, write, download, idle, hello time.Duration
	// preAuth caps the sync sockets open and not yet authenticated.
	preAuth int
	// codeRefill is how long a client that spent its budget of wrong
	// set-up codes waits for its next try.
	codeRefill time.Duration
}

// defaultLimits are the production values.
var defaultLimits = connLimits{
	header: 10 * time.Second, read: 30 * time.Second, write: 60 * time.Second,
	download: 15 * time.Minute, idle: 120 * time.Second, hello: 15 * time.Second,
	preAuth: 512, codeRefill: failureRefill,
}

// limitsEnv, read by the serve command only, overrides the limits, e.g.
// "header=1s,read=2s,hello=2s,preauth=100,code-refill=1s": the attack
// tests run in seconds, not minutes. It is not a flag, so nobody tunes a
// production server into weakness by accident.
const limitsEnv = "SMARTPASS_TEST_LIMITS"

// parseLimits applies spec (limitsEnv's format) over l.
func parseLimits(l connLimits, spec string) (connLimits, error) {
	for _, kv := range strings.Split(spec, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if k == "preauth" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return l, fmt.Errorf("%s: preauth=%q is not a positive number", limitsEnv, v)
			}
			l.preAuth = n
			continue
		}
		field, ok := map[string]*time.Duration{
			"header": &l.header, "read": &l.read, "write": &l.write, "download": &l.download,
			"idle": &l.idle, "hello": &l.hello, "code-refill": &l.codeRefill,
		}[k]
		if !ok {
			return l, fmt.Errorf("%s: unknown limit %q", limitsEnv, k)
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return l, fmt.Errorf("%s: %s=%q is not a positive duration", limitsEnv, k, v)
		}
		*field = d
	}
	return l, nil
}

func newFlags(name string) *flag.FlagSet {
	return flag.NewFlagSet(name, flag.ContinueOnError)
}

// logOptions are the op log's options wherever the server opens it:
// feeds by scope, and a resident's face deletion erasing their earlier
// templates from the log.
func logOptions(key []byte, logger *slog.Logger) oplog.Options {
	return oplog.Options{
		Key: key, Logger: logger, Feeds: scope.Feeds,
		Erasure: &oplog.Erasure{Record: template.Erases, Redact: template.Redact},
	}
}

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	args := os.Args[1:]
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(args, logger)
	case "backup":
		err = runBackup(args, logger)
	case "restore":
		err = runRestore(args, logger)
	case "device-code", "devices", "revoke", "facility", "facilities", "audit", "audit-verify", "staff":
		err = runAdmin(cmd, args, os.Stdout, logger)
	default:
		err = fmt.Errorf("unknown command %q: use serve (the default), backup, restore, facility, facilities, device-code, devices, revoke, audit, audit-verify or staff", cmd)
	}
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		logger.Error("smartpass "+cmd+" failed", "err", err)
		fmt.Fprintln(os.Stderr, "smartpass:", err)
		os.Exit(1)
	}
}

func serve(args []string, logger *slog.Logger) error {
	var c config
	fs := newFlags("serve")
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&c.data, "data", "./data", "Badger data directory (created if missing)")
	fs.StringVar(&c.keyFile, "key-file", "", "the store's encryption key, 64 hex digits (default: DATA.key, created for a new store)")
	fs.StringVar(&c.assets, "assets", "./assets", "directory with app.wasm, icons and styles (make build fills it)")
	fs.BoolVar(&c.dev, "dev", false, "development mode: allow plain ws:// sync from loopback")
	fs.BoolVar(&c.demo, "demo", false, "seed demo facilities into an empty store, and hand out enrollment codes for them at "+syncproto.DemoCodesPath)
	fs.StringVar(&c.tlsCert, "tls-cert", "", "TLS certificate file (PEM); with -tls-key, serve HTTPS")
	fs.StringVar(&c.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	fs.StringVar(&c.jpkiRoots, "jpki-roots", "", "JPKI CA certificates (PEM) that My Number Cards are verified against")
	fs.StringVar(&c.city, "city", "加賀市", "the city whose residents' children enter play parks free, as card addresses name it")
	fs.Func("jpki-crl", "a JPKI revocation list (DER or PEM), signed by one of -jpki-roots; repeat for each CA", func(f string) error {
		c.jpkiCRLs = append(c.jpkiCRLs, f)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if c.limits, err = parseLimits(defaultLimits, os.Getenv(limitsEnv)); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, c, logger)
}

func run(ctx context.Context, c config, logger *slog.Logger) error {
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return errors.New("give both -tls-cert and -tls-key, or neither")
	}
	if err := os.MkdirAll(c.data, 0o700); err != nil {
		return fmt.Errorf("cannot use the data directory %q: %w", c.data, err)
	}
	keyFile := keyPath(c.keyFile, c.data)
	key, err := loadKey(keyFile, c.data, true, logger)
	if err != nil {
		return err
	}
	log, err := oplog.Open(c.data, logOptions(key, logger))
	if errors.Is(err, oplog.ErrWrongKey) {
		return fmt.Errorf("the encryption key in %s does not open the store in %s: give the right -key-file", keyFile, c.data)
	}
	if err != nil {
		return fmt.Errorf("cannot use the data directory %q (is it writable, and not used by another server?): %w", c.data, err)
	}
	defer func() {
		if err := log.Close(); err != nil {
			logger.Error("closing the store", "err", err)
		}
	}()
	if c.demo {
		if err := facilities.SeedDemo(ctx, log); err != nil {
			return err
		}
	}
	fac := facilitiesOf(log)
	reg := devices.New(log, fac)
	auditLog := audit.New(log)
	auditLog.Logger = logger
	// The refusals of unauthenticated callers, summarised each minute and
	// at shutdown (before the store closes: this defer runs first).
	summaries, stopSummaries := context.WithCancel(context.Background())
	summarised := make(chan struct{})
	go func() { auditLog.SummariseEvery(summaries, time.Minute); close(summarised) }()
	defer func() { stopSummaries(); <-summarised }()
	anchors, err := loadAnchors(c.jpkiRoots, c.jpkiCRLs)
	if err != nil {
		return err
	}
	var usb *demoUSB
	if c.demo {
		if usb, err = newDemoUSB(log, logger); err != nil {
			return err
		}
		if anchors == nil { // the demo's cards are from the demo PKI
			if anchors, err = usb.anchors(); err != nil {
				return err
			}
		}
	}
	cards, err := newCardCheck(ctx, log, anchors, auditLog, logger)
	if err != nil {
		return err
	}
	pk, err := passKey(ctx, log)
	if err != nil {
		return err
	}
	accts := &accounts{log: log, facilities: fac, lookup: reg.Lookup, passKey: pk, city: c.city, audit: auditLog, logger: logger}
	if cards.v != nil {
		accts.reg = &residents.Registry{Log: log, Verifier: cards.v, Nonces: &cards.nonces}
	}
	h := hub.New(log, reg, hub.Options{Dev: c.dev, Server: version, Logger: logger, Audit: hubAudit(auditLog), Verify: cards.recheck, Stored: accts.deskProfiles,
		HelloTimeout: c.limits.hello, MaxPreAuth: c.limits.preAuth})
	defer h.Close() // before the store closes: no handler may read a closed store
	admin, err := listenAdmin(c.data)
	if err != nil {
		return err
	}
	defer os.Remove(adminSocket(c.data))
	defer admin.Close()
	cmds := newAdminCmds(log, reg, h, auditLog)
	go serveAdmin(admin, log, key, cmds, logger)
	var demoPassword string
	if c.demo {
		if demoPassword, err = seedDemoAdmin(cmds.staff); err != nil {
			return err
		}
	}

	web, err := newWeb(c.assets, logger)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /sync", h)
	mux.Handle("POST "+syncproto.RegisterPath, newRegistrar(reg, auditLog, logger, c.limits.codeRefill))
	mux.HandleFunc("POST "+syncproto.CardNoncePath, cards.nonce)
	mux.HandleFunc("POST "+syncproto.CardVerifyPath, cards.verify)
	mux.HandleFunc("POST "+account.CreatePath, accts.open)
	mux.HandleFunc("POST "+account.RecoverPath, accts.recover)
	mux.HandleFunc("POST "+account.MembersPath, accts.members)
	mux.HandleFunc("POST "+account.HouseholdPath, accts.household)
	mux.HandleFunc("POST "+account.FacePath, accts.face)
	mux.HandleFunc("POST "+account.FaceDeletePath, accts.faceDelete)
	mux.HandleFunc("POST "+account.DeletePath, accts.remove)
	mux.HandleFunc("POST "+account.HistoryPath, accts.history)
	mux.HandleFunc("POST "+account.ConsentPath, accts.consent)
	mux.HandleFunc("POST "+account.PassPath, accts.pass)
	mux.HandleFunc("POST "+account.DeskPath, accts.desk)
	mux.HandleFunc("POST "+account.DeskHouseholdPath, accts.deskHousehold)
	mux.HandleFunc("GET "+account.FacilitiesPath, accts.facilityList)
	if usb != nil {
		mux.HandleFunc("GET "+syncproto.DemoCodesPath, demoCodes(reg, fac, logger))
		mux.Handle("GET "+DemoUSBPath, usb)
	}
	(&adminWeb{cmds: cmds, logger: logger}).routes(mux)
	mux.HandleFunc("GET /healthz", health(log, h, web))
	mux.Handle("/", logErrors(web.handler(c.demo), logger))

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.addr, err)
	}
	guarded := httpguard.Wrap(mux, httpguard.Options{Dev: c.dev, Private: privatePaths, Logger: logger})
	srv := &http.Server{
		Handler:           downloads(guarded, c.limits.download),
		ReadHeaderTimeout: c.limits.header,
		ReadTimeout:       c.limits.read,
		WriteTimeout:      c.limits.write,
		IdleTimeout:       c.limits.idle,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() {
		if c.tlsCert != "" {
			errc <- srv.ServeTLS(ln, c.tlsCert, c.tlsKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	logger.Info("smartpass server listening", "addr", ln.Addr().String(), "data", c.data, "dev", c.dev, "version", version, "head", log.Head())
	scheme := "http"
	if c.tlsCert != "" {
		scheme = "https"
	}
	printBanner(os.Stderr, scheme+"://"+ln.Addr().String(), demoPassword)

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Warn("http shutdown", "err", err)
	}
	h.Close()
	logger.Info("stopped cleanly")
	return nil
}

// hubAudit is the hub's audit: a sync session refused before its device
// proved its key is counted (audit.Refused), everything else appended.
func hubAudit(a *audit.Log) func(actor, action, subject, detail string) {
	return func(actor, action, subject, detail string) {
		if action != "sync.refused" {
			a.Note(actor, action, subject, detail)
			return
		}
		// The hub's detail is "REASON, from ADDRESS".
		reason, from, _ := strings.Cut(detail, ", from ")
		if host, _, err := net.SplitHostPort(from); err == nil {
			from = host
		}
		a.Refused(action, from, reason)
	}
}

// privatePaths need TLS (or -dev on loopback): a resident's account and
// the admin API carry signatures, passwords and session tokens.
var privatePaths = []string{account.CreatePath, account.DeskPath, account.DeskHouseholdPath, "/admin/api/"}

// downloads gives a GET of the files under /web/ (app.wasm, the face
// model: megabytes, on a tablet's slow link) a longer write deadline than
// the server's WriteTimeout, which stays short for everything else. A
// sync socket needs nothing: the websocket upgrade clears the deadlines
// and the hub sets its own per frame.
func downloads(next http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/web/") {
			// An error means the writer cannot: the server's deadline stands.
			_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
		}
		next.ServeHTTP(w, r)
	})
}
