package oplog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"smartpass.city/smartpass/server/store"
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
	got, err := l.Since(FeedAll, 0, 100, 1<<20)
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
	changed := l.Changed(FeedAll)
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
	all, err := l.Since(FeedAll, 0, devices*perDevice+1, 1<<30)
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
	if got, _ := l.Since(FeedAll, 1, 2, 1<<20); len(got) != 2 || got[0].Global != 2 {
		t.Fatalf("Since(all, 1, limit 2) = %+v", got)
	}
	// A byte budget smaller than one op still returns one, so a feed
	// always makes progress.
	if got, _ := l.Since(FeedAll, 0, 10, 1); len(got) != 1 {
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

func TestEncryptionKey(t *testing.T) {
	dir := t.TempDir()
	key := bytes.Repeat([]byte{1}, 32)
	l, err := Open(dir, Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte(`{"kana":"ヒミツ"}`)
	if _, err := l.Append(context.Background(), "d", []syncproto.Op{{Seq: 1, HLC: 1, Kind: "test.op", Body: secret}}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	// Nothing readable on disk.
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if b, _ := os.ReadFile(p); !d.IsDir() && bytes.Contains(b, []byte("ヒミツ")) {
			t.Errorf("%s holds the plaintext", p)
		}
		return nil
	})
	for _, k := range [][]byte{bytes.Repeat([]byte{2}, 32), nil} {
		if _, err := Open(dir, Options{Key: k}); !errors.Is(err, ErrWrongKey) {
			t.Fatalf("Open with key %x: err = %v, want ErrWrongKey", k, err)
		}
	}
	l, err = Open(dir, Options{Key: key})
	if err != nil {
		t.Fatalf("reopen with the right key: %v", err)
	}
	l.Close()
}

func TestBackupRestore(t *testing.T) {
	key := bytes.Repeat([]byte{3}, 32)
	l, err := Open(t.TempDir(), Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Append(context.Background(), "d", ops(1, 2, 3)); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := l.Backup(&b); err != nil {
		t.Fatal(err)
	}
	// Appends after the backup are not in it.
	l.Append(context.Background(), "d", ops(4))

	target := filepath.Join(t.TempDir(), "restored")
	if err := Restore(target, bytes.NewReader(b.Bytes()), Options{Key: key}); err != nil {
		t.Fatal(err)
	}
	r, err := Open(target, Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Head() != 3 || r.Epoch() == l.Epoch() {
		t.Fatalf("restored head %d epoch %s; want 3 and an epoch other than %s", r.Head(), r.Epoch(), l.Epoch())
	}
	if m, _ := r.Mark("d"); m != 3 {
		t.Fatalf("restored mark = %d, want 3", m)
	}
	if err := Restore(target, bytes.NewReader(b.Bytes()), Options{Key: key}); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("restore over a store: err = %v, want ErrNotEmpty", err)
	}
}

func TestFeeds(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	// Even seqs belong to feed "even", every op to "n"; resends must not
	// index an op twice.
	classify := func(op syncproto.Op) []string {
		if op.Seq%2 == 0 {
			return []string{"even", "n"}
		}
		return []string{"n"}
	}
	l, err := Open(dir, Options{Feeds: classify})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, "tab-a", ops(1, 2, 3, 4, 5, 6)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, "tab-a", ops(2, 4)); err != nil {
		t.Fatal(err)
	}
	seqs := func(feed string, after uint64, limit int) []uint64 {
		t.Helper()
		got, err := l.Since(feed, after, limit, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		var out []uint64
		for _, op := range got {
			out = append(out, op.Seq)
		}
		return out
	}
	tests := []struct {
		feed  string
		after uint64
		limit int
		want  string
	}{
		{"even", 0, 10, "[2 4 6]"},
		{"even", 2, 10, "[4 6]"},
		{"even", 0, 2, "[2 4]"},
		{"n", 0, 10, "[1 2 3 4 5 6]"},
		{"none", 0, 10, "[]"},
		{"eve", 0, 10, "[]"}, // a prefix of another feed's name is not that feed
		{FeedAll, 4, 10, "[5 6]"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(seqs(tt.feed, tt.after, tt.limit)); got != tt.want {
			t.Errorf("Since(%s, %d, %d) = %s, want %s", tt.feed, tt.after, tt.limit, got, tt.want)
		}
	}
	// A waiter on a feed wakes only for that feed's ops.
	even, n := l.Changed("even"), l.Changed("n")
	if _, err := l.Append(ctx, "tab-a", ops(7)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-even:
		t.Fatal(`an op of feed "n" only woke the waiter on "even"`)
	default:
	}
	select {
	case <-n:
	default:
		t.Fatal(`an op of feed "n" did not wake its waiter`)
	}
	if _, err := l.Append(ctx, "tab-a", ops(8)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-even:
	default:
		t.Fatal(`an op of feed "even" did not wake its waiter`)
	}
	// The index is in the store: it survives a reopen.
	l.Close()
	l, err = Open(dir, Options{Feeds: classify})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := fmt.Sprint(seqs("even", 0, 10)); got != "[2 4 6 8]" {
		t.Fatalf("after reopen: %s", got)
	}
}

func TestPrivateRecords(t *testing.T) {
	l := open(t, t.TempDir())
	defer l.Close()
	err := l.Update(func(tx store.Tx) error {
		for _, id := range []string{"b", "a"} {
			if err := tx.Put("device", id, []byte("v"+id)); err != nil {
				return err
			}
		}
		return tx.Put("code", "a", []byte("other kind"))
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = l.View(func(tx store.Tx) error {
		if _, err := tx.Get("device", "zzz"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(missing) = %v, want ErrNotFound", err)
		}
		return tx.Each("device", func(id string, v []byte) error {
			got = append(got, id+"="+string(v))
			return nil
		})
	})
	if err != nil || fmt.Sprint(got) != "[a=va b=vb]" {
		t.Fatalf("Each(device) = %v, %v", got, err)
	}
	// Private records are never ops: no feed serves them.
	if ops, _ := l.Since(FeedAll, 0, 10, 1<<20); len(ops) != 0 {
		t.Fatalf("private records leaked into the log: %+v", ops)
	}
	// Concurrent read-check-delete: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	winners := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := l.Update(func(tx store.Tx) error {
				if _, err := tx.Get("code", "a"); err != nil {
					return err
				}
				return tx.Delete("code", "a")
			})
			if err == nil {
				mu.Lock()
				winners++
				mu.Unlock()
			} else if !errors.Is(err, ErrNotFound) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if winners != 1 {
		t.Fatalf("%d updates consumed one record, want 1", winners)
	}
}

// TestErasure: an erasing op redacts, in the same commit, the earlier ops
// about its record in its feeds; they keep their place (device, seq,
// global sequence) so no cursor moves. Later ops, other records, and ops
// in other feeds stay as they were.
func TestErasure(t *testing.T) {
	ctx := context.Background()
	rec := func(op syncproto.Op) (string, bool) {
		var b struct{ Rec string }
		json.Unmarshal(op.Body, &b)
		return b.Rec, op.Kind == "rec.erase"
	}
	l, err := Open(t.TempDir(), Options{
		Feeds: func(op syncproto.Op) []string {
			if op.Kind == "other.note" {
				return []string{"elsewhere"}
			}
			return []string{"recs"}
		},
		Erasure: &Erasure{Record: rec, Redact: func(op syncproto.Op) syncproto.Op {
			op.Kind, op.Body = "rec.erased", []byte(`{"gone":true}`)
			return op
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	op := func(seq uint64, kind, r string) syncproto.Op {
		return syncproto.Op{Seq: seq, HLC: seq, Kind: kind, Body: []byte(fmt.Sprintf(`{"rec":%q,"face":"secret"}`, r))}
	}
	l.Append(ctx, "desk", []syncproto.Op{op(1, "rec.put", "a"), op(2, "rec.put", "b"), op(3, "other.note", "a"), op(4, "rec.put", "a")})
	l.Append(ctx, "desk", []syncproto.Op{op(5, "rec.erase", "a"), op(6, "rec.put", "a")})
	all, err := l.Since(FeedAll, 0, 100, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint64]string{1: "rec.erased", 2: "rec.put", 3: "other.note", 4: "rec.erased", 5: "rec.erase", 6: "rec.put"}
	for _, o := range all {
		if o.Kind != want[o.Seq] || o.Global != o.Seq {
			t.Errorf("op %d: kind %s global %d, want %s global %d", o.Seq, o.Kind, o.Global, want[o.Seq], o.Seq)
		}
		if o.Kind == "rec.erased" && bytes.Contains(o.Body, []byte("secret")) {
			t.Errorf("op %d still holds the data: %s", o.Seq, o.Body)
		}
	}
	recs, _ := l.Since("recs", 0, 100, 1<<20)
	if len(recs) != 5 {
		t.Fatalf("feed recs holds %d ops, want 5 (the redacted ones keep their place)", len(recs))
	}
}

// TestAppendNew: the ops reported stored are exactly those not held
// before, with their global sequence, also when they arrive out of order
// and are then sent again with the gap filled.
func TestAppendNew(t *testing.T) {
	ctx := context.Background()
	l := open(t, t.TempDir())
	defer l.Close()
	seqs := func(stored []syncproto.Op) string {
		var out []string
		for _, op := range stored {
			out = append(out, fmt.Sprintf("%d@%d", op.Seq, op.Global))
		}
		return fmt.Sprint(out)
	}
	steps := []struct {
		push       []uint64
		mark       uint64
		wantStored string
	}{
		{[]uint64{2, 3}, 0, "[2@1 3@2]"}, // ahead of a gap: stored, not acknowledged
		{[]uint64{1, 2, 3}, 3, "[1@3]"},  // the gap filled, the rest sent again
		{[]uint64{1, 2, 3}, 3, "[]"},     // all again
		{[]uint64{4}, 4, "[4@4]"},
	}
	for i, st := range steps {
		mark, stored, err := l.AppendNew(ctx, "tab", ops(st.push...))
		if err != nil {
			t.Fatal(err)
		}
		if mark != st.mark || seqs(stored) != st.wantStored {
			t.Errorf("step %d: mark %d stored %s, want %d %s", i, mark, seqs(stored), st.mark, st.wantStored)
		}
	}
}
