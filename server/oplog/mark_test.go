package oplog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"smartpass.city/smartpass/syncproto"
)

// indexed returns the seqs device has in the device index.
func indexed(t *testing.T, l *Log, device string) []uint64 {
	t.Helper()
	prefix := indexKey(device, 0)[:len(prefixIndex)+len(device)+1]
	var seqs []uint64
	err := l.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.ValidForPrefix(prefix); it.Next() {
			seqs = append(seqs, binary.BigEndian.Uint64(it.Item().Key()[len(prefix):]))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return seqs
}

// TestIndexHoldsOnlyOpsAboveTheMark: ops pushed in order get no device
// index entry (the mark says they are held); an op held ahead of a gap
// gets one, which keeps a resend of it from being stored twice, also
// after a reopen and within one push, and which the mark passes when the
// gap fills. Last finds the op at the mark either way.
func TestIndexHoldsOnlyOpsAboveTheMark(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l := open(t, dir)
	steps := []struct {
		name        string
		seqs        []uint64
		reopen      bool
		wantMark    uint64
		wantHead    uint64
		wantIndexed []uint64
	}{
		{"in order", []uint64{1, 2, 3}, false, 3, 3, nil},
		{"ahead of a gap, one twice", []uint64{5, 6, 6}, false, 3, 5, []uint64{5, 6}},
		{"resent after a reopen", []uint64{2, 3, 5, 6}, true, 3, 5, []uint64{5, 6}},
		{"the gap filled", []uint64{4, 5}, false, 6, 6, []uint64{5, 6}},
		{"in order again, after a reopen", []uint64{6, 7, 8, 8}, true, 8, 8, []uint64{5, 6}},
	}
	for _, s := range steps {
		if s.reopen {
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l = open(t, dir)
		}
		mark, err := l.Append(ctx, "tab-a", ops(s.seqs...))
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if mark != s.wantMark || l.Head() != s.wantHead {
			t.Fatalf("%s: mark %d head %d, want %d %d", s.name, mark, l.Head(), s.wantMark, s.wantHead)
		}
		if got := indexed(t, l, "tab-a"); !slices.Equal(got, s.wantIndexed) {
			t.Fatalf("%s: index holds %v, want %v", s.name, got, s.wantIndexed)
		}
		last, ok, err := l.Last("tab-a")
		if err != nil || !ok || last.Seq != mark {
			t.Fatalf("%s: Last = seq %d, %v, %v; want the op at the mark, %d", s.name, last.Seq, ok, err, mark)
		}
	}
	defer l.Close()
	got, err := l.Since(FeedAll, 0, 100, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for _, op := range got {
		seqs = append(seqs, op.Seq)
	}
	if want := []uint64{1, 2, 3, 5, 6, 4, 7, 8}; !slices.Equal(seqs, want) {
		t.Fatalf("stored seqs %v, want %v", seqs, want)
	}
}

// TestOlderLogKeepsItsIndex: a log written before marks kept the global
// of their op (an eight-byte mark, every op in the device index) is read
// as before: resends are not stored again, Last finds the op, and the
// next push moves the mark on.
func TestOlderLogKeepsItsIndex(t *testing.T) {
	ctx := context.Background()
	l := open(t, t.TempDir())
	defer l.Close()
	// Written as the older log did: three ops of tab-a, each indexed,
	// and a mark of eight bytes.
	err := l.db.Update(func(txn *badger.Txn) error {
		for seq := uint64(1); seq <= 3; seq++ {
			op := syncproto.Op{Device: "tab-a", Seq: seq, HLC: seq, Kind: "test.op", Body: []byte(fmt.Sprintf(`{"n":%d}`, seq)), Global: seq}
			v, err := op.AppendJSON(nil)
			if err != nil {
				return err
			}
			if err := txn.Set(opKey(seq), v); err != nil {
				return err
			}
			if err := txn.Set(indexKey("tab-a", seq), be64(seq)); err != nil {
				return err
			}
		}
		return txn.Set(markKey("tab-a"), be64(3))
	})
	if err != nil {
		t.Fatal(err)
	}
	l.head = 3
	if last, ok, err := l.Last("tab-a"); err != nil || !ok || last.Seq != 3 || last.Global != 3 {
		t.Fatalf("Last of the older log = %+v, %v, %v", last, ok, err)
	}
	mark, err := l.Append(ctx, "tab-a", ops(2, 3, 4))
	if err != nil || mark != 4 || l.Head() != 4 {
		t.Fatalf("push to the older log: mark %d head %d, %v; want 4 4", mark, l.Head(), err)
	}
	if last, ok, err := l.Last("tab-a"); err != nil || !ok || last.Seq != 4 || last.Global != 4 {
		t.Fatalf("Last after the push = %+v, %v, %v", last, ok, err)
	}
}

// TestStoreFormat: a new log is marked with this package's format; one
// marked with a newer format is refused with a readable error and left
// as it was, since this code would misread it.
func TestStoreFormat(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir)
	format := func() uint64 {
		var f uint64
		err := l.db.View(func(txn *badger.Txn) error {
			item, err := txn.Get(keyFormat)
			if err != nil {
				return err
			}
			f, err = valueU64(item)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	if f := format(); f != storeFormat {
		t.Fatalf("a new log is in format %d, want %d", f, storeFormat)
	}
	if err := l.db.Update(func(txn *badger.Txn) error { return txn.Set(keyFormat, be64(storeFormat+1)) }); err != nil {
		t.Fatal(err)
	}
	l.Close()
	_, err := Open(dir, Options{})
	if !errors.Is(err, ErrNewerFormat) || !strings.Contains(err.Error(), "restore a backup taken before the upgrade") {
		t.Fatalf("Open of a newer log = %v, want ErrNewerFormat saying what to do", err)
	}
	db, err := openDB(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	l = &Log{db: db}
	defer db.Close()
	if f := format(); f != storeFormat+1 {
		t.Fatalf("the refused log's format became %d", f)
	}
}
