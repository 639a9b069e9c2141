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
	wantPending(t, s, 5)
	out, err := s.Outbox(ctx, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].Seq != 3 || out[1].Seq != 4 {
		t.Fatalf("Outbox(after 2, limit 2) = %+v, want seqs 3 and 4", out)
	}

	if err := s.Ack(ctx, 3); err != nil {
		t.Fatal(err)
	}
	wantPending(t, s, 2)
	out, _ = s.Outbox(ctx, 0, 10)
	if len(out) != 2 || out[0].Seq != 4 {
		t.Fatalf("Outbox after ack 3 = %+v, want seqs 4 and 5", out)
	}

	// Pulled ops: another device's, and the echo of one of ours with its
	// global sequence.
	remote := []syncproto.Op{
		{Device: "other", Seq: 1, HLC: 10, Kind: "test.note", Global: 1},
		{Device: dev, Seq: 1, HLC: 1, Kind: "test.note", Body: json.RawMessage(`{"i":1}`), Global: 2},
	}
	if err := s.SaveRemote(ctx, synclog.FeedAll, remote, 2); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Cursor(ctx, synclog.FeedAll); c != 2 {
		t.Fatalf("cursor = %d, want 2", c)
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

	if reopen == nil {
		return
	}
	s = reopen(s)
	if s.DeviceID() != dev {
		t.Fatalf("device id changed across reopen: %s -> %s", dev, s.DeviceID())
	}
	wantPending(t, s, 2)
	op, err := s.AppendLocal(ctx, syncproto.Op{Seq: 1, HLC: 6, Kind: "test.note"})
	if err != nil {
		t.Fatal(err)
	}
	if op.Seq != 6 {
		t.Fatalf("seq after reopen = %d, want 6 (gapless)", op.Seq)
	}
	if c, _ := s.Cursor(ctx, synclog.FeedAll); c != 2 {
		t.Fatalf("cursor after reopen = %d, want 2", c)
	}
}

func wantPending(t *testing.T, s synclog.Store, n int) {
	t.Helper()
	got, err := s.Pending(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got != n {
		t.Fatalf("Pending = %d, want %d", got, n)
	}
}
