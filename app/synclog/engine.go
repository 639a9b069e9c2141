// Package synclog is the device side of sync: an append-only local op log
// that the screens write to and read from at once, and an engine that pushes
// the log to the server and pulls other devices' ops whenever a link exists.
//
// The log is the source of truth on the device. Recording an op never waits
// for the network. The device never deletes an op it recorded; it keeps the
// server's acknowledged mark, and on every reconnect takes the server's mark
// as the truth and sends everything after it. So a dropped link, a reload,
// a closed browser or a server restored from an older backup loses
// nothing, and the server's idempotent ingest stores nothing twice.
//
// Storage and transport are interfaces (Store, Conn) so the same engine runs
// in the browser (IndexedDB and the browser's WebSocket, in wasm/) and
// natively in tests and simulators.
package synclog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/listen"
	"smartpass.city/smartpass/syncproto"
)

// Conn is one open connection to the sync server carrying whole frames.
type Conn interface {
	Send(ctx context.Context, frame []byte) error
	Recv(ctx context.Context) ([]byte, error)
	Close() error
}

// Dialer opens a connection to the sync server.
type Dialer func(ctx context.Context) (Conn, error)

// ErrRefused wraps an Error frame the server sent that was not an answer
// to the handshake. (Handshake refusals are the *syncproto.Error itself.)
var ErrRefused = errors.New("refused by server")

// Options tune an Engine. Zero values take the defaults, except Signer.
type Options struct {
	// Signer answers the server's challenge with the device's key (the
	// one registered with the enrollment code). Required.
	Signer     syncproto.Signer
	Client     string        // app build, sent in Hello
	Batch      int           // ops per Push frame (default 100)
	Window     int           // ops pushed but not yet acknowledged (default 400)
	MinBackoff time.Duration // first reconnect delay (default 500ms)
	MaxBackoff time.Duration // longest reconnect delay (default 30s)
	Now        func() time.Time
	// Logf, when set, receives a line for every session opened and ended:
	// what the browser console shows when staff ask why a tablet is
	// offline.
	Logf func(format string, args ...any)
	// Erases, when set, names the record an op is about and whether the
	// op erases it. When an erasing op arrives, the engine makes the store
	// forget every other device's older op about that record, so an
	// erased face template leaves no copy on the tablet (the erasing op,
	// which holds no personal data, stays as the record's tombstone).
	Erases func(op syncproto.Op) (record string, erases bool)
}

// Status is what the screen's sync indicator shows.
type Status struct {
	Online   bool      // a session with the server is open
	Pending  int       // local ops the server has not acknowledged
	LastSync time.Time // when the server last acknowledged or sent ops
	Err      string    // the last problem, in words for the log
	// Refused is the code of the server's last refusal of the session
	// (syncproto.CodeRevoked, CodeUnknownDevice, ...), "" once a session
	// opens. The screens use it to send staff to set-up.
	Refused string
}

// Engine runs sync for one device. Create it with New, start Run once.
type Engine struct {
	store Store
	dial  Dialer
	opt   Options
	clock *hlc.Clock
	wake  chan struct{}

	mu        sync.Mutex
	status    Status
	listeners listen.Set[func()]
	opsSeen   listen.Set[func(ops []syncproto.Op, reset bool)]
}

// New returns an engine over store that reaches the server with dial.
func New(ctx context.Context, store Store, dial Dialer, opt Options) (*Engine, error) {
	if opt.Signer == nil {
		return nil, errors.New("synclog: open: no Signer: the device must be enrolled first")
	}
	if opt.Batch <= 0 {
		opt.Batch = 100
	}
	if opt.Window < opt.Batch {
		opt.Window = 4 * opt.Batch
	}
	if opt.MinBackoff <= 0 {
		opt.MinBackoff = 500 * time.Millisecond
	}
	if opt.MaxBackoff < opt.MinBackoff {
		opt.MaxBackoff = 30 * time.Second
	}
	ops, err := store.All(ctx)
	if err != nil {
		return nil, fmt.Errorf("synclog: open: %w", err)
	}
	var last uint64
	for _, op := range ops {
		last = max(last, op.HLC)
	}
	e := &Engine{
		store: store,
		dial:  dial,
		opt:   opt,
		clock: hlc.New(opt.Now, last),
		wake:  make(chan struct{}, 1),
	}
	if err := e.refreshPending(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// DeviceID is the device's identity.
func (e *Engine) DeviceID() string { return e.store.DeviceID() }

// Record appends an op of kind with body (marshalled to JSON) to the local
// log and returns it. It returns once the op is durable on the device; the
// engine pushes it when it can.
func (e *Engine) Record(ctx context.Context, kind string, body any) (syncproto.Op, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return syncproto.Op{}, fmt.Errorf("synclog: record %s: %w", kind, err)
	}
	op := syncproto.Op{Seq: 1, HLC: e.clock.Now(), Kind: kind, Body: b}
	if err := op.Validate(); err != nil {
		return syncproto.Op{}, fmt.Errorf("synclog: record %s: %w", kind, err)
	}
	op, err = e.store.AppendLocal(ctx, op)
	if err != nil {
		return syncproto.Op{}, fmt.Errorf("synclog: record %s: %w", kind, err)
	}
	e.stored([]syncproto.Op{op}, false)
	if err := e.refreshPending(ctx); err != nil {
		return op, err
	}
	e.Kick()
	e.notify()
	return op, nil
}

// Ops returns every op the device holds, for folding into screen state.
func (e *Engine) Ops(ctx context.Context) ([]syncproto.Op, error) {
	return e.store.All(ctx)
}

// Status returns the current sync status.
func (e *Engine) Status() Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.status
}

// Watch calls fn after every change of the log or of the status, until stop
// is called. fn must not block.
func (e *Engine) Watch(fn func()) (stop func()) { return e.listeners.Add(fn) }

// WatchOps calls fn with the ops each change of the log stored (recorded
// here, or received: a received op the log held already comes again with
// its Global sequence set), before the Watch listeners hear of the change,
// until stop is called. reset is true when the log forgot ops (an
// erasure): then fn must read it again whole. So a tab keeps its folded
// state up to date without reading the whole log at every change. fn must
// not block.
func (e *Engine) WatchOps(fn func(ops []syncproto.Op, reset bool)) (stop func()) {
	return e.opsSeen.Add(fn)
}

// stored tells the WatchOps listeners of ops stored, or of a reset.
func (e *Engine) stored(ops []syncproto.Op, reset bool) {
	e.opsSeen.Each(func(fn func([]syncproto.Op, bool)) { fn(ops, reset) })
}

// Kick wakes the engine: push new ops now, or stop waiting to reconnect
// (the browser said it is online again).
func (e *Engine) Kick() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *Engine) notify() { e.listeners.Each(func(fn func()) { fn() }) }

func (e *Engine) update(f func(*Status)) {
	e.mu.Lock()
	f(&e.status)
	e.mu.Unlock()
	e.notify()
}

func (e *Engine) refreshPending(ctx context.Context) error {
	acked, last, err := e.store.Marks(ctx)
	if err != nil {
		return fmt.Errorf("synclog: read marks: %w", err)
	}
	e.mu.Lock()
	e.status.Pending = int(last - acked)
	e.mu.Unlock()
	return nil
}

// Run keeps a session with the server open until ctx ends, reconnecting
// with exponential backoff and jitter after every failure.
func (e *Engine) Run(ctx context.Context) {
	backoff := e.opt.MinBackoff
	for ctx.Err() == nil {
		start := time.Now()
		err := e.session(ctx)
		e.logf("sync: session ended after %s: %v", time.Since(start).Round(time.Millisecond), err)
		e.update(func(s *Status) {
			s.Online = false
			if err != nil && ctx.Err() == nil {
				s.Err = err.Error()
				var ef *syncproto.Error
				if errors.As(err, &ef) {
					s.Refused = ef.Code
				}
			}
		})
		if time.Since(start) > 10*time.Second {
			backoff = e.opt.MinBackoff // the link was good for a while
		}
		// Full jitter: many tablets coming back after a power cut must not
		// reconnect in step.
		delay := time.Duration(rand.Int64N(int64(backoff)) + 1)
		backoff = min(2*backoff, e.opt.MaxBackoff)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
		case <-t.C:
		case <-e.wake:
		}
		t.Stop()
	}
}

// session runs one connection: hello, then push and pull side by side until
// either fails.
func (e *Engine) session(ctx context.Context) error {
	conn, err := e.dial(ctx)
	if err != nil {
		return fmt.Errorf("synclog: connect: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { <-ctx.Done(); conn.Close() }()

	w, err := syncproto.Handshake(ctx, conn, e.store.DeviceID(), e.opt.Client, e.opt.Signer)
	if err != nil {
		return fmt.Errorf("synclog: open session: %w", err)
	}
	// A new epoch: the server was restored from a backup, or this is the
	// first contact. Its global numbers start a new history, so pull it all
	// again; what it lacks of ours is resent from its mark below.
	epoch, err := e.store.Epoch(ctx)
	if err != nil {
		return fmt.Errorf("synclog: read epoch: %w", err)
	}
	if epoch != w.Epoch {
		if err := e.store.SetEpoch(ctx, w.Epoch); err != nil {
			return fmt.Errorf("synclog: record epoch: %w", err)
		}
	}
	// The server's mark is the truth, even when it is lower than ours.
	if err := e.ack(ctx, w.Acked); err != nil {
		return err
	}
	// Pull every feed the server says this device sees, each from its
	// own cursor.
	for _, feed := range w.Feeds {
		pull, err := e.pull(ctx, feed, slices.Contains(w.Snapshot, feed))
		if err != nil {
			return err
		}
		if err := send(ctx, conn, pull); err != nil {
			return err
		}
	}
	e.update(func(s *Status) { s.Online, s.Err, s.Refused = true, "", "" })
	e.logf("sync: session open as %s at %s, feeds %v, server acked %d", w.Role, w.Facility, w.Feeds, w.Acked)

	acked := make(chan uint64, 1)
	errc := make(chan error, 2)
	go func() { errc <- e.readLoop(ctx, conn, w.Acked, acked) }()
	go func() { errc <- e.pushLoop(ctx, conn, w.Acked, acked) }()
	return <-errc
}

// pull is the request for one feed: from its cursor, or, for a snapshot
// feed never pulled, a snapshot (resumed where an earlier one stopped).
func (e *Engine) pull(ctx context.Context, feed string, snapshot bool) (*syncproto.Pull, error) {
	cursor, err := e.store.Cursor(ctx, feed)
	if err != nil {
		return nil, fmt.Errorf("synclog: read cursor of %s: %w", feed, err)
	}
	if !snapshot || cursor != 0 {
		return &syncproto.Pull{Feed: feed, After: cursor}, nil
	}
	at, next, err := e.store.SnapshotProgress(ctx, feed)
	if err != nil {
		return nil, fmt.Errorf("synclog: read snapshot progress of %s: %w", feed, err)
	}
	return &syncproto.Pull{Feed: feed, Snapshot: true, ResumeAt: at, ResumeFrom: next}, nil
}

// chunk stores one snapshot chunk, then the progress past it: a drop
// between the two costs one chunk sent again, which stores nothing twice.
func (e *Engine) chunk(ctx context.Context, c *syncproto.Chunk) error {
	at, next, err := e.store.SnapshotProgress(ctx, c.Feed)
	if err != nil {
		return fmt.Errorf("synclog: read snapshot progress: %w", err)
	}
	if (at != 0 && c.At != at) || c.Index != next {
		return fmt.Errorf("synclog: %w: snapshot chunk %d at %d of %s, want chunk %d at %d", syncproto.ErrUnexpected, c.Index, c.At, c.Feed, next, at)
	}
	for _, op := range c.Ops {
		e.clock.Observe(op.HLC)
	}
	cursor := uint64(0) // a cursor never moves back: zero leaves it
	if c.Last {
		cursor = c.At
	}
	if err := e.store.SaveRemote(ctx, c.Feed, c.Ops, cursor); err != nil {
		return fmt.Errorf("synclog: save snapshot chunk: %w", err)
	}
	if err := e.saved(ctx, c.Ops); err != nil {
		return err
	}
	at, next = c.At, c.Index+1
	if c.Last {
		at, next = 0, 0
	}
	if err := e.store.SetSnapshotProgress(ctx, c.Feed, at, next); err != nil {
		return fmt.Errorf("synclog: save snapshot progress: %w", err)
	}
	e.update(func(s *Status) { s.LastSync = e.now() })
	return nil
}

// saved follows received ops stored: it forgets what they erase, then
// tells the WatchOps listeners.
func (e *Engine) saved(ctx context.Context, ops []syncproto.Op) error {
	forgot, err := e.forgetErased(ctx, ops)
	if err != nil {
		// Some may be forgotten already: listeners read the log again.
		e.stored(nil, true)
		return err
	}
	e.stored(ops, forgot)
	return nil
}

// forgetErased makes the store forget the older ops about each record an
// op of ops erases, and reports whether ops erase anything (the log
// changed more than by the ops themselves). Erasures are rare
// (a resident deleting their face), so reading the whole store for them
// is affordable.
func (e *Engine) forgetErased(ctx context.Context, ops []syncproto.Op) (bool, error) {
	if e.opt.Erases == nil {
		return false, nil
	}
	erased := make(map[string]syncproto.Op)
	for _, op := range ops {
		if rec, erases := e.opt.Erases(op); erases && rec != "" {
			if prev, ok := erased[rec]; !ok || later(op, prev) {
				erased[rec] = op
			}
		}
	}
	if len(erased) == 0 {
		return false, nil
	}
	held, err := e.store.All(ctx)
	if err != nil {
		return false, fmt.Errorf("synclog: read log to forget erased records: %w", err)
	}
	var ids []OpID
	for _, op := range held {
		rec, erases := e.opt.Erases(op)
		eraser, ok := erased[rec]
		if !ok || erases || op.Device == e.store.DeviceID() || !later(eraser, op) {
			continue
		}
		ids = append(ids, OpID{Device: op.Device, Seq: op.Seq})
	}
	if err := e.store.Forget(ctx, ids); err != nil {
		return false, fmt.Errorf("synclog: forget erased records: %w", err)
	}
	return true, nil
}

// later reports whether a comes after b in the server's order (by global
// sequence when both have one, else by clock and device).
func later(a, b syncproto.Op) bool {
	if a.Global != 0 && b.Global != 0 {
		return a.Global > b.Global
	}
	if a.HLC != b.HLC {
		return a.HLC > b.HLC
	}
	return a.Device > b.Device
}

// readLoop handles the server's frames: acks, ops and errors.
func (e *Engine) readLoop(ctx context.Context, conn Conn, mark uint64, acked chan uint64) error {
	for {
		f, err := recv(ctx, conn)
		if err != nil {
			return err
		}
		switch f := f.(type) {
		case *syncproto.Ack:
			if f.Acked <= mark {
				continue // an old ack, overtaken
			}
			mark = f.Acked
			if err := e.ack(ctx, mark); err != nil {
				return err
			}
			select { // keep only the newest mark
			case <-acked:
			default:
			}
			acked <- mark
		case *syncproto.Ops:
			for _, op := range f.Ops {
				e.clock.Observe(op.HLC)
			}
			if err := e.store.SaveRemote(ctx, f.Feed, f.Ops, f.Cursor); err != nil {
				return fmt.Errorf("synclog: save pulled ops: %w", err)
			}
			if err := e.saved(ctx, f.Ops); err != nil {
				return err
			}
			e.update(func(s *Status) { s.LastSync = e.now() })
		case *syncproto.Chunk:
			if err := e.chunk(ctx, f); err != nil {
				return err
			}
		case *syncproto.Error:
			// recv returned fatal ones as errors already.
			err := fmt.Errorf("synclog: %w: %s: %s", ErrRefused, f.Code, f.Message)
			e.update(func(s *Status) { s.Err = err.Error() })
		default:
			return fmt.Errorf("synclog: unexpected %s frame from server", f.Type())
		}
	}
}

// pushLoop sends the ops after the server's mark in batches, keeping at
// most Window ops unacknowledged so a slow link is not flooded.
func (e *Engine) pushLoop(ctx context.Context, conn Conn, ackedSeq uint64, acked chan uint64) error {
	sent := ackedSeq
	for {
		if sent < ackedSeq {
			sent = ackedSeq
		}
		var ops []syncproto.Op
		if sent-ackedSeq < uint64(e.opt.Window) {
			var err error
			ops, err = e.store.Local(ctx, sent, e.opt.Batch)
			if err != nil {
				return fmt.Errorf("synclog: read local ops: %w", err)
			}
		}
		if len(ops) > 0 {
			if err := send(ctx, conn, &syncproto.Push{Ops: ops}); err != nil {
				return err
			}
			sent = ops[len(ops)-1].Seq
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ackedSeq = <-acked:
		case <-e.wake:
		}
	}
}

func (e *Engine) ack(ctx context.Context, upTo uint64) error {
	if err := e.store.SetAcked(ctx, upTo); err != nil {
		return fmt.Errorf("synclog: ack %d: %w", upTo, err)
	}
	if err := e.refreshPending(ctx); err != nil {
		return err
	}
	e.update(func(s *Status) { s.LastSync = e.now() })
	return nil
}

func (e *Engine) logf(format string, args ...any) {
	if e.opt.Logf != nil {
		e.opt.Logf(format, args...)
	}
}

func (e *Engine) now() time.Time {
	if e.opt.Now != nil {
		return e.opt.Now()
	}
	return time.Now()
}

func send(ctx context.Context, conn Conn, f syncproto.Frame) error {
	b, err := syncproto.Encode(f)
	if err != nil {
		return fmt.Errorf("synclog: %w", err)
	}
	if err := conn.Send(ctx, b); err != nil {
		return fmt.Errorf("synclog: send %s: %w", f.Type(), err)
	}
	return nil
}

func recv(ctx context.Context, conn Conn) (syncproto.Frame, error) {
	b, err := conn.Recv(ctx)
	if err != nil {
		return nil, fmt.Errorf("synclog: receive: %w", err)
	}
	f, err := syncproto.Decode(b)
	if err != nil {
		// Tell the server what arrived broken (its log is where staff
		// look), then end the session: the next one resends or resumes.
		if out, eerr := syncproto.Encode(&syncproto.Error{Code: syncproto.CodeOf(err), Message: syncproto.Clip(err.Error()), Fatal: true}); eerr == nil {
			conn.Send(ctx, out)
		}
		return nil, fmt.Errorf("synclog: %w", err)
	}
	if ef, ok := f.(*syncproto.Error); ok && ef.Fatal {
		return nil, fmt.Errorf("synclog: %w: %w", ErrRefused, ef)
	}
	return f, nil
}
