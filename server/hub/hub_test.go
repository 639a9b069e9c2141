package hub_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"smartpass.city/smartpass/app/synclog"
	"smartpass.city/smartpass/server/hub"
	"smartpass.city/smartpass/server/oplog"
	"smartpass.city/smartpass/syncproto"
	"smartpass.city/smartpass/syncproto/wsconn"
)

type server struct {
	log *oplog.Log
	hub *hub.Hub
	srv *httptest.Server
	url string
}

func start(t *testing.T) *server {
	t.Helper()
	l, err := oplog.Open(t.TempDir(), oplog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(testWriter{t}, nil))
	h := hub.New(l, hub.Options{Dev: true, Logger: logger, HelloTimeout: 2 * time.Second})
	srv := httptest.NewServer(h)
	s := &server{log: l, hub: h, srv: srv, url: "ws" + strings.TrimPrefix(srv.URL, "http")}
	t.Cleanup(func() {
		srv.Close()
		h.Close()
		l.Close()
	})
	return s
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (s *server) dialer() synclog.Dialer {
	return func(ctx context.Context) (synclog.Conn, error) { return wsconn.Dial(ctx, s.url) }
}

func newEngine(t *testing.T, s *server, store synclog.Store) *synclog.Engine {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e, err := synclog.New(ctx, store, s.dialer(), synclog.Options{Batch: 7, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	go e.Run(ctx)
	return e
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Two devices record while connected; each ends with the other's ops, the
// server holds each op once, and nothing stays pending.
func TestEnginesConverge(t *testing.T) {
	s := start(t)
	a, b := synclog.NewMemStore("tab-a"), synclog.NewMemStore("tab-b")
	ea, eb := newEngine(t, s, a), newEngine(t, s, b)
	ctx := context.Background()
	for i := range 30 {
		if _, err := ea.Record(ctx, "test.note", map[string]int{"i": i}); err != nil {
			t.Fatal(err)
		}
		if _, err := eb.Record(ctx, "test.note", map[string]int{"i": i}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "both devices to hold 60 acknowledged ops", func() bool {
		oa, _ := a.All(ctx)
		ob, _ := b.All(ctx)
		return len(oa) == 60 && len(ob) == 60 && ea.Status().Pending == 0 && eb.Status().Pending == 0
	})
	if h := s.log.Head(); h != 60 {
		t.Fatalf("server head = %d, want 60", h)
	}
	ops, _ := a.All(ctx)
	for _, op := range ops {
		if op.Global == 0 {
			t.Fatalf("op %s/%d never came back from the server with a global sequence", op.Device, op.Seq)
		}
	}
}

// Ops recorded while the server is unreachable are pushed once it is back.
func TestOfflineThenReconnect(t *testing.T) {
	s := start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var down atomic.Bool
	down.Store(true)
	dial := func(ctx context.Context) (synclog.Conn, error) {
		if down.Load() {
			return nil, errors.New("network down")
		}
		return wsconn.Dial(ctx, s.url)
	}
	store := synclog.NewMemStore("tab-offline")
	e, err := synclog.New(ctx, store, dial, synclog.Options{MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	go e.Run(ctx)
	for i := range 250 {
		if _, err := e.Record(ctx, "test.note", i); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the status to give the reason", func() bool { return strings.Contains(e.Status().Err, "network down") })
	if st := e.Status(); st.Online || st.Pending != 250 {
		t.Fatalf("status while offline = %+v, want offline with 250 pending", st)
	}
	down.Store(false)
	e.Kick()
	waitFor(t, "the outbox to drain", func() bool { return e.Status().Pending == 0 })
	if h := s.log.Head(); h != 250 {
		t.Fatalf("server head = %d, want 250", h)
	}
	if m, _ := s.log.Mark("tab-offline"); m != 250 {
		t.Fatalf("server mark = %d, want 250", m)
	}
}

// raw opens a bare connection and says hello.
func raw(t *testing.T, s *server, device string) *wsconn.Conn {
	t.Helper()
	c, err := wsconn.Dial(context.Background(), s.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if device != "" {
		sendFrame(t, c, &syncproto.Hello{Proto: syncproto.Version, Device: device})
		if _, ok := recvFrame(t, c).(*syncproto.Welcome); !ok {
			t.Fatal("no welcome")
		}
	}
	return c
}

func sendFrame(t *testing.T, c *wsconn.Conn, f syncproto.Frame) {
	t.Helper()
	b, err := syncproto.Encode(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Send(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

func recvFrame(t *testing.T, c *wsconn.Conn) syncproto.Frame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := c.Recv(ctx)
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	f, err := syncproto.Decode(b)
	if err != nil {
		t.Fatalf("decode server frame: %v", err)
	}
	return f
}

func wantError(t *testing.T, c *wsconn.Conn, code string, fatal bool) {
	t.Helper()
	f := recvFrame(t, c)
	e, ok := f.(*syncproto.Error)
	if !ok || e.Code != code || e.Fatal != fatal || e.Message == "" {
		t.Fatalf("got %#v, want error frame %s (fatal %v) with a message", f, code, fatal)
	}
}

func TestBadInput(t *testing.T) {
	s := start(t)
	push := func(seq uint64) syncproto.Frame {
		return &syncproto.Push{Ops: []syncproto.Op{{Seq: seq, HLC: 1, Kind: "test.note", Body: []byte("1")}}}
	}

	t.Run("malformed frames keep the session", func(t *testing.T) {
		c := raw(t, s, "bad-1")
		sendFrame(t, c, push(1))
		if a, ok := recvFrame(t, c).(*syncproto.Ack); !ok || a.Acked != 1 {
			t.Fatal("first push not acknowledged")
		}
		for _, tc := range []struct {
			p    []byte
			code string
		}{
			{[]byte{syncproto.Version, byte(syncproto.TypePush), '{'}, syncproto.CodeMalformed},
			{[]byte{syncproto.Version, 99}, syncproto.CodeUnknownType},
			{[]byte{syncproto.Version, byte(syncproto.TypePush), '{', '"', 'o', 'p', 's', '"', ':', '[', '{', '}', ']', '}'}, syncproto.CodeInvalid},
		} {
			c.Send(context.Background(), tc.p)
			wantError(t, c, tc.code, false)
		}
		c.SendText("hello?")
		wantError(t, c, syncproto.CodeMalformed, false)
		sendFrame(t, c, &syncproto.Ack{Acked: 5})
		wantError(t, c, syncproto.CodeSequence, false)
		// The session still works, and the first push is still there.
		sendFrame(t, c, push(2))
		if a, ok := recvFrame(t, c).(*syncproto.Ack); !ok || a.Acked != 2 {
			t.Fatal("push after bad frames not acknowledged")
		}
	})

	t.Run("oversized frame ends only that session", func(t *testing.T) {
		c := raw(t, s, "bad-2")
		big := append([]byte{syncproto.Version, byte(syncproto.TypePush)}, bytes.Repeat([]byte("x"), syncproto.MaxFrameSize)...)
		c.Send(context.Background(), big)
		wantError(t, c, syncproto.CodeTooLarge, true)
		// Another device is served as before.
		c2 := raw(t, s, "bad-3")
		sendFrame(t, c2, push(1))
		if _, ok := recvFrame(t, c2).(*syncproto.Ack); !ok {
			t.Fatal("server stopped serving after an oversized frame")
		}
	})

	t.Run("first frame must be hello", func(t *testing.T) {
		c := raw(t, s, "")
		sendFrame(t, c, push(1))
		wantError(t, c, syncproto.CodeSequence, true)
	})

	t.Run("other protocol version", func(t *testing.T) {
		c := raw(t, s, "")
		c.Send(context.Background(), []byte{syncproto.Version + 1, byte(syncproto.TypeHello), '{', '}'})
		wantError(t, c, syncproto.CodeVersion, true)
	})

	t.Run("unknown feed", func(t *testing.T) {
		c := raw(t, s, "bad-4")
		sendFrame(t, c, &syncproto.Pull{Feed: "roster", After: 0})
		wantError(t, c, syncproto.CodeInvalid, false)
	})

	if h := s.log.Head(); h != 3 {
		t.Fatalf("server head after bad input = %d, want the 3 good ops", h)
	}
}

func TestRefusesPlainWebsocketOutsideDev(t *testing.T) {
	l, err := oplog.Open(t.TempDir(), oplog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	h := hub.New(l, hub.Options{})
	srv := httptest.NewServer(h)
	defer srv.Close()
	_, err = wsconn.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"))
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("plain ws without -dev: err = %v, want HTTP 403", err)
	}
}

// A late subscriber gets the log from its cursor, then live updates.
func TestFeedCatchUpThenLive(t *testing.T) {
	s := start(t)
	ctx := context.Background()
	for i := range 3 {
		if _, err := s.log.Append(ctx, "seed", []syncproto.Op{{Seq: uint64(i + 1), HLC: 1, Kind: "test.note"}}); err != nil {
			t.Fatal(err)
		}
	}
	c := raw(t, s, "reader")
	sendFrame(t, c, &syncproto.Pull{Feed: synclog.FeedAll, After: 1})
	got := recvFrame(t, c).(*syncproto.Ops)
	if len(got.Ops) != 2 || got.Cursor != 3 || !got.CaughtUp {
		t.Fatalf("catch-up = %+v, want ops 2..3, caught up", got)
	}
	s.log.Append(ctx, "seed", []syncproto.Op{{Seq: 4, HLC: 1, Kind: "test.note"}})
	live := recvFrame(t, c).(*syncproto.Ops)
	if len(live.Ops) != 1 || live.Ops[0].Global != 4 {
		t.Fatalf("live = %+v, want op 4", live)
	}
}

// A server restored from an older backup (here: a new, empty one with its
// own epoch) gets every op of the device again, and the device pulls the
// new history from the start.
func TestResendToRestoredServer(t *testing.T) {
	ctx := context.Background()
	old := start(t)
	store := synclog.NewMemStore("tab-r")
	var url atomic.Value
	url.Store(old.url)
	dial := func(ctx context.Context) (synclog.Conn, error) { return wsconn.Dial(ctx, url.Load().(string)) }
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	e, err := synclog.New(runCtx, store, dial, synclog.Options{MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	go e.Run(runCtx)
	for i := range 5 {
		e.Record(ctx, "test.note", i)
	}
	waitFor(t, "the first server to hold 5", func() bool { return old.log.Head() == 5 && e.Status().Pending == 0 })

	restored := start(t)
	url.Store(restored.url)
	old.hub.Close() // ends the session; the device redials, now to the restored server
	waitFor(t, "the restored server to get all 5 again", func() bool {
		m, _ := restored.log.Mark("tab-r")
		return m == 5 && e.Status().Pending == 0
	})
	epoch, _ := store.Epoch(ctx)
	if epoch != restored.log.Epoch() {
		t.Fatalf("device epoch %s, want the restored server's %s", epoch, restored.log.Epoch())
	}
	if c, _ := store.Cursor(ctx, synclog.FeedAll); c != 5 {
		t.Fatalf("cursor on the restored server = %d, want 5", c)
	}
}

func TestPerDeviceLimits(t *testing.T) {
	l, err := oplog.Open(t.TempDir(), oplog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := hub.New(l, hub.Options{Dev: true, MaxConnsPerDevice: 2, OpsPerSecond: 200, Burst: 20})
	srv := httptest.NewServer(h)
	s := &server{log: l, hub: h, srv: srv, url: "ws" + strings.TrimPrefix(srv.URL, "http")}
	t.Cleanup(func() { srv.Close(); h.Close(); l.Close() })

	t.Run("open connections", func(t *testing.T) {
		raw(t, s, "many")
		raw(t, s, "many")
		c := raw(t, s, "")
		sendFrame(t, c, &syncproto.Hello{Proto: syncproto.Version, Device: "many"})
		wantError(t, c, syncproto.CodeLimit, true)
		raw(t, s, "other") // another device is not affected
	})

	t.Run("ingest rate", func(t *testing.T) {
		c := raw(t, s, "fast")
		ops := make([]syncproto.Op, 30)
		for i := range ops {
			ops[i] = syncproto.Op{Seq: uint64(i + 1), HLC: 1, Kind: "test.note"}
		}
		sendFrame(t, c, &syncproto.Push{Ops: ops})
		wantError(t, c, syncproto.CodeLimit, true)
		if m, _ := l.Mark("fast"); m != 0 {
			t.Fatalf("a refused push stored ops up to %d", m)
		}
	})

	t.Run("a limited device still gets everything through", func(t *testing.T) {
		e := newEngine(t, s, synclog.NewMemStore("steady"))
		for i := range 100 {
			e.Record(context.Background(), "test.note", i)
		}
		waitFor(t, "all 100 acknowledged despite the limit", func() bool { return e.Status().Pending == 0 })
		if m, _ := l.Mark("steady"); m != 100 {
			t.Fatalf("mark = %d, want 100", m)
		}
	})
}
