package oplog

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/syncproto"
)

// recOptions erase a record's earlier ops in feed "recs" with a
// "rec.erase" op (the shape of app/template's erasure).
func recOptions() Options {
	return Options{
		Feeds: func(syncproto.Op) []string { return []string{"recs"} },
		Erasure: &store.Erasure{
			Record: func(op syncproto.Op) (string, bool) {
				var b struct{ Rec string }
				json.Unmarshal(op.Body, &b)
				return b.Rec, op.Kind == "rec.erase"
			},
			Redact: func(op syncproto.Op) syncproto.Op { op.Kind, op.Body = "rec.erased", []byte(`{}`); return op },
		},
	}
}

func recOp(seq uint64, kind, rec string) syncproto.Op {
	return syncproto.Op{Seq: seq, HLC: seq, Kind: kind, Body: []byte(fmt.Sprintf(`{"rec":%q}`, rec))}
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
	var ops []syncproto.Op
	for i := range 2500 { // more than one indexing transaction
		ops = append(ops, recOp(uint64(i+1), "rec.put", fmt.Sprint("r", i%50)))
	}
	if _, _, err := l.AppendNew(context.Background(), "desk", ops); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if l, err = Open(dir, recOptions()); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, _, err := l.AppendNew(context.Background(), "desk", []syncproto.Op{recOp(2501, "rec.erase", "r7")}); err != nil {
		t.Fatal(err)
	}
	erased := 0
	all, err := l.Since(FeedAll, 0, 5000, 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range all {
		var b struct{ Rec string }
		json.Unmarshal(op.Body, &b)
		switch {
		case op.Kind == "rec.erased":
			erased++
		case b.Rec == "r7" && op.Kind != "rec.erase":
			t.Fatalf("op %d of r7 kept after its erasure", op.Seq)
		}
	}
	if erased != 50 {
		t.Fatalf("%d ops erased, want r7's 50", erased)
	}
}

// BenchmarkEraseInABigFeed: one erasure in a feed of 20,000 other
// records' ops. Through the record index it reads the record's own ops
// (a scan of the feed read all 20,000, for every erasure).
func BenchmarkEraseInABigFeed(b *testing.B) {
	l, err := Open(b.TempDir(), recOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	var ops []syncproto.Op
	for i := range 20000 {
		ops = append(ops, recOp(uint64(i+1), "rec.put", fmt.Sprint("r", i)))
	}
	for i := 0; i < len(ops); i += 1000 {
		if _, _, err := l.AppendNew(ctx, "desk", ops[i:i+1000]); err != nil {
			b.Fatal(err)
		}
	}
	seq := uint64(len(ops))
	b.ResetTimer()
	for i := range b.N {
		seq++
		if _, _, err := l.AppendNew(ctx, "desk", []syncproto.Op{recOp(seq, "rec.erase", fmt.Sprint("r", i%20000))}); err != nil {
			b.Fatal(err)
		}
	}
}
