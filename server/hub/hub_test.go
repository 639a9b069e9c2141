package hub_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/app/synclog"
	"smartpass.city/smartpass/server/devices"
	"smartpass.city/smartpass/server/hub"
	"smartpass.city/smartpass/server/hub/hubtest"
	"smartpass.city/smartpass/server/oplog"
	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/syncproto"
	"smartpass.city/smartpass/syncproto/wsconn"
)

type server struct {
	log  *oplog.Log
	reg  *devices.Registry
	hub  *hub.Hub
	hs   *hubtest.Server
	url  string
	keys map[string]syncproto.Signer
	seed uint64 // ops the server wrote itself (the demo facilities)
	logs *syncBuffer
}

// syncBuffer is the server's log, kept for tests that look for a line.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// The shelters the tests' devices check people in at.
const (
	daishoji  = "shelter-daishoji"
	yamashiro = "shelter-yamashiro"
)

func start(t *testing.T, opt hub.Options) *server {
	t.Helper()
	logs := &syncBuffer{}
	opt.Logger = slog.New(slog.NewTextHandler(io.MultiWriter(testWriter{t}, logs), nil))
	hs := hubtest.Start(t, opt)
	return &server{log: hs.Log, reg: hs.Devices, hub: hs.Hub, hs: hs, url: hs.URL, keys: make(map[string]syncproto.Signer), seed: hs.Log.Head(), logs: logs}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// enroll registers device id at a facility with a fresh key, as an admin
// code and the device's registration would.
func (s *server) enroll(t *testing.T, id, facilityID string, role scope.Role) syncproto.Signer {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(nil)
	return s.enrollKey(t, id, facilityID, role, priv)
}

func (s *server) enrollKey(t *testing.T, id, facilityID string, role scope.Role, priv ed25519.PrivateKey) syncproto.Signer {
	t.Helper()
	s.keys[id] = s.hs.Enroll(t, id, facilityID, role, priv)
	return s.keys[id]
}

func (s *server) dialer() synclog.Dialer { return s.hs.Dialer() }

// newEngine runs an engine for a device enrolled as a volunteer at
// shelterID.
func newEngine(t *testing.T, s *server, store synclog.Store, shelterID string) *synclog.Engine {
	t.Helper()
	key := s.enroll(t, store.DeviceID(), shelterID, scope.Shelter)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e, err := synclog.New(ctx, store, s.dialer(), synclog.Options{Signer: key, Batch: 7, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	go e.Run(ctx)
	return e
}

// checkIn is the body of the i-th test check-in at shelterID.
func checkIn(shelterID string, i int) shelter.Evacuee {
	return shelter.Evacuee{Shelter: shelterID, Kana: "テスト", BirthYear: 1930 + i%90}
}

func checkInOp(shelterID string, seq uint64) syncproto.Op {
	b, _ := json.Marshal(checkIn(shelterID, int(seq)))
	return syncproto.Op{Seq: seq, HLC: seq, Kind: shelter.OpEvacueeAdd, Body: b}
}

func waitFor(t *testing.T, what string, cond func() bool) { hubtest.WaitFor(t, what, cond) }

// Two devices at one shelter record while connected; each ends with the
// other's ops, the server holds each op once, and nothing stays pending. A
// device at another shelter sees neither.
func TestEnginesConverge(t *testing.T) {
	s := start(t, hub.Options{})
	a, b, c := synclog.NewMemStore("tab-a"), synclog.NewMemStore("tab-b"), synclog.NewMemStore("tab-c")
	ea, eb, ec := newEngine(t, s, a, daishoji), newEngine(t, s, b, daishoji), newEngine(t, s, c, yamashiro)
	ctx := context.Background()
	for i := range 30 {
		if _, err := ea.Record(ctx, shelter.OpEvacueeAdd, checkIn(daishoji, i)); err != nil {
			t.Fatal(err)
		}
		if _, err := eb.Record(ctx, shelter.OpEvacueeAdd, checkIn(daishoji, i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ec.Record(ctx, shelter.OpEvacueeAdd, checkIn(yamashiro, 0)); err != nil {
		t.Fatal(err)
	}
	facilityOps := int(s.seed)
	waitFor(t, "both devices to hold 60 acknowledged check-ins and the facilities", func() bool {
		oa, _ := a.All(ctx)
		ob, _ := b.All(ctx)
		oc, _ := c.All(ctx)
		return len(oa) == 60+facilityOps && len(ob) == 60+facilityOps && len(oc) == 1+facilityOps &&
			ea.Status().Pending == 0 && eb.Status().Pending == 0 && ec.Status().Pending == 0
	})
	if h := s.log.Head(); h != s.seed+61 {
		t.Fatalf("server head = %d, want %d", h, s.seed+61)
	}
	ops, _ := a.All(ctx)
	for _, op := range ops {
		if op.Global == 0 {
			t.Fatalf("op %s/%d never came back from the server with a global sequence", op.Device, op.Seq)
		}
		if op.Device == "tab-c" {
			t.Fatalf("a Daishoji tablet received Yamashiro's check-in %+v", op)
		}
	}
	// Give a stray delivery the chance to show, then check again.
	time.Sleep(50 * time.Millisecond)
	if oc, _ := c.All(ctx); len(oc) != 1+facilityOps {
		t.Fatalf("the Yamashiro tablet holds %d ops, want its own check-in and %d facilities", len(oc), facilityOps)
	}
}

// Ops recorded while the server is unreachable are pushed once it is back.
func TestOfflineThenReconnect(t *testing.T) {
	s := start(t, hub.Options{})
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
	key := s.enroll(t, "tab-offline", daishoji, scope.Shelter)
	e, err := synclog.New(ctx, store, dial, synclog.Options{Signer: key, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	go e.Run(ctx)
	for i := range 250 {
		if _, err := e.Record(ctx, shelter.OpEvacueeAdd, checkIn(daishoji, i)); err != nil {
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
	if h := s.log.Head(); h != s.seed+250 {
		t.Fatalf("server head = %d, want %d", h, s.seed+250)
	}
	if m, _ := s.log.Mark("tab-offline"); m != 250 {
		t.Fatalf("server mark = %d, want 250", m)
	}
}

// raw opens a bare connection and, for a device id, enrolls it at the
// Daishoji shelter (unless it is enrolled already) and opens the session.
func raw(t *testing.T, s *server, device string) *wsconn.Conn {
	t.Helper()
	c, err := wsconn.Dial(context.Background(), s.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if device != "" {
		key := s.keys[device]
		if key == nil {
			key = s.enroll(t, device, daishoji, scope.Shelter)
		}
		if _, err := syncproto.Handshake(context.Background(), c, device, "test", key); err != nil {
			t.Fatalf("handshake as %s: %v", device, err)
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
	s := start(t, hub.Options{})
	push := func(seq uint64) syncproto.Frame {
		return &syncproto.Push{Ops: []syncproto.Op{checkInOp(daishoji, seq)}}
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

	for _, feed := range []string{"roster", scope.FacilityFeed(yamashiro), scope.FeedAll} {
		t.Run("feed outside scope "+feed, func(t *testing.T) {
			c := raw(t, s, "bad-4-"+strings.NewReplacer(".", "-").Replace(feed))
			sendFrame(t, c, &syncproto.Pull{Feed: feed})
			wantError(t, c, syncproto.CodeForbidden, false)
		})
	}

	if h := s.log.Head(); h != s.seed+3 {
		t.Fatalf("server head after bad input = %d, want the 3 good ops after %d", h, s.seed)
	}
}

// TestAuthentication covers every way a session can fail to open.
func TestAuthentication(t *testing.T) {
	s := start(t, hub.Options{})
	good := s.enroll(t, "tab-good", daishoji, scope.Shelter)
	s.enroll(t, "tab-revoked", daishoji, scope.Shelter)
	if _, err := s.reg.Revoke("tab-revoked"); err != nil {
		t.Fatal(err)
	}
	_, stranger, _ := ed25519.GenerateKey(nil)

	handshake := func(device string, key syncproto.Signer) error {
		c := raw(t, s, "")
		_, err := syncproto.Handshake(context.Background(), c, device, "test", key)
		return err
	}
	tests := []struct {
		name   string
		device string
		key    syncproto.Signer
		code   string
	}{
		{"enrolled device", "tab-good", good, ""},
		{"unknown device", "tab-nobody", syncproto.KeySigner{Key: stranger}, syncproto.CodeUnknownDevice},
		{"enrolled device, wrong key", "tab-good", syncproto.KeySigner{Key: stranger}, syncproto.CodeUnknownDevice},
		{"revoked device", "tab-revoked", s.keys["tab-revoked"], syncproto.CodeRevoked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := handshake(tt.device, tt.key)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("handshake: %v", err)
				}
				return
			}
			var ef *syncproto.Error
			if !errors.As(err, &ef) || ef.Code != tt.code || !ef.Fatal || ef.Message == "" {
				t.Fatalf("handshake: err = %v, want a fatal %s refusal with a message", err, tt.code)
			}
		})
	}

	t.Run("replayed signature", func(t *testing.T) {
		// Record a good Auth on one connection, replay it on another: the
		// nonce differs, so it must fail.
		c1 := raw(t, s, "")
		sendFrame(t, c1, &syncproto.Hello{Proto: syncproto.Version, Device: "tab-good"})
		ch := recvFrame(t, c1).(*syncproto.Challenge)
		sig, _ := good.Sign(context.Background(), syncproto.AuthMessage("tab-good", ch.Nonce))
		c2 := raw(t, s, "")
		sendFrame(t, c2, &syncproto.Hello{Proto: syncproto.Version, Device: "tab-good"})
		recvFrame(t, c2)
		sendFrame(t, c2, &syncproto.Auth{Sig: sig})
		wantError(t, c2, syncproto.CodeUnknownDevice, true)
	})
	t.Run("auth before hello", func(t *testing.T) {
		c := raw(t, s, "")
		sendFrame(t, c, &syncproto.Auth{Sig: make([]byte, syncproto.SignatureSize)})
		wantError(t, c, syncproto.CodeSequence, true)
	})
	t.Run("push between challenge and auth", func(t *testing.T) {
		c := raw(t, s, "")
		sendFrame(t, c, &syncproto.Hello{Proto: syncproto.Version, Device: "tab-good"})
		recvFrame(t, c)
		sendFrame(t, c, &syncproto.Push{Ops: []syncproto.Op{checkInOp(daishoji, 1)}})
		wantError(t, c, syncproto.CodeSequence, true)
	})
	t.Run("a revoked device's live engine stops syncing", func(t *testing.T) {
		store := synclog.NewMemStore("tab-soon-revoked")
		e := newEngine(t, s, store, daishoji)
		e.Record(context.Background(), shelter.OpEvacueeAdd, checkIn(daishoji, 1))
		waitFor(t, "the first record to be acknowledged", func() bool { return e.Status().Pending == 0 })
		s.reg.Revoke("tab-soon-revoked")
		s.hub.Drop("tab-soon-revoked") // ends the session; the engine reconnects and is refused
		waitFor(t, "the engine to report the revocation", func() bool { return e.Status().Refused == syncproto.CodeRevoked })
		e.Record(context.Background(), shelter.OpEvacueeAdd, checkIn(daishoji, 2))
		if st := e.Status(); st.Online || st.Pending != 1 {
			t.Fatalf("status after revocation = %+v, want offline with the new record kept", st)
		}
	})
	if m, _ := s.log.Mark("tab-good"); m != 0 {
		t.Fatalf("a refused session stored ops up to %d", m)
	}
}

// feedOf returns the ops of device in the first 100 of feed.
func (s *server) feedOf(t *testing.T, feed, device string) []syncproto.Op {
	t.Helper()
	ops, err := s.log.Since(feed, 0, 100, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var out []syncproto.Op
	for _, op := range ops {
		if op.Device == device {
			out = append(out, op)
		}
	}
	return out
}

// TestScopeOnPush: an op a device may not record is stored as a refusal
// under its own (device, seq), so the device's queue moves on; its staff
// see it on their feed, other facilities do not.
func TestScopeOnPush(t *testing.T) {
	s := start(t, hub.Options{})
	c := raw(t, s, "tab-wrong")
	sendFrame(t, c, &syncproto.Push{Ops: []syncproto.Op{checkInOp(daishoji, 1), checkInOp(yamashiro, 2), checkInOp(daishoji, 3)}})
	f := recvFrame(t, c)
	if e, ok := f.(*syncproto.Error); !ok || e.Code != syncproto.CodeForbidden || e.Fatal || !strings.Contains(e.Message, "op 2 (shelter.evacuee.add)") {
		t.Fatalf("push with one op out of scope: got %#v, want a non-fatal forbidden error naming op 2", f)
	}
	if a, ok := recvFrame(t, c).(*syncproto.Ack); !ok || a.Acked != 3 {
		t.Fatalf("push with one op out of scope: want all 3 acknowledged")
	}
	kinds := func(feed string) []string {
		var out []string
		for _, op := range s.feedOf(t, feed, "tab-wrong") {
			out = append(out, op.Kind)
		}
		return out
	}
	want := []string{shelter.OpEvacueeAdd, scope.OpRejected, shelter.OpEvacueeAdd}
	if got := kinds(scope.FacilityFeed(daishoji)); !slices.Equal(got, want) {
		t.Fatalf("Daishoji's feed holds %v, want %v", got, want)
	}
	if got := kinds(scope.FacilityFeed(yamashiro)); len(got) != 0 {
		t.Fatalf("Yamashiro's feed got a check-in pushed by a Daishoji tablet: %v", got)
	}
	// A play park terminal records nothing of a shelter.
	s.enroll(t, "park-1", "kaga-playpark", scope.PlayPark)
	p := raw(t, s, "park-1")
	sendFrame(t, p, &syncproto.Push{Ops: []syncproto.Op{checkInOp("kaga-playpark", 1)}})
	wantError(t, p, syncproto.CodeForbidden, false)
	if a, ok := recvFrame(t, p).(*syncproto.Ack); !ok || a.Acked != 1 {
		t.Fatal("refused op not acknowledged")
	}
	all, _ := s.log.Since(scope.FeedAll, 0, 1000, 1<<20)
	if last := all[len(all)-1]; last.Device != "park-1" || last.Kind != scope.OpRejected {
		t.Fatalf("play park's check-in stored as %+v, want a refusal", last)
	}
}

// TestPreparedOpsRoutedAsStored: the hub gives the store the feeds it
// read when it checked each op, so the body is not read again; an op the
// server's Prepare changed goes where the stored body says, not where
// the checked one did.
func TestPreparedOpsRoutedAsStored(t *testing.T) {
	s := start(t, hub.Options{Prepare: func(device string, op syncproto.Op) syncproto.Op {
		if op.Seq == 2 { // completed by the server: now Yamashiro's
			op.Body, _ = json.Marshal(checkIn(yamashiro, 2))
		}
		return op
	}})
	c := raw(t, s, "tab-prep")
	sendFrame(t, c, &syncproto.Push{Ops: []syncproto.Op{checkInOp(daishoji, 1), checkInOp(daishoji, 2)}})
	if a, ok := recvFrame(t, c).(*syncproto.Ack); !ok || a.Acked != 2 {
		t.Fatal("push: want both acknowledged")
	}
	for feed, want := range map[string]string{scope.FacilityFeed(daishoji): "[1]", scope.FacilityFeed(yamashiro): "[2]", scope.FeedHQ: "[1 2]"} {
		got := []uint64{}
		for _, op := range s.feedOf(t, feed, "tab-prep") {
			got = append(got, op.Seq)
		}
		if fmt.Sprint(got) != want {
			t.Errorf("feed %s holds seqs %v of the tablet, want %s", feed, got, want)
		}
	}
}

func TestRefusesPlainWebsocketOutsideDev(t *testing.T) {
	l, err := oplog.Open(t.TempDir(), oplog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	h := hub.New(l, nil, hub.Options{})
	srv := httptest.NewServer(h)
	defer srv.Close()
	_, err = wsconn.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"))
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("plain ws without -dev: err = %v, want HTTP 403", err)
	}
}

// A late subscriber gets its feed from its cursor, then live updates.
func TestFeedCatchUpThenLive(t *testing.T) {
	s := start(t, hub.Options{})
	ctx := context.Background()
	for i := range 3 {
		if _, err := s.log.Append(ctx, "seed", []syncproto.Op{checkInOp(daishoji, uint64(i+1))}); err != nil {
			t.Fatal(err)
		}
	}
	c := raw(t, s, "reader")
	feed := scope.FacilityFeed(daishoji)
	sendFrame(t, c, &syncproto.Pull{Feed: feed, After: s.seed + 1})
	got := recvFrame(t, c).(*syncproto.Ops)
	if len(got.Ops) != 2 || got.Cursor != s.seed+3 || !got.CaughtUp {
		t.Fatalf("catch-up = %+v, want ops 2..3, caught up", got)
	}
	s.log.Append(ctx, "seed", []syncproto.Op{checkInOp(yamashiro, 4)}) // not this feed
	s.log.Append(ctx, "seed", []syncproto.Op{checkInOp(daishoji, 5)})
	for {
		live := recvFrame(t, c).(*syncproto.Ops)
		if len(live.Ops) == 0 {
			continue // the feed saw the other shelter's op and had nothing to send
		}
		if len(live.Ops) != 1 || live.Ops[0].Seq != 5 {
			t.Fatalf("live = %+v, want op 5 only", live)
		}
		break
	}
}

// A server restored from an older backup (here: a new, empty one with its
// own epoch, where the device is enrolled with the same key) gets every op
// of the device again, and the device pulls the new history from the
// start.
func TestResendToRestoredServer(t *testing.T) {
	ctx := context.Background()
	old := start(t, hub.Options{})
	store := synclog.NewMemStore("tab-r")
	key := old.enroll(t, "tab-r", daishoji, scope.Shelter)
	restored := start(t, hub.Options{})
	restored.enrollKey(t, "tab-r", daishoji, scope.Shelter, key.(syncproto.KeySigner).Key)
	var url atomic.Value
	url.Store(old.url)
	dial := func(ctx context.Context) (synclog.Conn, error) { return wsconn.Dial(ctx, url.Load().(string)) }
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	e, err := synclog.New(runCtx, store, dial, synclog.Options{Signer: key, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	go e.Run(runCtx)
	for i := range 5 {
		e.Record(ctx, shelter.OpEvacueeAdd, checkIn(daishoji, i))
	}
	waitFor(t, "the first server to hold 5", func() bool { return old.log.Head() == old.seed+5 && e.Status().Pending == 0 })

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
	waitFor(t, "the cursor to reach the restored server's head", func() bool {
		c, _ := store.Cursor(ctx, scope.FacilityFeed(daishoji))
		return c == restored.seed+5
	})
}

func TestPerDeviceLimits(t *testing.T) {
	s := start(t, hub.Options{MaxConnsPerDevice: 2, OpsPerSecond: 200, Burst: 20})

	t.Run("open connections", func(t *testing.T) {
		raw(t, s, "many")
		raw(t, s, "many")
		c := raw(t, s, "")
		_, err := syncproto.Handshake(context.Background(), c, "many", "test", s.keys["many"])
		var ef *syncproto.Error
		if !errors.As(err, &ef) || ef.Code != syncproto.CodeLimit {
			t.Fatalf("third connection: err = %v, want a limit refusal", err)
		}
		raw(t, s, "other") // another device is not affected
	})

	t.Run("ingest rate", func(t *testing.T) {
		c := raw(t, s, "fast")
		ops := make([]syncproto.Op, 30)
		for i := range ops {
			ops[i] = checkInOp(daishoji, uint64(i+1))
		}
		sendFrame(t, c, &syncproto.Push{Ops: ops})
		wantError(t, c, syncproto.CodeLimit, true)
		if m, _ := s.log.Mark("fast"); m != 0 {
			t.Fatalf("a refused push stored ops up to %d", m)
		}
	})

	t.Run("a limited device still gets everything through", func(t *testing.T) {
		e := newEngine(t, s, synclog.NewMemStore("steady"), daishoji)
		for i := range 100 {
			e.Record(context.Background(), shelter.OpEvacueeAdd, checkIn(daishoji, i))
		}
		waitFor(t, "all 100 acknowledged despite the limit", func() bool { return e.Status().Pending == 0 })
		if m, _ := s.log.Mark("steady"); m != 100 {
			t.Fatalf("mark = %d, want 100", m)
		}
	})
}

// TestIdentificationsAudited: a terminal's identifications are copied into
// the audit log once each, even when they arrive out of order and the
// terminal sends them again after a dropped link.
func TestIdentificationsAudited(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	s := start(t, hub.Options{Audit: func(actor, action, subject, detail string) {
		if action == identify.OpIdentified {
			mu.Lock()
			lines = append(lines, actor+" "+subject+" "+detail)
			mu.Unlock()
		}
	}})
	s.enroll(t, "park-1", "kaga-playpark", scope.PlayPark)
	op := func(seq uint64, outcome, resident string) syncproto.Op {
		b, _ := json.Marshal(identify.Identification{Facility: "kaga-playpark", Resident: resident, Method: "face", Outcome: outcome, Score: 0.95})
		return syncproto.Op{Seq: seq, HLC: seq, Kind: identify.OpIdentified, Body: b}
	}
	ops := []syncproto.Op{op(1, identify.Accepted, "R-1"), op(2, identify.Unknown, "")}
	// The second op first, as after a reordered link, then the first
	// alone, then both, twice.
	for i, push := range [][]syncproto.Op{ops[1:], ops[:1], ops, ops} {
		c := raw(t, s, "park-1")
		sendFrame(t, c, &syncproto.Push{Ops: push})
		want := uint64(2)
		if i == 0 {
			want = 0 // ahead of a gap
		}
		if a, ok := recvFrame(t, c).(*syncproto.Ack); !ok || a.Acked != want {
			t.Fatalf("push %d not acknowledged to %d", i, want)
		}
		c.Close()
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"park-1  kaga-playpark face unknown", "park-1 R-1 kaga-playpark face accepted"}
	if !slices.Equal(lines, want) {
		t.Fatalf("audit lines %q, want %q", lines, want)
	}
	// No device's feed carries them.
	for _, feed := range []string{scope.FacilityFeed("kaga-playpark"), scope.FeedHQ, scope.TemplateFeed("kaga-playpark")} {
		got, _ := s.log.Since(feed, 0, 100, 1<<20)
		for _, o := range got {
			if o.Kind == identify.OpIdentified {
				t.Fatalf("feed %s carries an identification", feed)
			}
		}
	}
}

// TestRecordsGoWithTheirOps: what Options.Records writes for a push is
// committed with its ops (the outbox). A resend is given to Records again
// and, keyed by the op, writes nothing twice; the records a push wrote are
// there as soon as the device is acknowledged.
func TestRecordsGoWithTheirOps(t *testing.T) {
	var calls atomic.Int32
	s := start(t, hub.Options{Records: func(device string, ops []syncproto.Op) func(store.Tx) error {
		return func(tx store.Tx) error {
			calls.Add(1)
			for _, op := range ops {
				id := fmt.Sprintf("%s/%d", device, op.Seq)
				if _, err := tx.Get("test.follow", id); err == nil {
					continue // posted by an earlier push
				} else if !errors.Is(err, store.ErrNotFound) {
					return err
				}
				n := 0
				if err := tx.Each("test.follow", func(string, []byte) error { n++; return nil }); err != nil {
					return err
				}
				if err := tx.Put("test.follow", id, []byte(strconv.Itoa(n))); err != nil {
					return err
				}
			}
			return nil
		}
	}})
	c := raw(t, s, "tab-outbox")
	push := &syncproto.Push{Ops: []syncproto.Op{checkInOp(daishoji, 1), checkInOp(daishoji, 2)}}
	for range 2 { // the second is a resend
		sendFrame(t, c, push)
		if a, ok := recvFrame(t, c).(*syncproto.Ack); !ok || a.Acked != 2 {
			t.Fatalf("push: want both acknowledged")
		}
	}
	if calls.Load() < 2 {
		t.Fatalf("Records ran %d times for two pushes, want it given the resend too", calls.Load())
	}
	var got []string
	if err := s.log.View(func(tx store.Tx) error {
		return tx.Each("test.follow", func(id string, v []byte) error { got = append(got, id+"="+string(v)); return nil })
	}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"tab-outbox/1=0", "tab-outbox/2=1"}; !slices.Equal(got, want) {
		t.Fatalf("records after a push and its resend = %v, want %v", got, want)
	}
}

// TestRevocationElsewhereEndsSessions: a device revoked in the registry
// by another server of the tenant (this hub is not told, no Drop) loses
// its open session at the next recheck; a device still enrolled keeps
// its own.
func TestRevocationElsewhereEndsSessions(t *testing.T) {
	s := start(t, hub.Options{RecheckEvery: 50 * time.Millisecond})
	revoked := newEngine(t, s, synclog.NewMemStore("tab-revoked-elsewhere"), daishoji)
	kept := newEngine(t, s, synclog.NewMemStore("tab-kept"), daishoji)
	waitFor(t, "both online", func() bool { return revoked.Status().Online && kept.Status().Online })
	if _, err := s.reg.Revoke("tab-revoked-elsewhere"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the revoked engine to be refused", func() bool { return revoked.Status().Refused == syncproto.CodeRevoked })
	if st := kept.Status(); !st.Online || st.Refused != "" {
		t.Fatalf("the enrolled device's status is %+v, want online", st)
	}
	if n := s.hub.Conns(); n != 1 {
		t.Fatalf("%d sessions open, want the enrolled device's one", n)
	}
}

// TestAllowanceSharedByReplicas: a device pushing as fast as it can,
// alternately through two servers on one store, gets one ingest
// allowance in all when the servers share it, and one per server when
// they do not (the control, which shows the bound can fail).
func TestAllowanceSharedByReplicas(t *testing.T) {
	const (
		rate, burst = 200.0, 200.0
		batch       = 10
		span        = 1500 * time.Millisecond
	)
	// Burst and refill over the span, and at most one lease (a batch and
	// a chunk of a tenth of the burst) more per server.
	bound := burst + rate*span.Seconds() + 2*(batch+burst/10)
	for _, tc := range []struct {
		shared bool
		within bool
	}{{shared: true, within: true}, {shared: false, within: false}} {
		t.Run(fmt.Sprintf("shared=%v", tc.shared), func(t *testing.T) {
			opt := hub.Options{OpsPerSecond: rate, Burst: burst, SharedAllowance: tc.shared}
			a := start(t, opt)
			b := *a
			b.url = a.hs.Replica(t, opt).URL
			a.enroll(t, "roamer", daishoji, scope.Shelter)
			replicas := []*server{a, &b}
			conns := make([]*wsconn.Conn, 2)
			next := uint64(1)
			for i, end := 0, time.Now().Add(span); time.Now().Before(end); i++ {
				r := i % 2
				if conns[r] == nil {
					conns[r] = raw(t, replicas[r], "roamer")
				}
				ops := make([]syncproto.Op, batch)
				for j := range ops {
					ops[j] = checkInOp(daishoji, next+uint64(j))
				}
				sendFrame(t, conns[r], &syncproto.Push{Ops: ops})
				switch f := recvFrame(t, conns[r]).(type) {
				case *syncproto.Ack:
					next = f.Acked + 1
				case *syncproto.Error:
					if f.Code != syncproto.CodeLimit {
						t.Fatalf("push refused with %s: %s", f.Code, f.Message)
					}
					conns[r].Close() // a limit ends the session: the device dials again
					conns[r] = nil
				}
			}
			got, _ := a.log.Mark("roamer")
			t.Logf("%d ops acknowledged in %s through two servers (bound for one allowance %.0f)", got, span, bound)
			if within := float64(got) <= bound; within != tc.within {
				t.Fatalf("%d ops acknowledged, bound %.0f: within = %v, want %v", got, bound, within, tc.within)
			}
		})
	}
}
