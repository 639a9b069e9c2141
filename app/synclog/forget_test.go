package synclog

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"testing"

	"smartpass.city/smartpass/syncproto"
)

// erases treats "rec.put" and "rec.erase" ops whose body names a record.
func erases(op syncproto.Op) (string, bool) {
	var b struct{ Rec string }
	json.Unmarshal(op.Body, &b)
	switch op.Kind {
	case "rec.put":
		return b.Rec, false
	case "rec.erase":
		return b.Rec, true
	}
	return "", false
}

func recOp(dev string, seq, global uint64, kind, rec string) syncproto.Op {
	b, _ := json.Marshal(map[string]string{"rec": rec})
	return syncproto.Op{Device: dev, Seq: seq, HLC: global, Global: global, Kind: kind, Body: b}
}

// TestForgetErased: an erasing op makes the device forget older ops about
// the same record from other devices; a newer put (registered again after
// the erasure), other records, its own ops and the tombstone stay.
func TestForgetErased(t *testing.T) {
	ctx := context.Background()
	store := NewMemStore("tab")
	_, priv, _ := ed25519.GenerateKey(nil)
	e, err := New(ctx, store, nil, Options{Signer: syncproto.KeySigner{Key: priv}, Erases: erases})
	if err != nil {
		t.Fatal(err)
	}
	own, _ := store.AppendLocal(ctx, recOp("", 0, 0, "rec.put", "r1"))
	held := []syncproto.Op{
		recOp("desk", 1, 1, "rec.put", "r1"),
		recOp("desk", 2, 2, "rec.put", "r1"), // a renewal, also older than the erasure
		recOp("desk", 3, 3, "rec.put", "r2"),
		recOp("desk", 5, 5, "rec.put", "r3"),
	}
	store.SaveRemote(ctx, "templates.p", held, 5)
	batch := []syncproto.Op{
		recOp("desk", 4, 4, "rec.erase", "r1"),
		recOp("desk", 6, 6, "rec.erase", "r3"),
		recOp("desk", 7, 7, "rec.put", "r3"), // registered again
	}
	store.SaveRemote(ctx, "templates.p", batch, 7)
	var resets int
	stop := e.WatchOps(func(ops []syncproto.Op, reset bool) {
		if reset {
			resets++
		}
	})
	defer stop()
	if err := e.saved(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if resets != 1 {
		t.Errorf("watchers heard %d resets, want 1: ops were forgotten", resets)
	}
	all, _ := store.All(ctx)
	got := map[OpID]bool{}
	for _, op := range all {
		got[OpID{op.Device, op.Seq}] = true
	}
	for id, want := range map[OpID]bool{
		{"desk", 1}: false, {"desk", 2}: false, // r1's puts, erased
		{"desk", 3}: true,                    // r2, untouched
		{"desk", 4}: true, {"desk", 6}: true, // the tombstones
		{"desk", 5}:      false, // r3's put before its erasure
		{"desk", 7}:      true,  // r3 registered again
		{"tab", own.Seq}: true,  // the device's own op
	} {
		if got[id] != want {
			t.Errorf("op %v held: %v, want %v", id, got[id], want)
		}
	}
}
