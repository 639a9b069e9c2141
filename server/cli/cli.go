// Package cli is the Smart Pass server's command line: it serves the PWA, the sync
// websocket that every tablet and phone talks to, and keeps the op log in
// an embedded Badger store, or in PostgreSQL (-store postgres://… -tenant
// NAME) where several servers may serve one municipality.
//
//	go run -tags demo ./server -demo -dev
//
// (with a build tagged demo, server/demo_on.go) starts it on 127.0.0.1:8080 with its data in ./data (encrypted with the
// key in ./data.key, created on first start), demo facilities seeded and
// plain websockets allowed on loopback.
//
//	server backup -data DIR -out FILE    sealed copy, online or offline
//	server restore -data NEWDIR -in FILE a new store from a backup
//	server restore -store URL -tenant T  a new epoch after PostgreSQL's own restore
//	server facility -id ID -kind KIND -name-ja NAME [-name-en NAME] [-capacity N]
//	                                     add or change a facility
//	server facilities                    the facilities
//	server device-code -facility ID -role ROLE   a one-time enrollment code
//	server devices                       the enrolled devices
//	server revoke -device ID             cut a device off
//	server audit [-actor ID] [-action A] [-subject S] [-last N]
//	                                     the audit log's newest entries
//	server audit-verify                  check the audit log's hash chain
//	server ledger-verify                 check the wallet ledger's invariants
//	server staff [-add ID -name N -role R [-facility F] | -reset ID | -revoke ID]
//	                                     staff accounts of the admin screen
//	server transit import -operator ID -config FILE.json [-from YYYY-MM-DD] FEED.zip
//	                                     a transit operator's GTFS-JP feed for its
//	                                     vehicles, in force from its first day (or -from)
//
// The device commands reach a running server through its admin socket
// (DATA.sock), or work on the store directly when no server runs.
package cli

import (
	"context"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/server/api"
	"smartpass.city/smartpass/server/commands"
	"smartpass.city/smartpass/server/ledger"
	"smartpass.city/smartpass/server/pwa"
	"smartpass.city/smartpass/server/store"

	"smartpass.city/smartpass/app/jpaddress"
	"smartpass.city/smartpass/server/audit"
	"smartpass.city/smartpass/server/devices"
	"smartpass.city/smartpass/server/furusato"
	"smartpass.city/smartpass/server/numbervault"
	"smartpass.city/smartpass/server/oplog"
	"smartpass.city/smartpass/server/pgstore"
	"smartpass.city/smartpass/server/publish"
	"smartpass.city/smartpass/server/receipt"
	"smartpass.city/smartpass/server/residents"
	"smartpass.city/smartpass/server/staff"
	"smartpass.city/smartpass/server/visits"
	"smartpass.city/smartpass/syncproto"
)

// Build is what the binary was built with: its version, and the demo's
// parts when the build has them.
type Build struct {
	// Version is set at build time with -ldflags "-X main.version=...".
	Version string
	// NewDemo makes a demo server's parts (package demo); nil in a build
	// without the tag demo, which refuses -demo.
	NewDemo func(log store.Store, logger *slog.Logger) (Demo, error)
}

// Demo is what a demo server adds (package demo): a simulated card reader
// whose cards come from a demo PKI, and its routes.
type Demo interface {
	Anchors() (jpki.Anchors, error)
	Routes(mux *http.ServeMux, reg *devices.Registry, fac devices.Facilities)
}

// ErrNoDemo refuses -demo in a build without the demo.
var ErrNoDemo = errors.New("-demo: this server was built without the demo (build it with -tags demo, as make run does)")

type config struct {
	addr    string
	data    string
	keyFile string
	// storeURL, when set, names the PostgreSQL database (postgres://…)
	// that holds the store instead of Badger in data; tenant names the
	// municipality whose data this server serves there.
	storeURL string
	tenant   string
	assets   string
	dev      bool
	demo     bool
	tlsCert  string
	tlsKey   string
	// jpkiRoots and jpkiCRLs are the JPKI trust anchors and revocation
	// lists cards are checked against (a demo server uses its own test
	// PKI when none are given).
	jpkiRoots string
	jpkiCRLs  []string
	// city is the municipality of the residents (as their cards' addresses
	// name it): its children enter play parks free.
	city string
	// prefecture is the city's prefecture (石川県): with city, the
	// municipality that receives hometown-tax donations; mayor signs
	// their receipts.
	prefecture, mayor string
	// receiptFont is the TrueType font of the donation receipts (""
	// looks where Debian's fonts-ipafont-gothic puts it); without it the
	// server does not start.
	receiptFont string
	// vaultKeyFile is the individual-number vault's key (default
	// DATA.vault.key).
	vaultKeyFile string
	// limits are the connection time-outs and the cap on unauthenticated
	// sync sessions.
	limits connLimits
	// stripeURL is the card gateway's address (stripe-mock's in the
	// demo); its secret key and webhook secret come from the
	// environment, never the command line (which every user can read).
	stripeURL string
	// secondStaff is the cash top-up above which a second staff member
	// confirms (yen).
	secondStaff int64
	// trustedProxies are the reverse proxies whose X-Forwarded-For names
	// the caller (none: the header is never believed).
	trustedProxies []netip.Prefix
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
	preAuth: 512, codeRefill: api.DefaultCodeRefill,
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

// Main runs the command line args (os.Args[1:]) and returns the exit
// status.
func Main(args []string, b Build) int {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(args, b, logger)
	case "backup":
		err = runBackup(args, logger)
	case "restore":
		err = runRestore(args, logger)
	case "device-code", "devices", "revoke", "facility", "facilities", "audit", "audit-verify", "ledger-verify", "staff":
		err = runAdmin(cmd, args, os.Stdout, logger)
	case "transit":
		if len(args) == 0 || args[0] != "import" {
			err = errors.New("transit: use transit import -operator ID -config FILE.json [-from YYYY-MM-DD] FEED.zip")
			break
		}
		err = runAdmin("transit-import", args[1:], os.Stdout, logger)
	default:
		err = fmt.Errorf("unknown command %q: use serve (the default), backup, restore, facility, facilities, device-code, devices, revoke, audit, audit-verify, ledger-verify, staff or transit import", cmd)
	}
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	if err != nil {
		logger.Error("smartpass "+cmd+" failed", "err", err)
		fmt.Fprintln(os.Stderr, "smartpass:", err)
		return 1
	}
	return 0
}

func serve(args []string, b Build, logger *slog.Logger) error {
	var c config
	fs := newFlags("serve")
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&c.data, "data", "./data", "Badger data directory (created if missing)")
	fs.StringVar(&c.keyFile, "key-file", "", "the store's encryption key, 64 hex digits (default: DATA.key, created for a new store)")
	fs.StringVar(&c.storeURL, "store", "", "PostgreSQL database holding the store (postgres://…), instead of Badger in -data; give -tenant")
	fs.StringVar(&c.tenant, "tenant", "", "with -store: the municipality whose data this server serves (created when new)")
	fs.StringVar(&c.assets, "assets", "./assets", "directory with app.wasm, icons and styles (make build fills it)")
	fs.BoolVar(&c.dev, "dev", false, "development mode: allow plain ws:// sync from loopback")
	fs.BoolVar(&c.demo, "demo", false, "seed demo facilities into an empty store, and hand out enrollment codes for them at "+syncproto.DemoCodesPath)
	fs.StringVar(&c.tlsCert, "tls-cert", "", "TLS certificate file (PEM); with -tls-key, serve HTTPS")
	fs.StringVar(&c.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	fs.StringVar(&c.jpkiRoots, "jpki-roots", "", "JPKI CA certificates (PEM) that My Number Cards are verified against")
	fs.StringVar(&c.stripeURL, "stripe-url", "", "the card gateway's address (stripe-mock's for a demo; empty: Stripe); card top-ups are on when $SMARTPASS_STRIPE_KEY is set, confirmed by webhook when $SMARTPASS_STRIPE_WEBHOOK_SECRET is")
	fs.Int64Var(&c.secondStaff, "wallet-second-staff", 30000, "a cash top-up above this many yen needs a second staff member's confirmation")
	fs.StringVar(&c.city, "city", "加賀市", "the city whose residents' children enter play parks free, as card addresses name it")
	fs.StringVar(&c.prefecture, "prefecture", "石川県", "the city's prefecture, as card addresses name it (hometown-tax donations)")
	fs.StringVar(&c.mayor, "mayor", "加賀市長", "who issues the donation receipts, printed on them")
	fs.StringVar(&c.receiptFont, "receipt-font", "", "TrueType font of the donation receipts (default: IPA Gothic from fonts-ipafont-gothic)")
	fs.StringVar(&c.vaultKeyFile, "vault-key-file", "", "the individual-number vault's key, 64 hex digits, not the store's (default: DATA.vault.key, created when missing)")
	fs.Func("jpki-crl", "a JPKI revocation list (DER or PEM), signed by one of -jpki-roots; repeat for each CA", func(f string) error {
		c.jpkiCRLs = append(c.jpkiCRLs, f)
		return nil
	})
	fs.Func("trusted-proxy", "a reverse proxy (address or CIDR prefix) whose X-Forwarded-For names the caller, for back-off and the audit log; repeat for each (default: none, the header is not believed)", func(v string) error {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			a, aerr := netip.ParseAddr(v)
			if aerr != nil {
				return fmt.Errorf("-trusted-proxy %q: %w", v, err)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		c.trustedProxies = append(c.trustedProxies, p)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.demo && b.NewDemo == nil {
		return ErrNoDemo
	}
	var err error
	if c.limits, err = parseLimits(defaultLimits, os.Getenv(limitsEnv)); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, c, b, logger)
}

func run(ctx context.Context, c config, b Build, logger *slog.Logger) error {
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return errors.New("give both -tls-cert and -tls-key, or neither")
	}
	if err := os.MkdirAll(c.data, 0o700); err != nil {
		return fmt.Errorf("cannot use the data directory %q: %w", c.data, err)
	}
	// The receipts' font first: a server that could only make blank
	// receipts does not start.
	receipts, err := receipt.New(c.receiptFont)
	if err != nil {
		return fmt.Errorf("cannot make donation receipts: %w", err)
	}
	keyFile := keyPath(c.keyFile, c.data)
	key, err := loadKey(keyFile, c.data, true, logger)
	if err != nil {
		return err
	}
	vaultKey, err := loadVaultKey(vaultKeyPath(c.vaultKeyFile, c.data), c.data, key, logger)
	if err != nil {
		return err
	}
	log, err := openEngine(ctx, c, key, logger)
	if errors.Is(err, oplog.ErrWrongKey) || errors.Is(err, pgstore.ErrWrongKey) {
		return fmt.Errorf("the encryption key in %s does not open the store (%s): give the right -key-file", keyFile, c.storeName())
	}
	if err != nil {
		return err
	}
	defer func() {
		if err := log.Close(); err != nil {
			logger.Error("closing the store", "err", err)
		}
	}()
	vault, err := numbervault.New(log, vaultKey)
	if err != nil {
		return err
	}
	if _, err := vault.Pending(); err != nil {
		return fmt.Errorf("the vault key in %s does not open the individual numbers in %s: give the right -vault-key-file: %w", vaultKeyPath(c.vaultKeyFile, c.data), c.data, err)
	}
	pub, err := publish.New(log)
	if err != nil {
		return err
	}
	if c.demo {
		if err := pub.SeedDemo(ctx); err != nil {
			return err
		}
	}
	fac := commands.FacilitiesOf(log)
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
	var demo Demo
	if c.demo {
		if demo, err = b.NewDemo(log, logger); err != nil {
			return err
		}
		if anchors == nil { // the demo's cards are from the demo PKI
			a, err := demo.Anchors()
			if err != nil {
				return err
			}
			anchors = &a
		}
	}
	web, err := pwa.New(c.assets, b.Version, logger)
	if err != nil {
		return err
	}
	deps := api.Deps{
		Log: log, Writer: pub, Devices: reg, Facilities: fac, Audit: auditLog, Anchors: anchors, City: c.city, PWA: web,
		Version: b.Version, Dev: c.dev, CodeRefill: c.limits.codeRefill, Download: c.limits.download,
		Hello: c.limits.hello, MaxPreAuth: c.limits.preAuth, Logger: logger, TrustedProxies: c.trustedProxies,
		Wallet: ledger.Config{SecondStaffAbove: c.secondStaff},
	}
	if key := os.Getenv("SMARTPASS_STRIPE_KEY"); key != "" {
		deps.Card = &api.Card{Key: key, URL: c.stripeURL, WebhookSecret: os.Getenv("SMARTPASS_STRIPE_WEBHOOK_SECRET")}
	}
	deps.Mount = func(mux *http.ServeMux, reg *residents.Registry, people *staff.Registry) error {
		if reg == nil {
			logger.Warn("no JPKI anchors: the hometown-tax donor's page and one-stop applications are off")
			return nil
		}
		svc, err := furusato.New(furusato.Deps{Log: log, Writer: pub, Registry: reg, Vault: vault, Receipts: receipts, Audit: auditLog,
			City: jpaddress.Place{Prefecture: c.prefecture, Municipality: c.city}, Mayor: c.mayor, Staff: furusato.StaffSessions(people), Facilities: fac, Logger: logger})
		if err != nil {
			return err
		}
		svc.Routes(mux)
		return nil
	}
	if demo != nil {
		deps.Demo = func(mux *http.ServeMux) { demo.Routes(mux, reg, fac) }
	}
	handler, err := api.New(ctx, deps)
	if err != nil {
		return err
	}
	defer handler.Close() // before the store closes: no handler may read a closed store
	if c.demo && handler.Visits() != nil {
		// The demo hospitals' slots from yesterday to visits.SeedDays
		// ahead, so the account page can book on any day make run starts.
		if err := handler.Visits().SeedDemo(ctx, time.Now(), visits.SeedDays); err != nil {
			return fmt.Errorf("seed the demo hospitals: %w", err)
		}
	}
	admin, err := listenAdmin(c.data)
	if err != nil {
		return err
	}
	defer os.Remove(adminSocket(c.data))
	defer admin.Close()
	cmds := handler.Commands()
	go serveAdmin(admin, log, key, cmds, logger)
	var demoPassword string
	if c.demo {
		if demoPassword, err = seedDemoAdmin(cmds.Staff); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.addr, err)
	}
	srv := &http.Server{
		Handler:           handler,
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
	logger.Info("smartpass server listening", "addr", ln.Addr().String(), "store", c.storeName(), "dev", c.dev, "version", b.Version, "head", log.Head())
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
	handler.Close()
	logger.Info("stopped cleanly")
	return nil
}

// loadAnchors reads the JPKI trust anchors (PEM certificates) and
// revocation lists (DER or PEM, each signed by one of the anchors) a
// production server checks cards against. No roots: no anchors.
func loadAnchors(rootsFile string, crlFiles []string) (*jpki.Anchors, error) {
	if rootsFile == "" {
		if len(crlFiles) > 0 {
			return nil, errors.New("-jpki-crl needs -jpki-roots: a CRL is checked against its CA")
		}
		return nil, nil
	}
	b, err := os.ReadFile(rootsFile)
	if err != nil {
		return nil, fmt.Errorf("JPKI roots: %w", err)
	}
	a := &jpki.Anchors{}
	for block, rest := pem.Decode(b); block != nil; block, rest = pem.Decode(rest) {
		a.Roots = append(a.Roots, block.Bytes)
	}
	if len(a.Roots) == 0 {
		return nil, fmt.Errorf("JPKI roots %s: no PEM certificate in it", rootsFile)
	}
	for _, f := range crlFiles {
		der, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("JPKI CRL: %w", err)
		}
		if block, _ := pem.Decode(der); block != nil {
			der = block.Bytes
		}
		a.CRLs = append(a.CRLs, der)
	}
	if _, err := a.Verifier(); err != nil { // say what is wrong now, not at the first card
		return nil, fmt.Errorf("JPKI roots %s and CRLs %v: %w", rootsFile, crlFiles, err)
	}
	return a, nil
}
