package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/syncproto"
)

// RecConfig puts every op in feed "recs" and lets a "rec.erase" op erase
// its record's earlier ops (the shape of app/template's erasure, where a
// resident's face deletion erases their templates): the configuration
// of each engine's record-index tests and erasure benchmark.
func RecConfig() Config {
	return Config{
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

// RecOp is an op of kind about record rec, for RecConfig's stores.
func RecOp(seq uint64, kind, rec string) syncproto.Op {
	return syncproto.Op{Seq: seq, HLC: seq, Kind: kind, Body: []byte(fmt.Sprintf(`{"rec":%q}`, rec))}
}

// olderOps is how many ops WriteOlderLog writes: more than one
// transaction of an engine's indexing of an older log.
const olderOps = 2500

// WriteOlderLog writes, as device "desk", the ops of a log from before
// an engine's record index: 2,500 ops about 50 records (r0…r49), 50 each.
// The caller opens s so that it writes no index (without an erasure, or
// on an older schema).
func WriteOlderLog(t testing.TB, s store.Store) {
	t.Helper()
	var ops []syncproto.Op
	for i := range olderOps {
		ops = append(ops, RecOp(uint64(i+1), "rec.put", fmt.Sprint("r", i%50)))
	}
	if _, _, err := s.AppendNew(context.Background(), "desk", ops); err != nil {
		t.Fatal(err)
	}
}

// EraseInAnOlderLog erases record r7 in the log WriteOlderLog wrote,
// reopened as s with RecConfig: all 50 of r7's ops, and no other, must be
// redacted, though they were written before the index.
func EraseInAnOlderLog(t testing.TB, s store.Store) {
	t.Helper()
	if _, _, err := s.AppendNew(context.Background(), "desk", []syncproto.Op{RecOp(olderOps+1, "rec.erase", "r7")}); err != nil {
		t.Fatal(err)
	}
	all, err := s.Since(store.FeedAll, 0, 2*olderOps, 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != olderOps+1 {
		t.Fatalf("%d ops after the erasure, want %d", len(all), olderOps+1)
	}
	erased := 0
	for _, op := range all {
		var b struct{ Rec string }
		json.Unmarshal(op.Body, &b)
		switch {
		case op.Kind == "rec.erased":
			erased++
			if want := fmt.Sprint("r", (op.Seq-1)%50); want != "r7" {
				t.Fatalf("op %d of %s erased by r7's erasure", op.Seq, want)
			}
		case b.Rec == "r7" && op.Kind != "rec.erase":
			t.Fatalf("op %d of r7 kept after its erasure", op.Seq)
		}
	}
	if erased != 50 {
		t.Fatalf("%d ops erased, want r7's 50", erased)
	}
}

// bigFeed is how many ops, each about another record, EraseInABigFeed
// puts in the feed before it erases.
const bigFeed = 20000

// EraseInABigFeed measures one erasure in a feed of 20,000 other
// records' ops on s (opened with RecConfig): b.N erasures, each of one
// record. Through a record index an erasure reads the record's own ops;
// a scan of the feed reads all 20,000, for every erasure.
func EraseInABigFeed(b *testing.B, s store.Store) {
	ctx := context.Background()
	var ops []syncproto.Op
	for i := range bigFeed {
		ops = append(ops, RecOp(uint64(i+1), "rec.put", fmt.Sprint("r", i)))
	}
	for i := 0; i < len(ops); i += 1000 {
		if _, _, err := s.AppendNew(ctx, "desk", ops[i:i+1000]); err != nil {
			b.Fatal(err)
		}
	}
	seq := uint64(len(ops))
	b.ResetTimer()
	for i := range b.N {
		seq++
		if _, _, err := s.AppendNew(ctx, "desk", []syncproto.Op{RecOp(seq, "rec.erase", fmt.Sprint("r", i%bigFeed))}); err != nil {
			b.Fatal(err)
		}
	}
}
