package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"smartpass.city/smartpass/app/jpaddress"
	"smartpass.city/smartpass/server/api"
	"smartpass.city/smartpass/server/audit"
	"smartpass.city/smartpass/server/cardpay"
	"smartpass.city/smartpass/server/commands"
	"smartpass.city/smartpass/server/devices"
	"smartpass.city/smartpass/server/directory"
	"smartpass.city/smartpass/server/furusato"
	"smartpass.city/smartpass/server/ledger"
	"smartpass.city/smartpass/server/numbervault"
	"smartpass.city/smartpass/server/oplog"
	"smartpass.city/smartpass/server/pgstore"
	"smartpass.city/smartpass/server/publish"
	"smartpass.city/smartpass/server/pwa"
	"smartpass.city/smartpass/server/receipt"
	"smartpass.city/smartpass/server/residents"
	"smartpass.city/smartpass/server/routes"
	"smartpass.city/smartpass/server/staff"
	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/server/visits"
)

// city is one municipality's server: its store, its handler of every
// route and its admin socket, closed in the reverse order of opening.
type city struct {
	log          store.Store
	api          *api.API
	demoPassword string
	closers      []func()
}

// onClose adds f to what close runs, before what was added earlier.
func (ct *city) onClose(f func()) { ct.closers = append(ct.closers, f) }

// close stops what was opened, the last first.
func (ct *city) close() {
	for i := len(ct.closers) - 1; i >= 0; i-- {
		ct.closers[i]()
	}
	ct.closers = nil
}

// fail closes what was opened and returns err.
func (ct *city) fail(err error) (*city, error) {
	ct.close()
	return nil, err
}

// openCity opens one municipality's store (Badger in c.data, or its
// tenant with -store) and everything that serves it, as c says.
func openCity(ctx context.Context, c config, b Build, receipts *receipt.Maker, logger *slog.Logger) (*city, error) {
	ct := &city{}
	if err := os.MkdirAll(c.data, 0o700); err != nil {
		return ct.fail(fmt.Errorf("cannot use the data directory %q: %w", c.data, err))
	}
	keyFile := keyPath(c.keyFile, c.data)
	key, err := loadKey(keyFile, c.data, true, logger)
	if err != nil {
		return ct.fail(err)
	}
	vaultKey, err := loadVaultKey(vaultKeyPath(c.vaultKeyFile, c.data), c.data, key, logger)
	if err != nil {
		return ct.fail(err)
	}
	log, err := openEngine(ctx, c, key, logger)
	if errors.Is(err, oplog.ErrWrongKey) || errors.Is(err, pgstore.ErrWrongKey) {
		return ct.fail(fmt.Errorf("the encryption key in %s does not open the store (%s): give the right -key-file", keyFile, c.storeName()))
	}
	if err != nil {
		return ct.fail(err)
	}
	ct.log = log
	ct.onClose(func() {
		if err := log.Close(); err != nil {
			logger.Error("closing the store", "err", err)
		}
	})
	vault, err := numbervault.New(log, vaultKey)
	if err != nil {
		return ct.fail(err)
	}
	if _, err := vault.Pending(); err != nil {
		return ct.fail(fmt.Errorf("the vault key in %s does not open the individual numbers in %s: give the right -vault-key-file: %w", vaultKeyPath(c.vaultKeyFile, c.data), c.data, err))
	}
	pub, err := publish.New(log)
	if err != nil {
		return ct.fail(err)
	}
	if c.demo {
		fresh := log.Head() == 0
		if err := pub.SeedDemo(ctx); err != nil {
			return ct.fail(err)
		}
		if fresh { // the demo operator's routes, once, with the facilities
			ops, err := commands.DemoTransit()
			if err == nil {
				err = pub.Write(ctx, ops, nil)
			}
			if err != nil {
				return ct.fail(err)
			}
		}
	}
	fac := commands.FacilitiesOf(log)
	reg := devices.New(log, fac)
	auditLog := audit.New(log)
	auditLog.Logger = logger
	// The refusals of unauthenticated callers, summarised each minute and
	// at shutdown (before the store closes: closed first).
	summaries, stopSummaries := context.WithCancel(context.Background())
	summarised := make(chan struct{})
	go func() { auditLog.SummariseEvery(summaries, time.Minute); close(summarised) }()
	ct.onClose(func() { stopSummaries(); <-summarised })
	anchors, err := loadAnchors(c.jpkiRoots, c.jpkiCRLs)
	if err != nil {
		return ct.fail(err)
	}
	var demo Demo
	if c.demo {
		if demo, err = b.NewDemo(log, logger); err != nil {
			return ct.fail(err)
		}
		if anchors == nil { // the demo's cards are from the demo PKI
			a, err := demo.Anchors()
			if err != nil {
				return ct.fail(err)
			}
			anchors = &a
		}
	}
	web, err := pwa.New(c.assets, b.Version, logger)
	if err != nil {
		return ct.fail(err)
	}
	deps := api.Deps{
		Log: log, Writer: pub, Devices: reg, Facilities: fac, Audit: auditLog, Anchors: anchors, City: c.city, PWA: web,
		Version: b.Version, Dev: c.dev, CodeRefill: c.limits.codeRefill, Download: c.limits.download,
		Hello: c.limits.hello, MaxPreAuth: c.limits.preAuth, SharedStore: c.storeURL != "", Logger: logger, TrustedProxies: c.trustedProxies,
		Wallet: ledger.Config{SecondStaffAbove: c.secondStaff},
	}
	if key := os.Getenv("SMARTPASS_STRIPE_KEY"); key != "" {
		deps.Card = &api.Card{Key: key, URL: c.stripeURL, WebhookSecret: os.Getenv("SMARTPASS_STRIPE_WEBHOOK_SECRET")}
	}
	// The hometown-tax counter pays through the wallet's ledger and card
	// gateway, which the API builds.
	counter := furusato.Counter{Lookup: reg.Lookup}
	deps.Payments = func(led *ledger.Ledger, card *cardpay.Gateway) {
		counter.Ledger = led
		if card != nil {
			counter.Card = card
		}
	}
	deps.Mount = func(mux routes.Mux, reg *residents.Registry, people *staff.Registry) error {
		if reg == nil {
			logger.Warn("no JPKI anchors: the hometown-tax donor's page and one-stop applications are off")
			return nil
		}
		svc, err := furusato.New(furusato.Deps{Log: log, Writer: pub, Registry: reg, Vault: vault, Receipts: receipts, Audit: auditLog,
			City: jpaddress.Place{Prefecture: c.prefecture, Municipality: c.city}, Mayor: c.mayor, Staff: furusato.StaffSessions(people), Facilities: fac, Logger: logger})
		if err != nil {
			return err
		}
		svc.UseCounter(counter)
		svc.Routes(mux)
		return nil
	}
	if demo != nil {
		deps.Demo = func(mux routes.Mux) { demo.Routes(mux, reg, fac) }
	}
	handler, err := api.New(ctx, deps)
	if err != nil {
		return ct.fail(err)
	}
	ct.api = handler
	ct.onClose(handler.Close) // before the store closes: no handler may read a closed store
	if c.demo && handler.Visits() != nil {
		// The demo hospitals' slots from yesterday to visits.SeedDays
		// ahead, so the account page can book on any day make run starts.
		if err := handler.Visits().SeedDemo(ctx, time.Now(), visits.SeedDays); err != nil {
			return ct.fail(fmt.Errorf("seed the demo hospitals: %w", err))
		}
	}
	admin, err := listenAdmin(c.data)
	if err != nil {
		return ct.fail(err)
	}
	ct.onClose(func() { os.Remove(adminSocket(c.data)) })
	ct.onClose(func() { admin.Close() })
	cmds := handler.Commands()
	go serveAdmin(admin, log, key, cmds, logger)
	if c.demo {
		if ct.demoPassword, err = seedDemoAdmin(cmds.Staff); err != nil {
			return ct.fail(err)
		}
	}
	return ct, nil
}

// openDirectory opens every municipality the directory file names, each
// on its own tenant and data directory with the server's other flags, and
// returns the handler that routes each request to the municipality its
// host names.
func openDirectory(ctx context.Context, c config, b Build, receipts *receipt.Maker, logger *slog.Logger) (http.Handler, []*city, error) {
	if c.demo || c.storeURL != "" || c.tenant != "" {
		return nil, nil, errors.New("-directory names each municipality's store, tenant and data: give none of -demo, -store and -tenant with it")
	}
	raw, err := os.ReadFile(c.directory)
	if err != nil {
		return nil, nil, fmt.Errorf("-directory: %w", err)
	}
	dir, err := directory.Parse(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", c.directory, err)
	}
	var cities []*city
	handlers := map[string]http.Handler{}
	for _, m := range dir.Municipalities {
		mc := c
		mc.directory = ""
		mc.storeURL, mc.tenant, mc.data, mc.keyFile, mc.vaultKeyFile = m.Store, m.Tenant, m.Data, m.KeyFile, m.VaultKeyFile
		mc.prefecture, mc.city, mc.mayor = m.Prefecture, m.City, m.Mayor
		ct, err := openCity(ctx, mc, b, receipts, logger.With("tenant", m.Tenant))
		if err != nil {
			for _, done := range cities {
				done.close()
			}
			return nil, nil, fmt.Errorf("municipality %s: %w", m.Tenant, err)
		}
		cities = append(cities, ct)
		handlers[m.Tenant] = ct.api
		logger.Info("serving a municipality", "tenant", m.Tenant, "city", m.City, "hosts", m.Hosts, "head", ct.log.Head())
	}
	return dir.Route(handlers), cities, nil
}
