// Package publish is the one writer of the server's own ops: facility
// records, the JPKI trust anchors and the QR pass keys every device
// receives, and the face templates, withdrawals, erasures and facility
// profiles the server records for residents (package faces decides
// which), and the wallet limits a household's holder sets from the
// account page (wallet.limits, with the ledger's settings as records). They are ops in the log like any device's, under the reserved
// device id Device, so they reach the devices on their feeds and fold in
// the same order everywhere.
//
// A Writer clocks its ops itself: its clock passes the last op any
// server wrote before each write, and it takes only its own lock, and writes each logical
// change as one batch: its ops and the private records that go with
// them, all or nothing. The store numbers them inside the commit
// (store.Log.AppendNext), because the servers of one store (replicas on
// one PostgreSQL tenant) each have a Writer under the same device id: a
// seq chosen from the mark read before the commit would be taken twice,
// and the log would keep one op and drop the other as a resend.
package publish

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/syncproto"
)

// Device is the device id under which the server writes its own ops. No
// enrolled device may take it.
const Device = "server"

// Writer writes the server's own ops to one log.
type Writer struct {
	log store.Store

	// mu orders the writes: each takes the next seqs and a later clock.
	mu    sync.Mutex
	clock *hlc.Clock
}

// New returns the writer of log, its clock past the last op the server
// wrote (asked of the log once): a record written in the same
// millisecond as the one it replaces must still fold after it.
func New(log store.Store) (*Writer, error) {
	last, _, err := log.Last(Device)
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	return &Writer{log: log, clock: hlc.New(nil, last.HLC)}, nil
}

// Write appends ops (their kinds and bodies) as the server's next ops,
// with records (nil: none) in the same transaction: one logical change,
// all or nothing.
func (w *Writer) Write(ctx context.Context, ops []syncproto.Op, records func(store.Tx) error) error {
	if len(ops) == 0 && records == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	// Past the last op any server wrote: another server's writer may
	// have written since (a record this change replaces must fold
	// after it, whatever the two servers' clocks say).
	last, ok, err := w.log.Last(Device)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	if ok {
		w.clock.Observe(last.HLC)
	}
	for i := range ops {
		ops[i].HLC = w.clock.Now()
	}
	stored, err := w.log.AppendNext(ctx, Device, ops, records)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	if len(stored) != len(ops) {
		return fmt.Errorf("publish: %d of %d ops stored", len(stored), len(ops))
	}
	for i := range ops {
		ops[i].Seq = stored[i].Seq
	}
	return nil
}

// Publish writes body as the server's next op of kind, unless it is what
// the server published last under that kind: a restart does not send
// every device the same anchors or keys again. It reports whether it
// wrote. The op and the record of what was published are one batch.
func (w *Writer) Publish(ctx context.Context, kind string, body []byte) (bool, error) {
	sum := sha256.Sum256(body)
	var same bool
	if err := w.log.View(func(tx store.Tx) error {
		v, err := tx.Get(recPublished, kind)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		same = err == nil && bytes.Equal(v, sum[:])
		return nil
	}); err != nil || same {
		return false, err
	}
	err := w.Write(ctx, []syncproto.Op{{Kind: kind, Body: body}}, func(tx store.Tx) error {
		return tx.Put(recPublished, kind, sum[:])
	})
	if err != nil {
		return false, fmt.Errorf("publish %s: %w", kind, err)
	}
	return true, nil
}

// recPublished is the private record kind, by op kind, of the hash of
// what Publish wrote last.
const recPublished = "server.published"

// Facilities writes fs as the server's next ops, one batch.
func (w *Writer) Facilities(ctx context.Context, fs ...facility.Facility) error {
	ops, err := Ops(facility.OpUpsert, fs, func(f facility.Facility) error { return f.Validate() })
	if err != nil {
		return fmt.Errorf("publish: facilities: %w", err)
	}
	return w.Write(ctx, ops, nil)
}

// SeedDemo writes the demo facilities into an empty log. A log that holds
// anything is left alone, so restarting with -demo never duplicates.
func (w *Writer) SeedDemo(ctx context.Context) error {
	if w.log.Head() != 0 {
		return nil
	}
	return w.Facilities(ctx, facility.Demo()...)
}

// Ops returns one op of kind per value, its body the value's JSON, each
// checked by valid (nil: none) first.
func Ops[T any](kind string, values []T, valid func(T) error) ([]syncproto.Op, error) {
	ops := make([]syncproto.Op, 0, len(values))
	for _, v := range values {
		if valid != nil {
			if err := valid(v); err != nil {
				return nil, err
			}
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", kind, err)
		}
		ops = append(ops, syncproto.Op{Kind: kind, Body: b})
	}
	return ops, nil
}

// After moves the clock past ts: the server's next ops fold after an op
// Records is the store the writer writes to, for reading what it wrote
// (the writer is the one door for writing it, not for reading it).
func (w *Writer) Records() store.Records { return w.log }

// of a device (whose clock may run ahead) that they follow up.
func (w *Writer) After(ts hlc.Timestamp) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.clock.Observe(ts)
}
