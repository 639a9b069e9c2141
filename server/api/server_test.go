package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/server/audit"
	"smartpass.city/smartpass/server/commands"
	"smartpass.city/smartpass/server/devices"
	"smartpass.city/smartpass/server/oplog"
	"smartpass.city/smartpass/server/publish"
	"smartpass.city/smartpass/server/pwa"
	"smartpass.city/smartpass/server/serverproc"
)

// testServer is the API in the test's own process over a real Badger
// store in a temporary directory, with the demo facilities, served by
// httptest on loopback; its Proc issues codes, enrolls devices and reads
// every op as for a server process.
type testServer struct {
	*serverproc.Proc
	URL     string
	Log     *oplog.Log
	Audit   *audit.Log
	API     *API
	dir     string
	key     []byte
	anchors *jpki.Anchors
	ts      *httptest.Server
	logs    *syncBuffer
}

// syncBuffer is a log the handlers write to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newTestServer starts the API with anchors (nil: it cannot check cards).
func newTestServer(t *testing.T, anchors *jpki.Anchors) *testServer {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	s := &testServer{dir: t.TempDir(), key: key, anchors: anchors, logs: &syncBuffer{}}
	s.start(t)
	t.Cleanup(func() { s.Stop(t) })
	return s
}

// start opens the store and serves the API on it.
func (s *testServer) start(t *testing.T) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(s.logs, nil))
	log, err := oplog.Open(s.dir, LogOptions(s.key, logger))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pub, err := publish.New(log)
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	web, err := pwa.New(t.TempDir(), "test", logger)
	if err != nil {
		t.Fatal(err)
	}
	fac := commands.FacilitiesOf(log)
	s.Audit = audit.New(log)
	a, err := New(ctx, Deps{
		Log: log, Writer: pub, Devices: devices.New(log, fac), Facilities: fac, Audit: s.Audit,
		Anchors: s.anchors, City: "加賀市", PWA: web, Version: "test", Dev: true, Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Log, s.API, s.ts = log, a, httptest.NewServer(a)
	s.URL = s.ts.URL
	s.Proc = serverproc.Attach(strings.TrimPrefix(s.URL, "http://"), func(line string) ([]byte, error) {
		f := strings.Fields(line)
		reply, err := a.Commands().Do(f[0], f[1:])
		if err != nil {
			reply.Error = err.Error()
		}
		return json.Marshal(reply)
	})
}

// Stop ends the server and closes its store; a second Stop does nothing.
func (s *testServer) Stop(t *testing.T) {
	t.Helper()
	if s.ts == nil {
		return
	}
	s.ts.Close()
	s.API.Close()
	if err := s.Log.Close(); err != nil {
		t.Error(err)
	}
	s.ts = nil
}

// restart stops the server and starts it again on the same store.
func (s *testServer) restart(t *testing.T) {
	t.Helper()
	s.Stop(t)
	s.start(t)
}

// auditEntries checks the audit log's chain and returns its length.
func (s *testServer) auditEntries(t *testing.T) int {
	t.Helper()
	n, err := s.Audit.Verify(nil)
	if err != nil {
		t.Fatalf("audit log: %v", err)
	}
	return n
}
