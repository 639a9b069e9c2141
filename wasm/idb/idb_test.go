//go:build js && wasm

package idb

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/hack-pad/safejs"

	"smartpass.city/smartpass/app/synclog"
	"smartpass.city/smartpass/app/synclog/storetest"
	"smartpass.city/smartpass/syncproto"
	"smartpass.city/smartpass/wasm/jsbytes"
)

func TestStoreContract(t *testing.T) {
	ctx := context.Background()
	open := func() *Store {
		s, err := Open(ctx, "storetest-"+t.Name())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	storetest.Run(t,
		func() synclog.Store { return open() },
		func(s synclog.Store) synclog.Store {
			s.(*Store).Close()
			return open()
		})
}

// TestRecordsSealed: what IndexedDB holds of an op is ciphertext, bound
// to its key; a record an earlier version kept as plain JSON still
// reads.
func TestRecordsSealed(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "sealed-"+t.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	name := "加賀　花子"
	if _, err := s.AppendLocal(ctx, syncproto.Op{HLC: 1, Kind: "shelter.evacuee.add", Body: []byte(`{"name":"` + name + `"}`)}); err != nil {
		t.Fatal(err)
	}
	legacy := syncproto.Op{Device: "server", Seq: 7, HLC: 2, Kind: "facility.upsert", Body: []byte(`{"id":"old"}`)}
	b, _ := json.Marshal(legacy)
	tx, err := s.begin("readwrite", storeOps)
	if err != nil {
		t.Fatal(err)
	}
	tx.request(tx.store(storeOps), "put", []any{string(b), []any{legacy.Device, legacy.Seq}}, nil)
	if err := tx.wait(ctx); err != nil {
		t.Fatal(err)
	}

	tx, err = s.begin("readonly", storeOps)
	if err != nil {
		t.Fatal(err)
	}
	var stored safejs.Value
	tx.request(tx.store(storeOps), "get", []any{[]any{s.DeviceID(), 1}}, func(v safejs.Value) { stored = v })
	if err := tx.wait(ctx); err != nil {
		t.Fatal(err)
	}
	rec, err := jsbytes.ToGo(stored)
	if err != nil {
		t.Fatalf("the record is not bytes: %v", err)
	}
	if bytes.Contains(rec, []byte(name)) || bytes.Contains(rec, []byte("shelter")) {
		t.Fatal("IndexedDB holds the op in the clear")
	}

	s.Close()
	if s, err = Open(ctx, "sealed-"+t.Name()); err != nil {
		t.Fatal(err)
	}
	all, err := s.All(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("All = %d ops, %v", len(all), err)
	}
	if !strings.Contains(string(all[0].Body), name) || all[1].Kind != legacy.Kind {
		t.Fatalf("read back %s and %s", all[0].Body, all[1].Kind)
	}
}

// TestTill: the till's offline spending survives the store closed and
// opened again (a reload), reads nil where nothing was kept, and is kept
// sealed under a hashed key: IndexedDB holds neither the wallet's name
// nor the amount in the clear.
func TestTill(t *testing.T) {
	ctx := context.Background()
	name := "tilltest-" + t.Name()
	s, err := Open(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	const key = "checkout/offline/2026-12-02/R-000001"
	if v, err := s.Till(ctx).Load(key); err != nil || v != nil {
		t.Fatalf("Load of nothing = %q, %v", v, err)
	}
	if err := s.Till(ctx).Save(key, []byte("1200")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.Till(ctx).Load(key); err != nil || string(v) != "1200" {
		t.Fatalf("after a reload Load = %q, %v; want 1200", v, err)
	}
	raw, err := s.get(ctx, storeMeta, tillKey(key))
	if err != nil {
		t.Fatal(err)
	}
	b, err := jsbytes.ToGo(raw)
	if err != nil || bytes.Contains(b, []byte("1200")) || strings.Contains(tillKey(key), "R-000001") {
		t.Fatalf("the till's record is not sealed under a hashed key: %q (%v)", b, err)
	}
	// Moved to another key, the record does not open.
	if err := s.put(ctx, storeMeta, tillKey("other"), raw); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Till(ctx).Load("other"); err == nil {
		t.Fatal("a record moved to another key opened")
	}
}
