// Package storetest checks that a synclog.Store keeps the contract the sync
// engine relies on. The in-memory store runs it natively; the IndexedDB
// store runs it inside headless Chromium.
package storetest

import (
	"context"
	"encoding/json"
	"testing"

	"smartpass.city/smartpass/app/synclog"
	"smartpass.city/smartpass/syncproto"
)

// Run checks the store that open returns. reopen, when not nil, must
// return the same store as it would be after a reload of the page.
func Run(t *testing.T, open func() synclog.Store, reopen func(synclog.Store) synclog.Store) {
	ctx := context.Background()
	const feed = "facility.shelter-a"
	s := open()
	dev := s.DeviceID()
	if !syncproto.ValidDeviceID(dev) {
		t.Fatalf("device id %q is not valid on the wire", dev)
	}

	for i := 1; i <= 5; i++ {
		op, err := s.AppendLocal(ctx, syncproto.Op{Seq: 99, HLC: uint64(i), Kind: "test.note", Body: json.RawMessage(`{"i":1}`), Global: 7})
		if err != nil {
			t.Fatal(err)
		}
		if op.Seq != uint64(i) || op.Device != dev || op.Global != 0 {
			t.Fatalf("append %d returned %+v: want seq %d, this device, no global", i, op, i)
		}
	}
	wantMarks(t, s, 0, 5)
	out, err := s.Local(ctx, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].Seq != 3 || out[1].Seq != 4 {
		t.Fatalf("Local(after 2, limit 2) = %+v, want seqs 3 and 4", out)
	}

	if err := s.SetAcked(ctx, 3); err != nil {
		t.Fatal(err)
	}
	wantMarks(t, s, 3, 5)
	// Acknowledged ops stay: a restored server may need them again.
	if out, _ = s.Local(ctx, 0, 10); len(out) != 5 {
		t.Fatalf("Local after ack = %d ops, want all 5", len(out))
	}
	// A server restored from an older backup holds less: the mark goes down.
	s.SetAcked(ctx, 1)
	wantMarks(t, s, 1, 5)
	// A mark past the last local op is clamped.
	s.SetAcked(ctx, 99)
	wantMarks(t, s, 5, 5)
	s.SetAcked(ctx, 3)

	// Pulled ops: another device's, and the echo of one of ours with its
	// global sequence.
	remote := []syncproto.Op{
		{Device: "other", Seq: 1, HLC: 10, Kind: "test.note", Global: 1},
		{Device: dev, Seq: 1, HLC: 1, Kind: "test.note", Body: json.RawMessage(`{"i":1}`), Global: 2},
	}
	if err := s.SaveRemote(ctx, feed, remote, 2); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Cursor(ctx, feed); c != 2 {
		t.Fatalf("cursor = %d, want 2", c)
	}
	// A late, overtaken frame does not move the cursor back.
	if err := s.SaveRemote(ctx, feed, nil, 1); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Cursor(ctx, feed); c != 2 {
		t.Fatalf("cursor after an older frame = %d, want 2", c)
	}
	if c, _ := s.Cursor(ctx, "other.feed"); c != 0 {
		t.Fatalf("cursor of an unknown feed = %d, want 0", c)
	}
	all, err := s.All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 6 {
		t.Fatalf("All holds %d ops, want 5 local + 1 remote (the echo replaces ours)", len(all))
	}
	for _, op := range all {
		if op.Device == dev && op.Seq == 1 && op.Global != 2 {
			t.Fatalf("echoed op kept global %d, want 2", op.Global)
		}
	}

	// Forgetting removes another device's op; never one of ours.
	if err := s.Forget(ctx, []synclog.OpID{{Device: "other", Seq: 1}, {Device: dev, Seq: 2}, {Device: "nobody", Seq: 9}}); err != nil {
		t.Fatal(err)
	}
	if all, _ = s.All(ctx); len(all) != 5 {
		t.Fatalf("after Forget All holds %d ops, want our 5", len(all))
	}
	for _, op := range all {
		if op.Device != dev {
			t.Fatalf("forgotten op still held: %+v", op)
		}
	}

	if e, _ := s.Epoch(ctx); e != "" {
		t.Fatalf("epoch of a new store = %q, want empty", e)
	}
	const snap = "templates.park"
	if at, next, err := s.SnapshotProgress(ctx, snap); err != nil || at != 0 || next != 0 {
		t.Fatalf("snapshot progress of a new store = %d, %d, %v", at, next, err)
	}
	if err := s.SetSnapshotProgress(ctx, snap, 900, 3); err != nil {
		t.Fatal(err)
	}
	if at, next, _ := s.SnapshotProgress(ctx, snap); at != 900 || next != 3 {
		t.Fatalf("snapshot progress = %d, %d; want 900, 3", at, next)
	}
	if err := s.SetEpoch(ctx, "e1"); err != nil {
		t.Fatal(err)
	}
	if e, _ := s.Epoch(ctx); e != "e1" {
		t.Fatalf("epoch = %q, want e1", e)
	}
	if c, _ := s.Cursor(ctx, feed); c != 0 {
		t.Fatalf("cursor after a new epoch = %d, want 0", c)
	}
	if at, next, _ := s.SnapshotProgress(ctx, snap); at != 0 || next != 0 {
		t.Fatalf("snapshot progress after a new epoch = %d, %d; want none", at, next)
	}
	s.SaveRemote(ctx, feed, nil, 2)
	s.SetSnapshotProgress(ctx, snap, 40, 1)

	if reopen == nil {
		return
	}
	s = reopen(s)
	if s.DeviceID() != dev {
		t.Fatalf("device id changed across reopen: %s -> %s", dev, s.DeviceID())
	}
	wantMarks(t, s, 3, 5)
	if e, _ := s.Epoch(ctx); e != "e1" {
		t.Fatalf("epoch after reopen = %q, want e1", e)
	}
	op, err := s.AppendLocal(ctx, syncproto.Op{Seq: 1, HLC: 6, Kind: "test.note"})
	if err != nil {
		t.Fatal(err)
	}
	if op.Seq != 6 {
		t.Fatalf("seq after reopen = %d, want 6 (gapless)", op.Seq)
	}
	if c, _ := s.Cursor(ctx, feed); c != 2 {
		t.Fatalf("cursor after reopen = %d, want 2", c)
	}
	if at, next, _ := s.SnapshotProgress(ctx, snap); at != 40 || next != 1 {
		t.Fatalf("snapshot progress after reopen = %d, %d; want 40, 1", at, next)
	}
}

func wantMarks(t *testing.T, s synclog.Store, acked, last uint64) {
	t.Helper()
	a, l, err := s.Marks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if a != acked || l != last {
		t.Fatalf("Marks = %d, %d; want acked %d, last %d", a, l, acked, last)
	}
}
