// Package facilities keeps the server's facility records. Facilities are
// ops in the log like any other, written under the reserved device id
// Device and served on the public feed, so a tablet that synced once knows
// every facility while offline. The server reads the current set back from
// that feed when it checks an enrollment code or a connecting device.
package facilities

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sync"

	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/state"
	"smartpass.city/smartpass/server/oplog"
	"smartpass.city/smartpass/syncproto"
)

// Device is the device id under which the server writes its own ops. No
// enrolled device may take it.
const Device = "server"

// writing serialises the server's own writes: each takes the next
// sequence numbers of Device, and two at once would take the same ones
// (the log would keep the first and drop the other as a resend).
var writing sync.Mutex

// Append writes ops (their bodies, kinds) as the server's next ops,
// numbered and clocked here, after every op on the public feed.
func Append(ctx context.Context, log *oplog.Log, ops ...syncproto.Op) error {
	writing.Lock()
	defer writing.Unlock()
	mark, err := log.Mark(Device)
	if err != nil {
		return fmt.Errorf("facilities: server op: %w", err)
	}
	clock, err := clockAfter(log)
	if err != nil {
		return fmt.Errorf("facilities: server op: %w", err)
	}
	for i := range ops {
		ops[i].Seq, ops[i].HLC = mark+uint64(i)+1, clock.Now()
	}
	if _, err := log.Append(ctx, Device, ops); err != nil {
		return fmt.Errorf("facilities: server op: %w", err)
	}
	return nil
}

// Publish writes body as the server's next op of kind, unless it is what
// the server published last under that kind: a restart does not send
// every device the same anchors or keys again. It reports whether it
// wrote.
func Publish(ctx context.Context, log *oplog.Log, kind string, body []byte) (bool, error) {
	sum := sha256.Sum256(body)
	var same bool
	if err := log.View(func(tx *oplog.Tx) error {
		v, err := tx.Get(recPublished, kind)
		same = err == nil && bytes.Equal(v, sum[:])
		return nil
	}); err != nil || same {
		return false, err
	}
	if err := Append(ctx, log, syncproto.Op{Kind: kind, Body: body}); err != nil {
		return false, fmt.Errorf("facilities: publish %s: %w", kind, err)
	}
	return true, log.Update(func(tx *oplog.Tx) error { return tx.Put(recPublished, kind, sum[:]) })
}

// recPublished is the private record kind, by op kind, of the hash of
// what Publish wrote last.
const recPublished = "server.published"

// Put writes fs into the log as the server's next ops.
func Put(ctx context.Context, log *oplog.Log, fs ...facility.Facility) error {
	var ops []syncproto.Op
	for _, f := range fs {
		if err := f.Validate(); err != nil {
			return fmt.Errorf("facilities: put: %w", err)
		}
		b, err := json.Marshal(f)
		if err != nil {
			return fmt.Errorf("facilities: put %s: %w", f.ID, err)
		}
		ops = append(ops, syncproto.Op{Kind: facility.OpUpsert, Body: b})
	}
	return Append(ctx, log, ops...)
}

// clockAfter returns a clock for the server's next ops on the public feed,
// past every op already there: a record written in the same millisecond
// as the one it replaces must still fold after it.
func clockAfter(log *oplog.Log) (*hlc.Clock, error) {
	ops, err := public(log)
	if err != nil {
		return nil, err
	}
	var last hlc.Timestamp
	for _, op := range ops {
		last = max(last, op.HLC)
	}
	return hlc.New(nil, last), nil
}

// SeedDemo writes the demo facilities into an empty log. A log that holds
// anything is left alone, so restarting with -demo never duplicates.
func SeedDemo(ctx context.Context, log *oplog.Log) error {
	if log.Head() != 0 {
		return nil
	}
	return Put(ctx, log, facility.Demo()...)
}

// Current returns the facilities as the log has them now, folded from the
// public feed by the same code the devices use.
func Current(log *oplog.Log) (map[string]facility.Facility, error) {
	ops, err := public(log)
	if err != nil {
		return nil, err
	}
	return state.Fold(ops).Facilities, nil
}

// public reads the whole public feed: a few records per facility.
func public(log *oplog.Log) ([]syncproto.Op, error) {
	var ops []syncproto.Op
	for after := uint64(0); ; {
		batch, err := log.Since(scope.FeedPublic, after, 1024, 8<<20)
		if err != nil {
			return nil, fmt.Errorf("facilities: read: %w", err)
		}
		if len(batch) == 0 {
			return ops, nil
		}
		ops = append(ops, batch...)
		after = batch[len(batch)-1].Global
	}
}
