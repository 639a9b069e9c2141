package synclog

import (
	"context"
	"crypto/ed25519"
	"testing"

	"smartpass.city/smartpass/syncproto"
)

// TestWatchOps: listeners hear each op recorded and each batch received,
// before the Watch listeners, and nothing once stopped.
func TestWatchOps(t *testing.T) {
	ctx := context.Background()
	_, priv, _ := ed25519.GenerateKey(nil)
	e, err := New(ctx, NewMemStore("tab"), nil, Options{Signer: syncproto.KeySigner{Key: priv}, Erases: erases})
	if err != nil {
		t.Fatal(err)
	}
	var heard []syncproto.Op
	var order []string
	stop := e.WatchOps(func(ops []syncproto.Op, reset bool) {
		if reset {
			t.Error("a reset with nothing erased")
		}
		heard = append(heard, ops...)
		order = append(order, "ops")
	})
	stopWatch := e.Watch(func() { order = append(order, "watch") })
	defer stopWatch()
	own, err := e.Record(ctx, "rec.put", map[string]string{"rec": "r1"})
	if err != nil {
		t.Fatal(err)
	}
	batch := []syncproto.Op{recOp("desk", 1, 1, "rec.put", "r2"), recOp("desk", 2, 2, "rec.put", "r3")}
	if err := e.saved(ctx, batch); err != nil {
		t.Fatal(err)
	}
	stop()
	if _, err := e.Record(ctx, "rec.put", map[string]string{"rec": "r4"}); err != nil {
		t.Fatal(err)
	}
	if len(heard) != 3 || heard[0].Seq != own.Seq || heard[0].Device != "tab" || heard[2].Seq != 2 {
		t.Fatalf("heard %+v, want the recorded op then the batch", heard)
	}
	if len(order) < 2 || order[0] != "ops" || order[1] != "watch" {
		t.Fatalf("order %v: the ops must be heard before Watch's listeners", order)
	}
}
