package publish

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/server/oplog"
	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/syncproto"
)

func openLog(t *testing.T, dir string) *oplog.Log {
	t.Helper()
	l, err := oplog.Open(dir, oplog.Options{Feeds: scope.Feeds})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// serverOps returns the server's ops in log order.
func serverOps(t *testing.T, l *oplog.Log) []syncproto.Op {
	t.Helper()
	var out []syncproto.Op
	for after := uint64(0); ; {
		b, err := l.Since(oplog.FeedAll, after, 1000, 8<<20)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) == 0 {
			return out
		}
		for _, op := range b {
			if op.Device == Device {
				out = append(out, op)
			}
		}
		after = b[len(b)-1].Global
	}
}

// TestConcurrentWritesAreGaplessAndOrdered: writes from many goroutines
// at once (no lock but the writer's own) take gapless seqs with clocks
// that grow with them, across a restart too.
func TestConcurrentWritesAreGaplessAndOrdered(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir)
	w, err := New(l)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			ops := []syncproto.Op{{Kind: "test.a", Body: []byte(`{}`)}, {Kind: "test.b", Body: []byte(`{}`)}}
			if err := w.Write(context.Background(), ops, nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	l.Close()
	l = openLog(t, dir) // a restart: the clock comes back from the log
	defer l.Close()
	if w, err = New(l); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(context.Background(), []syncproto.Op{{Kind: "test.c", Body: []byte(`{}`)}}, nil); err != nil {
		t.Fatal(err)
	}
	ops := serverOps(t, l)
	if len(ops) != 17 {
		t.Fatalf("%d ops, want 17", len(ops))
	}
	for i, op := range ops {
		if op.Seq != uint64(i+1) {
			t.Fatalf("op %d has seq %d", i, op.Seq)
		}
		if i > 0 && op.HLC <= ops[i-1].HLC {
			t.Fatalf("op %d's clock %d is not after %d", op.Seq, op.HLC, ops[i-1].HLC)
		}
	}
}

// TestTwoWritersOnOneStore: servers sharing one store (replicas on one
// PostgreSQL tenant) each have a writer; writing at once, each op of
// both is stored once, under gapless seqs, and none is taken for a
// resend of the other's; a change one writes after the other's folds
// after it, whatever their clocks.
func TestTwoWritersOnOneStore(t *testing.T) {
	l := openLog(t, t.TempDir())
	defer l.Close()
	var writers [2]*Writer
	for i := range writers {
		var err error
		if writers[i], err = New(l); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for _, w := range writers {
		for range 20 {
			wg.Go(func() {
				ops := []syncproto.Op{{Kind: "test.a", Body: []byte(`{}`)}, {Kind: "test.b", Body: []byte(`{}`)}}
				if err := w.Write(context.Background(), ops, nil); err != nil {
					t.Error(err)
				}
				if ops[0].Seq == 0 || ops[1].Seq != ops[0].Seq+1 {
					t.Errorf("a write's ops were given seqs %d and %d", ops[0].Seq, ops[1].Seq)
				}
			})
		}
	}
	wg.Wait()
	// A change written after another server's (whose clock runs an hour
	// ahead) folds after it.
	writers[0].After(hlc.Make(time.Now().Add(time.Hour).UnixMilli(), 0))
	first := []syncproto.Op{{Kind: "test.a", Body: []byte(`{}`)}}
	then := []syncproto.Op{{Kind: "test.a", Body: []byte(`{}`)}}
	if err := writers[0].Write(context.Background(), first, nil); err != nil {
		t.Fatal(err)
	}
	if err := writers[1].Write(context.Background(), then, nil); err != nil {
		t.Fatal(err)
	}
	if then[0].HLC <= first[0].HLC {
		t.Fatalf("the later change's clock %d is not after the earlier's %d", then[0].HLC, first[0].HLC)
	}
	ops := serverOps(t, l)
	if len(ops) != 82 {
		t.Fatalf("%d ops stored, want 82: writes were lost as resends of the other writer's", len(ops))
	}
	for i, op := range ops {
		if op.Seq != uint64(i+1) {
			t.Fatalf("op %d has seq %d", i, op.Seq)
		}
	}
}

// TestPublishOnce: the same body is published once, a new one again, and
// a restart does not publish what was published; the op and the record
// of it are one batch, so a failed batch leaves neither.
func TestPublishOnce(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir)
	ctx := context.Background()
	w, err := New(l)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		body    string
		restart bool
		wrote   bool
	}{
		{`{"k":1}`, false, true},
		{`{"k":1}`, false, false},
		{`{"k":2}`, false, true},
		{`{"k":2}`, true, false},
		{`{"k":1}`, true, true},
	}
	for i, s := range steps {
		if s.restart {
			l.Close()
			l = openLog(t, dir)
			if w, err = New(l); err != nil {
				t.Fatal(err)
			}
		}
		wrote, err := w.Publish(ctx, "test.keys", []byte(s.body))
		if err != nil || wrote != s.wrote {
			t.Fatalf("step %d: wrote %t, %v; want %t", i, wrote, err, s.wrote)
		}
	}
	defer l.Close()
	if n := len(serverOps(t, l)); n != 3 {
		t.Fatalf("%d ops published, want 3", n)
	}
	failed := errors.New("no room")
	err = w.Write(ctx, []syncproto.Op{{Kind: "test.x", Body: []byte(`{}`)}}, func(store.Tx) error { return failed })
	if !errors.Is(err, failed) {
		t.Fatalf("a failed batch: %v", err)
	}
	if n := len(serverOps(t, l)); n != 3 {
		t.Fatalf("%d ops after a failed batch, want 3: its op was kept", n)
	}
}
