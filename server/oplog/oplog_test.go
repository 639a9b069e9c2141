package oplog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"smartpass.city/smartpass/syncproto"
)

func ops(seqs ...uint64) []syncproto.Op {
	out := make([]syncproto.Op, len(seqs))
	for i, s := range seqs {
		out[i] = syncproto.Op{Device: "spoofed", Seq: s, HLC: s, Kind: "test.op", Body: []byte(`{"n":1}`)}
	}
	return out
}

func open(t *testing.T, dir string) *Log {
	t.Helper()
	l, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestAppendIsIdempotentAndGapless(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l := open(t, dir)

	steps := []struct {
		seqs     []uint64
		wantMark uint64
		wantHead uint64
	}{
		{[]uint64{1, 2}, 2, 2},
		{[]uint64{1, 2}, 2, 2},    // a resend: acknowledged, not stored again
		{[]uint64{4}, 2, 3},       // a gap: held, but the mark waits
		{[]uint64{3, 4, 5}, 5, 5}, // gap filled; 4 not stored twice
	}
	for i, s := range steps {
		mark, err := l.Append(ctx, "tab-a", ops(s.seqs...))
		if err != nil {
			t.Fatal(err)
		}
		if mark != s.wantMark || l.Head() != s.wantHead {
			t.Fatalf("step %d: mark %d head %d, want %d %d", i, mark, l.Head(), s.wantMark, s.wantHead)
		}
	}
	got, err := l.Since(0, 100, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	for i, op := range got {
		if op.Global != uint64(i+1) || op.Device != "tab-a" || seen[op.Seq] {
			t.Fatalf("op %d = %+v: want global %d, device from the session, no duplicate seq", i, op, i+1)
		}
		seen[op.Seq] = true
	}

	// Everything survives a reopen, and the epoch stays.
	epoch := l.Epoch()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = open(t, dir)
	defer l.Close()
	if l.Head() != 5 || l.Epoch() != epoch {
		t.Fatalf("after reopen: head %d epoch %s, want 5 %s", l.Head(), l.Epoch(), epoch)
	}
	if m, _ := l.Mark("tab-a"); m != 5 {
		t.Fatalf("mark after reopen = %d, want 5", m)
	}
	if mark, _ := l.Append(ctx, "tab-a", ops(6)); mark != 6 || l.Head() != 6 {
		t.Fatalf("append after reopen: mark %d head %d", mark, l.Head())
	}
}

func TestConcurrentAppendsGroupCommitInOrder(t *testing.T) {
	l := open(t, t.TempDir())
	defer l.Close()
	const devices, perDevice = 16, 50
	changed := l.Changed()
	var wg sync.WaitGroup
	for d := range devices {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := uint64(1); s <= perDevice; s++ {
				if _, err := l.Append(context.Background(), fmt.Sprintf("dev-%d", d), ops(s)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	<-changed // closed by the first commit
	all, err := l.Since(0, devices*perDevice+1, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != devices*perDevice {
		t.Fatalf("%d ops stored, want %d", len(all), devices*perDevice)
	}
	last := map[string]uint64{}
	for i, op := range all {
		if op.Global != uint64(i+1) {
			t.Fatalf("global sequence has a gap at %d: %d", i, op.Global)
		}
		if op.Seq != last[op.Device]+1 {
			t.Fatalf("device %s: seq %d after %d: commit order broke device order", op.Device, op.Seq, last[op.Device])
		}
		last[op.Device] = op.Seq
	}
}

func TestSinceBounds(t *testing.T) {
	l := open(t, t.TempDir())
	defer l.Close()
	if _, err := l.Append(context.Background(), "d", ops(1, 2, 3, 4)); err != nil {
		t.Fatal(err)
	}
	if got, _ := l.Since(1, 2, 1<<20); len(got) != 2 || got[0].Global != 2 {
		t.Fatalf("Since(1, limit 2) = %+v", got)
	}
	// A byte budget smaller than one op still returns one, so a feed
	// always makes progress.
	if got, _ := l.Since(0, 10, 1); len(got) != 1 {
		t.Fatalf("Since with a tiny byte budget returned %d ops, want 1", len(got))
	}
}

func TestErrors(t *testing.T) {
	l := open(t, t.TempDir())
	if _, err := l.Append(context.Background(), "bad/id", ops(1)); err == nil {
		t.Fatal("Append with an invalid device id succeeded")
	}
	l.Close()
	if _, err := l.Append(context.Background(), "d", ops(1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close = %v, want ErrClosed", err)
	}

	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := Open(filepath.Join(file, "data"), Options{}); err == nil {
		t.Fatal("Open under a regular file succeeded")
	}
}
