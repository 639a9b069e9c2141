package oplog

import (
	"testing"

	"smartpass.city/smartpass/server/store/storetest"
)

// recOptions are storetest.RecConfig's feeds and erasure.
func recOptions() Options {
	cfg := storetest.RecConfig()
	return Options{Feeds: cfg.Feeds, Erasure: cfg.Erasure}
}

// TestRecordIndexOfAnOlderLog: a log written without the record index
// (opened without an erasure, as a log before the index was) gets it at
// its next Open, so an erasure still reaches the record's older ops.
func TestRecordIndexOfAnOlderLog(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{Feeds: recOptions().Feeds})
	if err != nil {
		t.Fatal(err)
	}
	storetest.WriteOlderLog(t, l)
	l.Close()
	if l, err = Open(dir, recOptions()); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	storetest.EraseInAnOlderLog(t, l)
}

// BenchmarkEraseInABigFeed: one erasure in a feed of 20,000 other
// records' ops, through the record index (storetest.EraseInABigFeed).
func BenchmarkEraseInABigFeed(b *testing.B) {
	l, err := Open(b.TempDir(), recOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	storetest.EraseInABigFeed(b, l)
}
