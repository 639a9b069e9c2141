// Package store is the seam between the server and the engine that keeps
// its data: the op log (every op a device pushed or the server wrote, in
// one gapless global order, with each device's acknowledged mark) and the
// private records beside it (devices, residents, staff, the audit chain,
// the ledger), which no feed serves.
//
// It holds interfaces (and one helper over them, GetJSON), so that the packages that keep records
// (devices, residents, staff, audit, faces, the ledger) and the sync hub
// depend on what a store does, not on which engine does it: package
// oplog is the embedded Badger store; a replicated engine implements the
// same interfaces and runs the same conformance suite (storetest).
package store

import (
	"context"
	"errors"
	"fmt"
	"io"

	"smartpass.city/smartpass/syncproto"
)

// FeedAll names the feed of every op; an engine's Feeds function names
// the others an op belongs to.
const FeedAll = "all"

var (
	// ErrNotFound is wrapped by Tx.Get and Tx.Last when there is no
	// such record.
	ErrNotFound = errors.New("store: record not found")
	// ErrClosed is returned by a closed store.
	ErrClosed = errors.New("store: closed")
)

// Tx is one transaction on the private records: records are named by a
// kind (the package that owns them) and an id.
type Tx interface {
	// Get returns the record kind/id, or an error wrapping ErrNotFound.
	Get(kind, id string) ([]byte, error)
	// Put stores the record kind/id.
	Put(kind, id string, v []byte) error
	// Delete removes the record kind/id; a missing record is no error.
	Delete(kind, id string) error
	// Each calls fn with every record of kind, in byte order of id; an
	// error from fn stops it and is returned.
	Each(kind string, fn func(id string, v []byte) error) error
	// Last returns the record of kind with the greatest id, or an error
	// wrapping ErrNotFound.
	Last(kind string) (id string, v []byte, err error)
}

// Records runs transactions on the private records.
type Records interface {
	// View runs fn in a read-only transaction.
	View(fn func(Tx) error) error
	// Update runs fn in a read-write transaction and commits it durably.
	// When a concurrent update touched the same records, fn runs again
	// on fresh data, so a read-check-write in fn is atomic.
	Update(fn func(Tx) error) error
}

// Log is the op log.
type Log interface {
	// AppendBatch stores ops as device's (each op's Device set to
	// device), skipping the ops already held, and runs records (which
	// may be nil) in the same transaction: after a crash either all of
	// it is held or none. records sees every op of the call, resends
	// included, so what it writes must be keyed by the op (written once
	// whatever the resends); it may run more than once and must fail
	// only when the store does. It returns the device's highest
	// contiguous seq held afterwards (the acknowledgement) and the ops
	// it stored, with their global sequence, only after they are
	// durable.
	AppendBatch(ctx context.Context, device string, ops []syncproto.Op, records func(Tx) error) (mark uint64, stored []syncproto.Op, err error)
	// AppendRouted is AppendBatch with each op's feeds (besides FeedAll)
	// given by the caller, who read them when it checked the op
	// (scope.Device.Route), instead of the store's Feeds reading the
	// body again; feeds[i] belongs to ops[i], and a nil feeds[i] (or a
	// nil feeds) leaves that op to the store's Feeds. A store opened
	// without Feeds (tests) keeps every op in FeedAll only, whatever the
	// caller gives.
	AppendRouted(ctx context.Context, device string, ops []syncproto.Op, feeds [][]string, records func(Tx) error) (mark uint64, stored []syncproto.Op, err error)
	// AppendNew is AppendBatch without records.
	AppendNew(ctx context.Context, device string, ops []syncproto.Op) (mark uint64, stored []syncproto.Op, err error)
	// AppendNext is AppendBatch for a writer that does not number its
	// ops itself: each op gets device's next free seq, chosen inside the
	// commit, so writers that share a device id (the servers of one
	// store, each writing the server's own ops) never take one seq twice
	// and none of their ops is taken for a resend of another's. It
	// returns the ops as stored, numbered, in the order given.
	AppendNext(ctx context.Context, device string, ops []syncproto.Op, records func(Tx) error) (stored []syncproto.Op, err error)
	// Mark returns device's acknowledged mark.
	Mark(device string) (uint64, error)
	// Last returns the op of device with the greatest seq, if any.
	Last(device string) (op syncproto.Op, ok bool, err error)
	// Since returns up to limit ops (and about maxBytes) of feed with a
	// global sequence above after, in order.
	Since(feed string, after uint64, limit, maxBytes int) ([]syncproto.Op, error)
	// Head returns the highest global sequence served to readers.
	Head() uint64
	// Changed returns a channel closed at the next commit that adds an
	// op to feed.
	Changed(feed string) <-chan struct{}
	// Epoch names this log's history; a restore mints a new one, so
	// devices know their cursors no longer apply.
	Epoch() string
}

// Store is a whole store: the op log and the private records, in one
// engine, so a batch can write both atomically.
type Store interface {
	Log
	Records
	// Backup writes a consistent copy of the whole store to w.
	Backup(w io.Writer) error
	// Close stops the store; callers stop every reader first.
	Close() error
}

// Erasure says which ops erase which. When an op that erases record R is
// stored, every earlier op about R in the same feeds is replaced, in the
// same transaction, by what Redact keeps of it: the op keeps its place
// (device, seq, global sequence, feeds), so no device's cursor or mark
// moves, but the personal data is gone from the server.
type Erasure struct {
	// Record names the record an op is about ("" for none) and whether
	// the op erases it.
	Record func(op syncproto.Op) (record string, erases bool)
	// Redact returns what is kept of an erased op.
	Redact func(op syncproto.Op) syncproto.Op
}

// ErrRouting is returned by AppendRouted when feeds is not one list per
// op: a caller's defect, refused before anything is stored.
var ErrRouting = errors.New("store: one feed list per op")

// ErrNoSeq is returned by an append with an op of seq 0, outside
// AppendNext (which numbers them): a caller's defect, refused before
// anything is stored (a store would otherwise take the op for a resend,
// or store it under a seq no device can acknowledge).
var ErrNoSeq = errors.New("store: an op without a seq")

// CheckAppend checks what every append must hold: a device id that may
// name a device, and a seq on every op unless the store numbers them
// (next).
func CheckAppend(device string, ops []syncproto.Op, next bool) error {
	if !syncproto.ValidDeviceID(device) {
		return fmt.Errorf("invalid device id %q", device)
	}
	if !next {
		for i := range ops {
			if ops[i].Seq == 0 {
				return fmt.Errorf("%w: op %d of %s", ErrNoSeq, i, device)
			}
		}
	}
	return nil
}

// CheckRouting checks AppendRouted's feeds against its ops.
func CheckRouting(ops []syncproto.Op, feeds [][]string) error {
	if feeds != nil && len(feeds) != len(ops) {
		return fmt.Errorf("%w: %d ops, %d lists", ErrRouting, len(ops), len(feeds))
	}
	return nil
}

// Routed returns the feeds of ops[i] in an AppendRouted call: feeds[i]
// as the caller read them, or when it gave none, what read (the store's
// Feeds) reads from the body.
func Routed(feeds [][]string, i int, op syncproto.Op, read func(syncproto.Op) []string) []string {
	if i < len(feeds) && feeds[i] != nil {
		return feeds[i]
	}
	return read(op)
}
