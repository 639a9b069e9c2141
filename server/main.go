// Command server is the Smart Pass server: it serves the PWA, the sync
// websocket that every tablet and phone talks to, and keeps the op log in
// an embedded Badger store.
//
//	go run ./server -demo -dev
//
// starts it on 127.0.0.1:8080 with its data in ./data, demo facilities
// seeded and plain websockets allowed on loopback.
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
	"syscall"
	"time"

	"smartpass.city/smartpass/server/hub"
	"smartpass.city/smartpass/server/oplog"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type config struct {
	addr    string
	data    string
	assets  string
	dev     bool
	demo    bool
	tlsCert string
	tlsKey  string
}

func main() {
	var c config
	flag.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to listen on")
	flag.StringVar(&c.data, "data", "./data", "Badger data directory (created if missing)")
	flag.StringVar(&c.assets, "assets", "./assets", "directory with app.wasm, icons and styles (make build fills it)")
	flag.BoolVar(&c.dev, "dev", false, "development mode: allow plain ws:// sync from loopback")
	flag.BoolVar(&c.demo, "demo", false, "seed demo facilities into an empty store")
	flag.StringVar(&c.tlsCert, "tls-cert", "", "TLS certificate file (PEM); with -tls-key, serve HTTPS")
	flag.StringVar(&c.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	flag.Parse()

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c, logger); err != nil {
		logger.Error("smartpass server stopped", "err", err)
		fmt.Fprintln(os.Stderr, "smartpass:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config, logger *slog.Logger) error {
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return errors.New("give both -tls-cert and -tls-key, or neither")
	}
	log, err := oplog.Open(c.data, oplog.Options{Logger: logger})
	if err != nil {
		return fmt.Errorf("cannot use the data directory %q (is it writable, and not used by another server?): %w", c.data, err)
	}
	defer func() {
		if err := log.Close(); err != nil {
			logger.Error("closing the store", "err", err)
		}
	}()
	if c.demo {
		if err := seedDemo(ctx, log); err != nil {
			return err
		}
	}
	h := hub.New(log, hub.Options{Dev: c.dev, Server: version, Logger: logger})
	defer h.Close() // before the store closes: no handler may read a closed store

	web, err := newWeb(c.assets, logger)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /sync", h)
	mux.HandleFunc("GET /healthz", health(log, h, web))
	mux.Handle("/", logErrors(web.handler(), logger))

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() {
		if c.tlsCert != "" {
			errc <- srv.ServeTLS(ln, c.tlsCert, c.tlsKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	logger.Info("smartpass server listening", "addr", ln.Addr().String(), "data", c.data, "dev", c.dev, "version", version, "head", log.Head())

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
