package oplog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

// TestResendsAfterReopen: the log knows each device's highest seq to
// skip the index read for new ops; after a reopen it learns it from the
// index, so ops held above a gap and below the mark are still known as
// held, and two devices whose ids share a prefix do not mix.
func TestResendsAfterReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l := open(t, dir)
	for _, p := range []struct {
		device string
		seqs   []uint64
	}{{"tab", []uint64{1, 2, 5, 9}}, {"tab-2", []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}}} {
		if _, err := l.Append(ctx, p.device, ops(p.seqs...)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		seqs     []uint64
		reopen   bool
		wantMark uint64
		wantHead uint64
	}{
		{[]uint64{9}, true, 2, 16},                // held above the gap, first op after a reopen
		{[]uint64{2, 5}, false, 2, 16},            // below the mark, and held in the gap
		{[]uint64{3, 4, 5, 9}, true, 5, 18},       // the gap partly filled; 5 and 9 not again
		{[]uint64{6, 7, 8, 9, 10}, false, 10, 22}, // the mark runs past 9 to the new 10
		{[]uint64{10, 11}, true, 11, 23},
	}
	for i, st := range steps {
		if st.reopen {
			if i > 0 {
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
			}
			l = open(t, dir)
		}
		mark, err := l.Append(ctx, "tab", ops(st.seqs...))
		if err != nil {
			t.Fatal(err)
		}
		if mark != st.wantMark || l.Head() != st.wantHead {
			t.Fatalf("step %d (%v): mark %d head %d, want %d %d", i, st.seqs, mark, l.Head(), st.wantMark, st.wantHead)
		}
	}
	// tab-2, whose id starts with tab's, is learnt from its own index
	// keys after a reopen: its resends are held, its next op is new.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = open(t, dir)
	defer l.Close()
	if _, err := l.Append(ctx, "tab", ops(12)); err != nil { // tab learnt first
		t.Fatal(err)
	}
	if mark, err := l.Append(ctx, "tab-2", ops(10, 11, 12, 13)); err != nil || mark != 13 || l.Head() != 25 {
		t.Fatalf("tab-2 resending after a reopen: mark %d head %d err %v, want 13 25", mark, l.Head(), err)
	}
	got, err := l.Since(FeedAll, 0, 100, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, op := range got {
		k := fmt.Sprintf("%s/%d", op.Device, op.Seq)
		if seen[k] {
			t.Fatalf("%s stored twice", k)
		}
		seen[k] = true
	}
	if len(got) != 25 {
		t.Fatalf("%d ops stored, want 25 (12 of tab, 13 of tab-2)", len(got))
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
