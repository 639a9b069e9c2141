// Package hub is the server end of sync: it accepts device websockets,
// ingests pushed ops into the log, acknowledges them once durable, and
// streams the log back to every device from its cursor, live after
// catch-up.
//
// Every session is authenticated before anything else: Hello names the
// device, the hub answers with a fresh nonce, and the device's signature of
// it (with the key it registered) opens the session. The device's
// facility and role then decide every push and pull: an op the device may
// not record is stored as a rejection (so its queue moves on and staff see
// it), and a feed outside its scope is refused.
//
// A bad frame is answered with an Error frame that names the reason and the
// session goes on; only a frame that breaks the session itself (over the
// size limit, a protocol version not spoken here) ends it. Nothing already
// acknowledged depends on the session, so ending one loses nothing.
package hub

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/server/devices"
	"smartpass.city/smartpass/server/httpguard"
	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/syncproto"
)

// Log is the durable op log the hub serves: the part of store.Log it
// uses (oplog.Log on Badger).
type Log interface {
	AppendRouted(ctx context.Context, device string, ops []syncproto.Op, feeds [][]string, records func(store.Tx) error) (mark uint64, stored []syncproto.Op, err error)
	Mark(device string) (uint64, error)
	Since(feed string, after uint64, limit, maxBytes int) ([]syncproto.Op, error)
	Head() uint64
	Changed(feed string) <-chan struct{}
	Epoch() string
}

// Devices knows the enrolled devices (devices.Registry). Lookup fails
// with devices.ErrUnknown or devices.ErrRevoked.
type Devices interface {
	Lookup(id string) (ed25519.PublicKey, scope.Device, error)
}

// Options configure a Hub.
type Options struct {
	// Dev allows plain (unencrypted) websockets from loopback addresses.
	// Without it, only TLS connections are accepted.
	Dev    bool
	Server string // version string sent in Welcome
	Logger *slog.Logger
	// HelloTimeout bounds the time from connect to authenticated: hello,
	// challenge and signature all within it, whatever else the peer sends
	// (pongs included), so an unauthenticated socket cannot stay open.
	HelloTimeout time.Duration
	// MaxPreAuth bounds the sessions open but not yet authenticated
	// (default 512): beyond it a connect is answered 503 before the
	// upgrade, so sockets nobody signs for cannot exhaust the server.
	MaxPreAuth int
	// MaxConnsPerDevice bounds one device's open sessions (default 4): a
	// tablet reconnecting in a loop must not exhaust the server.
	MaxConnsPerDevice int
	// OpsPerSecond and Burst bound one device's ingest (defaults 2,000
	// and 10,000 ops): far above a busy shelter, far below what would
	// starve the other devices of the group commit.
	OpsPerSecond float64
	Burst        float64
	// SharedAllowance keeps each device's ingest allowance in the store
	// as well (see allowance.go), for servers that share one store: a
	// device spreading its sessions over the replicas then gets one
	// allowance in all, not one per replica.
	SharedAllowance bool
	// RecheckEvery is how often every device with an open session is
	// looked up again (default 5 s), so a revocation made through
	// another server of the same tenant (or the store) also ends the
	// sessions open here; the server the admin used ends its own at once
	// (Drop).
	RecheckEvery time.Duration
	// Audit, when set, records every session opened and every device
	// refused (the audit log).
	Audit func(actor, action, subject, detail string)
	// Refused, when set, takes the sessions refused before their device
	// proved its key (a revoked device, a bad signature): anyone can
	// cause those, so the caller counts them (audit.Log.Refused) rather
	// than appending each. from is the client's host, reason a word.
	Refused func(action, from, reason string)
	// Verify, when set, checks each op a device pushes that its scope
	// allows, for what only the server can judge (a card's proof,
	// checked again). An op it refuses is stored as refused, with the
	// reason, like an op outside the device's scope.
	Verify func(device string, op syncproto.Op) error
	// Prepare, when set, completes each op a device pushes that passed
	// its checks before the log stores it, with what only the server
	// knows (package faces: a desk's face template gets its expiry). A
	// changed body must be a new slice, never op.Body written in place:
	// the hub compares the two to know whether the feeds it read when it
	// checked the op still hold.
	Prepare func(device string, op syncproto.Op) syncproto.Op
	// Stored, when set, is told of the ops of a push the log stored (not
	// a resend's), after they are stored: the server's own follow-ups,
	// such as the profiles that go with a template a city desk recorded.
	Stored func(device string, ops []syncproto.Op)
	// Records, when set, returns the private records that go with a
	// push, written in the same transaction as its ops (the outbox: a
	// crash between the ops and what follows from them loses nothing).
	// It is given every op of the push, resends included, so it must
	// key what it writes by the op (a ledger posts each op once); nil
	// writes nothing.
	Records func(device string, ops []syncproto.Op) func(store.Tx) error
}

// JoinRecords makes one Options.Records of several: each writes its
// records of a push in the push's transaction, in the order given.
func JoinRecords(fs ...func(device string, ops []syncproto.Op) func(store.Tx) error) func(device string, ops []syncproto.Op) func(store.Tx) error {
	return func(device string, ops []syncproto.Op) func(store.Tx) error {
		writes := make([]func(store.Tx) error, len(fs))
		for i, f := range fs {
			writes[i] = f(device, ops)
		}
		return joinTx(writes...)
	}
}

// Hub serves the /sync websocket endpoint.
type Hub struct {
	log      Log
	devices  Devices
	opt      Options
	upgrader websocket.Upgrader

	mu     sync.Mutex
	conns  map[*websocket.Conn]string // open connections -> device, once authenticated
	limits map[string]*deviceLimits
	// preAuth counts the sessions not yet authenticated (MaxPreAuth).
	preAuth int
	closed  bool
	wg      sync.WaitGroup
	// stop ends the recheck loop (Close).
	stop chan struct{}
}

// deviceLimits is the per-device state behind the limits, shared by the
// device's sessions.
type deviceLimits struct {
	sessions int
	tokens   float64
	last     time.Time
	// lease is what this server holds of the device's shared allowance
	// and blockedUntil when the shared bucket next has room
	// (SharedAllowance).
	lease        float64
	blockedUntil time.Time
}

// New returns a hub over log that admits the devices enrolled in devs.
func New(log Log, devs Devices, opt Options) *Hub {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.HelloTimeout <= 0 {
		opt.HelloTimeout = 15 * time.Second
	}
	if opt.MaxConnsPerDevice <= 0 {
		opt.MaxConnsPerDevice = 4
	}
	if opt.MaxPreAuth <= 0 {
		opt.MaxPreAuth = 512
	}
	if opt.OpsPerSecond <= 0 {
		opt.OpsPerSecond = 2000
	}
	if opt.Burst <= 0 {
		opt.Burst = 10000
	}
	if opt.RecheckEvery <= 0 {
		opt.RecheckEvery = 5 * time.Second
	}
	h := &Hub{
		log:     log,
		devices: devs,
		opt:     opt,
		conns:   make(map[*websocket.Conn]string),
		limits:  make(map[string]*deviceLimits),
		upgrader: websocket.Upgrader{
			ReadBufferSize:  16 << 10,
			WriteBufferSize: 16 << 10,
			// The default CheckOrigin accepts only the server's own origin:
			// the PWA it serves.
		},
	}
	h.stop = make(chan struct{})
	h.wg.Add(1)
	go h.rechecking()
	return h
}

// rechecking looks up every connected device each RecheckEvery until
// Close.
func (h *Hub) rechecking() {
	defer h.wg.Done()
	t := time.NewTicker(h.opt.RecheckEvery)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
			h.recheck()
		}
	}
}

// recheck ends the sessions of every connected device the registry says
// is revoked. Any other failed lookup (the store unreachable for a
// moment) ends nothing: the device was admitted, and the next recheck
// decides.
func (h *Hub) recheck() {
	h.mu.Lock()
	connected := make(map[string]bool, len(h.conns))
	for _, d := range h.conns {
		connected[d] = true
	}
	h.mu.Unlock()
	for d := range connected {
		if _, _, err := h.devices.Lookup(d); errors.Is(err, devices.ErrRevoked) {
			h.opt.Logger.Info("sync: ending the sessions of a revoked device", "device", d, "why", err)
			h.Drop(d)
		}
	}
}

const (
	writeTimeout = 10 * time.Second
	pongTimeout  = 60 * time.Second
	pingEvery    = 25 * time.Second
	sendQueue    = 32
)

// ServeHTTP upgrades a request to a sync session.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.TLS == nil && !(h.opt.Dev && httpguard.ClientOf(r).Loopback) {
		h.opt.Logger.Warn("sync: refused plain websocket", "remote", r.RemoteAddr)
		http.Error(w, "sync needs a TLS connection (wss://); plain ws is allowed only on loopback in -dev mode", http.StatusForbidden)
		return
	}
	if !h.enterPreAuth() {
		h.opt.Logger.Warn("sync: refused, too many unauthenticated sessions", "remote", r.RemoteAddr, "limit", h.opt.MaxPreAuth)
		w.Header().Set("Retry-After", "10")
		http.Error(w, "サーバーが混み合っています。しばらくしてから自動でつなぎ直します。 / The server is busy connecting other devices; this device will retry shortly.", http.StatusServiceUnavailable)
		return
	}
	s := &session{hub: h, remote: r.RemoteAddr, client: httpguard.ClientOf(r), out: make(chan []byte, sendQueue), preAuth: true}
	defer s.authenticated() // a session that ends before signing in
	ws, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		h.opt.Logger.Warn("sync: upgrade failed", "remote", r.RemoteAddr, "err", err)
		return // the upgrader has written the HTTP error
	}
	if !h.track(ws) {
		ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"), time.Now().Add(time.Second))
		ws.Close()
		return
	}
	defer h.untrack(ws)
	s.ws = ws
	s.run()
}

// enterPreAuth counts a new session as unauthenticated, refusing one
// over MaxPreAuth.
func (h *Hub) enterPreAuth() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.preAuth >= h.opt.MaxPreAuth {
		return false
	}
	h.preAuth++
	return true
}

func (h *Hub) track(ws *websocket.Conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.conns[ws] = ""
	h.wg.Add(1)
	return true
}

func (h *Hub) untrack(ws *websocket.Conn) {
	h.mu.Lock()
	delete(h.conns, ws)
	h.mu.Unlock()
	h.wg.Done()
}

// Close ends every session and waits for their handlers, so the log can be
// closed safely afterwards. New connections are refused.
func (h *Hub) Close() {
	h.mu.Lock()
	if !h.closed {
		close(h.stop)
	}
	h.closed = true
	for ws := range h.conns {
		ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"), time.Now().Add(time.Second))
		ws.Close()
	}
	h.mu.Unlock()
	h.wg.Wait()
}

// Drop ends every open session of device, as when an admin revokes it:
// its next connect is checked again.
func (h *Hub) Drop(device string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ws, d := range h.conns {
		if d == device {
			ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "device access changed"), time.Now().Add(time.Second))
			ws.Close()
		}
	}
}

// join counts a session of device on ws, refusing one over the limit.
func (h *Hub) join(ws *websocket.Conn, device string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.limits[device]
	if d == nil {
		d = &deviceLimits{tokens: h.opt.Burst, last: time.Now()}
		h.limits[device] = d
	}
	if d.sessions >= h.opt.MaxConnsPerDevice {
		return false
	}
	d.sessions++
	h.conns[ws] = device
	return true
}

func (h *Hub) leave(device string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if d := h.limits[device]; d != nil {
		d.sessions--
		now := time.Now()
		if d.sessions == 0 && d.refill(h.opt, now) >= h.opt.Burst && !now.Before(d.blockedUntil) {
			// A full bucket and no debt: nothing to remember (a lease
			// held is dropped, which only ever limits the device more).
			delete(h.limits, device)
		}
	}
}

// refill adds the allowance earned since the last call, up to the burst,
// and returns the tokens now held.
func (d *deviceLimits) refill(opt Options, now time.Time) float64 {
	d.tokens = min(opt.Burst, d.tokens+now.Sub(d.last).Seconds()*opt.OpsPerSecond)
	d.last = now
	return d.tokens
}

// take spends n ops of device's ingest allowance (a token bucket), and
// reports whether there were enough. With a shared allowance it spends
// them from this server's lease, or returns the lease to take in the
// push's transaction when the lease is short.
func (h *Hub) take(device string, n int) (*lease, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.limits[device]
	now := time.Now()
	if d.refill(h.opt, now) < float64(n) {
		return nil, false
	}
	var l *lease
	if h.opt.SharedAllowance {
		var ok bool
		if l, ok = d.fromLease(h.opt, device, n, now); !ok {
			return nil, false
		}
	}
	d.tokens -= float64(n)
	return l, true
}

// Conns returns the number of open sessions.
func (h *Hub) Conns() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// session is one device connection. Only the writer goroutine writes to ws.
type session struct {
	hub    *Hub
	ws     *websocket.Conn
	remote string
	// client is who the caller counts as (httpguard.Resolve): the
	// refusals of a session not yet authenticated name it.
	client httpguard.Client
	out    chan []byte
	// preAuth is true until the session is authenticated or ends: it
	// holds one of the hub's MaxPreAuth places.
	preAuth bool

	// claimed is the device id Hello named and nonce the challenge sent
	// for it; device is set only once the signature verified.
	claimed string
	nonce   []byte
	device  string
	scope   scope.Device
	feeds   map[string]bool // feeds open on this connection
	// readers counts the goroutines serving feeds; run waits for them,
	// so none still reads the log when Hub.Close returns and the server
	// closes the log (Badger panics on a read after Close).
	readers sync.WaitGroup
}

// authenticated gives back the session's unauthenticated place, once.
func (s *session) authenticated() {
	if !s.preAuth {
		return
	}
	s.preAuth = false
	s.hub.mu.Lock()
	s.hub.preAuth--
	s.hub.mu.Unlock()
}

func (s *session) logger() *slog.Logger {
	return s.hub.opt.Logger.With("remote", s.remote, "device", s.claimed)
}

func (s *session) run() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		s.writer(ctx)
	}()
	err := s.read(ctx)
	if s.device != "" {
		s.hub.leave(s.device)
	}
	if err != nil && !isClosed(err) {
		s.logger().Warn("sync: session ended", "err", err)
	}
	cancel()
	s.readers.Wait()
	<-writerDone
	s.ws.Close()
}

// writer is the only goroutine that writes frames; it also pings so dead
// links are noticed.
func (s *session) writer(ctx context.Context) {
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	for {
		select {
		case b := <-s.out:
			s.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
			if err := s.ws.WriteMessage(websocket.BinaryMessage, b); err != nil {
				s.ws.Close() // unblocks the reader
				return
			}
		case <-ping.C:
			if err := s.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeTimeout)); err != nil {
				s.ws.Close()
				return
			}
		case <-ctx.Done():
			// Flush what is queued (an error frame explaining why we
			// close), then say goodbye.
			for {
				select {
				case b := <-s.out:
					s.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
					s.ws.WriteMessage(websocket.BinaryMessage, b)
				default:
					s.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
					return
				}
			}
		}
	}
}

// send queues a frame for the writer, waiting while the queue is full.
func (s *session) send(ctx context.Context, f syncproto.Frame) error {
	b, err := syncproto.Encode(f)
	if err != nil {
		return fmt.Errorf("sync: encode %s: %w", f.Type(), err)
	}
	select {
	case s.out <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// refuse sends an Error frame. A fatal one ends the session.
func (s *session) refuse(ctx context.Context, code, msg string, fatal bool) error {
	msg = syncproto.Clip(msg)
	s.logger().Warn("sync: refused frame", "code", code, "msg", msg, "fatal", fatal)
	err := s.send(ctx, &syncproto.Error{Code: code, Message: msg, Fatal: fatal})
	if fatal {
		return fmt.Errorf("sync: %s: %s", code, msg)
	}
	return err
}

func (s *session) read(ctx context.Context) error {
	// Frames over the limit are cut off by readFrame, which can still tell
	// the device why. The websocket's own limit is only a backstop for
	// absurd sizes: it closes with 1009 before we could answer.
	s.ws.SetReadLimit(4 * syncproto.MaxFrameSize)
	// The hello deadline is absolute: nothing but authenticating moves
	// it, so a peer that only answers pings (or sends pongs of its own)
	// is cut off at HelloTimeout. The handler runs on this goroutine,
	// inside NextReader, so it reads s.device safely.
	s.ws.SetReadDeadline(time.Now().Add(s.hub.opt.HelloTimeout))
	s.ws.SetPongHandler(func(string) error {
		if s.device == "" {
			return nil
		}
		return s.ws.SetReadDeadline(time.Now().Add(pongTimeout))
	})
	for {
		mt, p, err := s.readFrame()
		if errors.Is(err, syncproto.ErrTooLarge) {
			return s.refuse(ctx, syncproto.CodeTooLarge, err.Error(), true)
		}
		if err != nil {
			return err
		}
		if s.device != "" {
			s.ws.SetReadDeadline(time.Now().Add(pongTimeout))
		}
		if mt != websocket.BinaryMessage {
			if err := s.refuse(ctx, syncproto.CodeMalformed, "frames must be binary messages", false); err != nil {
				return err
			}
			continue
		}
		f, err := syncproto.Decode(p)
		if err != nil {
			code := syncproto.CodeOf(err)
			if err := s.refuse(ctx, code, err.Error(), code == syncproto.CodeVersion); err != nil {
				return err
			}
			continue
		}
		if err := s.handle(ctx, f); err != nil {
			return err
		}
	}
}

// readFrame reads one message, keeping at most MaxFrameSize bytes of it.
func (s *session) readFrame() (int, []byte, error) {
	mt, r, err := s.ws.NextReader()
	if err != nil {
		return 0, nil, err
	}
	p, err := io.ReadAll(io.LimitReader(r, syncproto.MaxFrameSize+1))
	if err != nil {
		return 0, nil, err
	}
	if len(p) > syncproto.MaxFrameSize {
		return 0, nil, fmt.Errorf("%w: a frame over %d bytes", syncproto.ErrTooLarge, syncproto.MaxFrameSize)
	}
	return mt, p, nil
}

func (s *session) handle(ctx context.Context, f syncproto.Frame) error {
	if s.device == "" {
		switch f := f.(type) {
		case *syncproto.Hello:
			if s.nonce == nil {
				return s.hello(ctx, f)
			}
		case *syncproto.Auth:
			if s.nonce != nil {
				return s.auth(ctx, f)
			}
		}
		return s.refuse(ctx, syncproto.CodeSequence, "a session starts with hello, then the signed challenge", true)
	}
	switch f := f.(type) {
	case *syncproto.Push:
		lease, ok := s.hub.take(s.device, len(f.Ops))
		if !ok {
			// Fatal, so the device reconnects after its backoff and sends
			// again from the server's mark: nothing is lost.
			return s.refuse(ctx, syncproto.CodeLimit, "this device is sending faster than the server accepts; it will send again shortly", true)
		}
		ops := f.Ops
		// Each op's feeds, read as it is checked: the store need not
		// read its body again. A refused op's verdict is routed by the
		// store.
		feeds := make([][]string, len(ops))
		var refused []string
		limit := hlc.Limit(time.Now())
		for i, op := range ops {
			var err error
			feeds[i], err = s.scope.Route(op)
			if err == nil && op.HLC > limit {
				// Stored, it would win over every correction made until
				// its time came.
				err = fmt.Errorf("%w: %w: its clock is more than %s ahead of the server's", scope.ErrForbidden, scope.ErrInvalid, hlc.MaxSkew)
			}
			if err == nil && s.hub.opt.Verify != nil {
				err = s.hub.opt.Verify(s.device, op)
			}
			if err != nil {
				// Stored as a verdict, not dropped: the device's queue moves
				// on, and its staff see what was refused and why. The
				// verdict's clock is held to the server's limit too.
				op.Device, op.HLC = s.device, min(op.HLC, limit)
				ops[i], feeds[i] = s.scope.Reject(op, err), nil
				refused = append(refused, fmt.Sprintf("op %d (%s): %v", op.Seq, op.Kind, err))
			} else if s.hub.opt.Prepare != nil {
				ops[i] = s.hub.opt.Prepare(s.device, op)
				if ops[i].Kind != op.Kind || !bytes.Equal(ops[i].Body, op.Body) {
					feeds[i] = nil // completed: the store routes what it stores
				}
			}
		}
		var records func(store.Tx) error
		if s.hub.opt.Records != nil {
			records = s.hub.opt.Records(s.device, ops)
		}
		if lease != nil {
			records = joinTx(lease.take, records)
		}
		mark, stored, err := s.hub.log.AppendRouted(ctx, s.device, ops, feeds, records)
		if err != nil {
			s.logger().Error("sync: append failed", "err", err)
			return s.refuse(ctx, syncproto.CodeInternal, "the server could not store the records; they stay on the device and will be sent again", true)
		}
		if lease != nil {
			s.hub.leased(s.device, lease)
		}
		s.auditOps(stored)
		if s.hub.opt.Stored != nil && len(stored) > 0 {
			s.hub.opt.Stored(s.claimed, stored)
		}
		if len(refused) > 0 {
			msg := fmt.Sprintf("%d records are outside this device's scope or break their kind's rules, and were kept as refused: %s", len(refused), strings.Join(refused, "; "))
			if err := s.refuse(ctx, syncproto.CodeForbidden, msg, false); err != nil {
				return err
			}
		}
		return s.send(ctx, &syncproto.Ack{Acked: mark})
	case *syncproto.Pull:
		if !s.scope.MayPull(f.Feed) {
			return s.refuse(ctx, syncproto.CodeForbidden, fmt.Sprintf("feed %q is outside this device's scope (%s at %s)", f.Feed, s.scope.Role, s.scope.Facility.ID), false)
		}
		if s.feeds[f.Feed] {
			return s.refuse(ctx, syncproto.CodeSequence, fmt.Sprintf("feed %q already open on this connection", f.Feed), false)
		}
		if f.Snapshot {
			switch {
			case !scope.IsSnapshot(f.Feed):
				return s.refuse(ctx, syncproto.CodeInvalid, fmt.Sprintf("feed %q has no snapshot; pull it by cursor", f.Feed), false)
			case f.After != 0:
				return s.refuse(ctx, syncproto.CodeInvalid, "a snapshot starts a feed from nothing: after must be 0", false)
			case f.ResumeAt > s.hub.log.Head():
				return s.refuse(ctx, syncproto.CodeInvalid, fmt.Sprintf("the snapshot at %d being resumed is not of this server's history", f.ResumeAt), false)
			}
		}
		s.feeds[f.Feed] = true
		s.readers.Add(1)
		go func() {
			defer s.readers.Done()
			after := f.After
			if f.Snapshot {
				var ok bool
				if after, ok = s.snapshot(ctx, f.Feed, f.ResumeAt, f.ResumeFrom); !ok {
					return
				}
			}
			s.feed(ctx, f.Feed, after)
		}()
		return nil
	case *syncproto.Error:
		// The device refused something we sent (a chunk cut short on a
		// failing link): log it where staff look; it reconnects.
		s.logger().Warn("sync: device reported an error", "code", f.Code, "msg", f.Message, "fatal", f.Fatal)
		if f.Fatal {
			return fmt.Errorf("sync: device ended the session: %s: %s", f.Code, f.Message)
		}
		return nil
	default:
		return s.refuse(ctx, syncproto.CodeSequence, fmt.Sprintf("a device may not send %s here", f.Type()), false)
	}
}

// hello answers a device's first frame with a challenge. Nothing about the
// device is looked up yet, so an unknown id learns nothing more than a
// known one.
func (s *session) hello(ctx context.Context, h *syncproto.Hello) error {
	if h.Proto != syncproto.Version {
		return s.refuse(ctx, syncproto.CodeVersion, fmt.Sprintf("protocol %d is not spoken here (server speaks %d): update the app", h.Proto, syncproto.Version), true)
	}
	s.claimed = h.Device
	s.nonce = make([]byte, syncproto.NonceSize)
	rand.Read(s.nonce)
	s.logger().Debug("sync: hello", "client", h.Client)
	return s.send(ctx, &syncproto.Challenge{Nonce: s.nonce})
}

// auth checks the signed challenge against the device's registered key,
// then opens the session.
func (s *session) auth(ctx context.Context, a *syncproto.Auth) error {
	key, dev, err := s.hub.devices.Lookup(s.claimed)
	switch {
	case errors.Is(err, devices.ErrRevoked):
		s.refused("revoked")
		return s.refuse(ctx, syncproto.CodeRevoked, "this device was revoked by the city's administrator; its records stay on it, but it needs a new enrollment code to sync", true)
	case errors.Is(err, devices.ErrUnknown):
		return s.refuse(ctx, syncproto.CodeUnknownDevice, "this device is not enrolled on this server: set it up with an enrollment code", true)
	case err != nil:
		s.logger().Error("sync: look up device", "err", err)
		return s.refuse(ctx, syncproto.CodeInternal, "the server could not check this device; try again later", true)
	}
	if !ed25519.Verify(key, syncproto.AuthMessage(s.claimed, s.nonce), a.Sig) {
		s.refused("bad signature")
		return s.refuse(ctx, syncproto.CodeUnknownDevice, "the device's signature did not verify: set it up again with an enrollment code", true)
	}
	if !s.hub.join(s.ws, s.claimed) {
		return s.refuse(ctx, syncproto.CodeLimit, fmt.Sprintf("this device already has %d open connections; close the app in other tabs", s.hub.opt.MaxConnsPerDevice), true)
	}
	s.device, s.scope, s.feeds = s.claimed, dev, make(map[string]bool)
	s.authenticated()
	// Signed in: the hello deadline no longer applies, pings and frames
	// keep the session open from now on.
	s.ws.SetReadDeadline(time.Now().Add(pongTimeout))
	mark, err := s.hub.log.Mark(s.device)
	if err != nil {
		s.logger().Error("sync: read mark", "err", err)
		return s.refuse(ctx, syncproto.CodeInternal, "the server could not read its records; try again later", true)
	}
	s.logger().Info("sync: device connected", "facility", dev.Facility.ID, "role", dev.Role, "acked", mark)
	s.audit("sync.session", dev.Facility.ID, s.remote)
	return s.send(ctx, &syncproto.Welcome{
		Epoch: s.hub.log.Epoch(), Acked: mark, Head: s.hub.log.Head(), Server: s.hub.opt.Server,
		Facility: dev.Facility.ID, Role: string(dev.Role), Feeds: dev.Feeds(), Snapshot: snapshotFeeds(dev.Feeds()),
	})
}

// feed streams the log after cursor, then waits for new ops and streams
// them too, until the session ends.
func (s *session) feed(ctx context.Context, feed string, cursor uint64) {
	caughtUp := false
	for {
		changed := s.hub.log.Changed(feed)
		ops, err := s.hub.log.Since(feed, cursor, syncproto.MaxOpsPerPush, syncproto.MaxFrameSize/2)
		if err != nil {
			s.logger().Error("sync: read feed", "err", err)
			s.refuse(ctx, syncproto.CodeInternal, "the server could not read its records; reconnect later", true)
			s.ws.Close()
			return
		}
		if len(ops) > 0 {
			cursor = ops[len(ops)-1].Global
			caughtUp = cursor >= s.hub.log.Head()
			if s.send(ctx, &syncproto.Ops{Feed: feed, Ops: ops, Cursor: cursor, CaughtUp: caughtUp}) != nil {
				return
			}
			continue
		}
		if !caughtUp {
			caughtUp = true
			if s.send(ctx, &syncproto.Ops{Feed: feed, Cursor: cursor, CaughtUp: true}) != nil {
				return
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return
		}
	}
}

// auditOps copies into the audit log each op just stored (a resent one
// is not stored twice, nor audited twice) that its kind declares audited
// (scope.AuditOf): the law wants identifications, cards checked offline
// (and refused on the server's second look), deletions of faces and
// staff's reads of personal data accounted for.
func (s *session) auditOps(stored []syncproto.Op) {
	for _, op := range stored {
		if e, ok := scope.AuditOf(op); ok {
			s.audit(e.Action, e.Subject, e.Detail)
		}
	}
}

// refused reports a session refused before its device proved its key.
func (s *session) refused(reason string) {
	if s.hub.opt.Refused == nil {
		return
	}
	s.hub.opt.Refused("sync.refused", s.client.Host, reason)
}

// audit records an event of this session's device.
func (s *session) audit(action, subject, detail string) {
	if s.hub.opt.Audit != nil {
		s.hub.opt.Audit(s.claimed, action, subject, detail)
	}
}

// snapshotFeeds returns the feeds of feeds served by snapshot.
func snapshotFeeds(feeds []string) []string {
	var out []string
	for _, f := range feeds {
		if scope.IsSnapshot(f) {
			out = append(out, f)
		}
	}
	return out
}

func isClosed(err error) bool {
	return websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived) ||
		errors.Is(err, net.ErrClosed)
}
