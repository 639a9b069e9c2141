// Package hubtest runs a sync hub in process for tests, with real parts:
// an op log on Badger in a temporary folder holding the demo facilities,
// the device registry, and websockets over loopback. Devices enroll with
// an admin's code, as a tablet does.
package hubtest

import (
	"context"
	"crypto/ed25519"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/synclog"
	"smartpass.city/smartpass/server/devices"
	"smartpass.city/smartpass/server/facilities"
	"smartpass.city/smartpass/server/hub"
	"smartpass.city/smartpass/server/oplog"
	"smartpass.city/smartpass/syncproto"
	"smartpass.city/smartpass/syncproto/wsconn"
)

// Server is a hub over its op log, served on loopback.
type Server struct {
	Log     *oplog.Log
	Devices *devices.Registry
	Hub     *hub.Hub
	URL     string // ws://
}

// Start runs a hub with opt (plain websockets allowed: Dev; a 2 s hello
// timeout unless set; no log unless opt.Logger), stopped when t ends.
func Start(t testing.TB, opt hub.Options) *Server {
	t.Helper()
	l, err := oplog.Open(t.TempDir(), oplog.Options{Feeds: scope.Feeds})
	if err != nil {
		t.Fatal(err)
	}
	if err := facilities.SeedDemo(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	reg := devices.New(l, func() (map[string]facility.Facility, error) { return facilities.Current(l) })
	t.Cleanup(func() { l.Close() }) // after the hub's cleanup: they run last first
	return serve(t, l, reg, opt)
}

// Replica runs a second hub with opt over s's op log and devices, as a
// second server process on one shared store would, stopped when t ends.
func (s *Server) Replica(t testing.TB, opt hub.Options) *Server {
	t.Helper()
	return serve(t, s.Log, s.Devices, opt)
}

// serve runs a hub over l and reg on loopback until t ends.
func serve(t testing.TB, l *oplog.Log, reg *devices.Registry, opt hub.Options) *Server {
	opt.Dev = true
	if opt.HelloTimeout == 0 {
		opt.HelloTimeout = 2 * time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h := hub.New(l, reg, opt)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		h.Close()
	})
	return &Server{Log: l, Devices: reg, Hub: h, URL: "ws" + strings.TrimPrefix(srv.URL, "http")}
}

// Enroll registers device id at a facility in role with priv's public
// key, as an admin's code and the device's registration would, and
// returns the device's signer.
func (s *Server) Enroll(t testing.TB, id, facilityID string, role scope.Role, priv ed25519.PrivateKey) syncproto.Signer {
	t.Helper()
	code, err := s.Devices.Issue(facilityID, role, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Devices.Register(syncproto.RegisterRequest{Code: code, Device: id, PublicKey: priv.Public().(ed25519.PublicKey)}); err != nil {
		t.Fatal(err)
	}
	return syncproto.KeySigner{Key: priv}
}

// Dialer connects a device's engine to the hub.
func (s *Server) Dialer() synclog.Dialer {
	return func(ctx context.Context) (synclog.Conn, error) { return wsconn.Dial(ctx, s.URL) }
}

// WaitFor waits up to 10 s for cond, then fails t naming what it waited
// for.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
