package pgstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/server/store/pgtest"
	"smartpass.city/smartpass/server/store/storetest"
	"smartpass.city/smartpass/syncproto"
)

func testKey(t testing.TB) []byte {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	return key
}

// tenants numbers the tenants a test run creates: every store the suite
// opens is a new tenant of one cluster, which also shows tenants apart.
var tenants atomic.Int64

func openTenant(t testing.TB, url string, opt Options) *Store {
	t.Helper()
	if opt.Tenant == "" {
		opt.Tenant = fmt.Sprintf("city-%d", tenants.Add(1))
	}
	if opt.Key == nil {
		opt.Key = testKey(t)
	}
	s, err := Open(context.Background(), url, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestConformance runs the store seam's suite against PostgreSQL, each
// subtest on a new tenant of one throwaway cluster.
func TestConformance(t *testing.T) {
	c := pgtest.Start(t)
	url := c.URL("postgres")
	storetest.Run(t, func(t *testing.T, cfg storetest.Config) store.Store {
		return openTenant(t, url, Options{Feeds: cfg.Feeds, Erasure: cfg.Erasure})
	})
}

// TestTenantsReopenAndKey: a tenant's data survives a reopen with its
// epoch; tenants do not see each other's ops or records; another key does
// not open a tenant; nothing readable reaches the database.
func TestTenantsReopenAndKey(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Start(t)
	url := c.URL("postgres")
	key := testKey(t)
	secret := []byte(`{"kana":"ヒミツ"}`)
	a := openTenant(t, url, Options{Tenant: "kaga", Key: key})
	b := openTenant(t, url, Options{Tenant: "nomi", Key: testKey(t)})
	if _, _, err := a.AppendNew(ctx, "tab", []syncproto.Op{{Seq: 1, HLC: 1, Kind: "test.op", Body: secret}}); err != nil {
		t.Fatal(err)
	}
	if err := a.Update(func(tx store.Tx) error { return tx.Put("resident", "r1", secret) }); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Since(store.FeedAll, 0, 10, 1<<20); len(got) != 0 || b.Head() != 0 {
		t.Fatalf("tenant nomi sees kaga's ops: %+v", got)
	}
	b.View(func(tx store.Tx) error {
		if _, err := tx.Get("resident", "r1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("tenant nomi reads kaga's record: %v", err)
		}
		return nil
	})
	epoch := a.Epoch()
	a.Close()
	if _, err := Open(ctx, url, Options{Tenant: "kaga", Key: testKey(t)}); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("open with another key: %v, want ErrWrongKey", err)
	}
	a = openTenant(t, url, Options{Tenant: "kaga", Key: key})
	if a.Epoch() != epoch || a.Head() != 1 {
		t.Fatalf("reopened: epoch %s head %d, want %s 1", a.Epoch(), a.Head(), epoch)
	}
	if m, _ := a.Mark("tab"); m != 1 {
		t.Fatalf("mark after reopen %d", m)
	}
	got, err := a.Since(store.FeedAll, 0, 10, 1<<20)
	if err != nil || len(got) != 1 || !bytes.Equal(got[0].Body, secret) {
		t.Fatalf("after reopen: %+v %v", got, err)
	}
	// A restore's new epoch: a store opened after it names another
	// history, with the same ops.
	if err := NewEpoch(ctx, url, "kaga"); err != nil {
		t.Fatal(err)
	}
	if r := openTenant(t, url, Options{Tenant: "kaga", Key: key}); r.Epoch() == epoch || r.Head() != 1 {
		t.Fatalf("after NewEpoch: epoch %s (was %s) head %d", r.Epoch(), epoch, r.Head())
	}
	// The database's files hold no plaintext (a CHECKPOINT writes the
	// pages; the WAL has them already).
	if c.Contains(t, []byte("ヒミツ")) {
		t.Fatal("the cluster's files hold the plaintext")
	}
	if err := NewEpoch(ctx, url, "nowhere"); err == nil {
		t.Fatal("a new epoch for a missing tenant succeeded")
	}
}

// TestAnotherServersCommitWakesReaders: a commit through one store of a
// tenant wakes the readers of another store of it by notification (well
// before the one-second poll), and they are served the op; a store of
// another tenant is not woken.
func TestAnotherServersCommitWakesReaders(t *testing.T) {
	c := pgtest.Start(t)
	key := testKey(t)
	a := openTenant(t, c.URL("postgres"), Options{Tenant: "kaga", Key: key})
	// b polls seldom: what wakes it is the notification.
	b := openTenant(t, c.URL("postgres"), Options{Tenant: "kaga", Key: key, poll: time.Hour})
	other := openTenant(t, c.URL("postgres"), Options{Tenant: "nomi"})
	woken, otherWoken := b.Changed(store.FeedAll), other.Changed(store.FeedAll)
	start := time.Now()
	if _, _, err := a.AppendNew(context.Background(), "tab", storetest.Ops(1, 2)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-woken:
	case <-time.After(5 * time.Second):
		t.Fatal("the other store was not notified")
	}
	t.Logf("woken %v after the append began", time.Since(start))
	if got, err := b.Since(store.FeedAll, 0, 10, 1<<20); err != nil || len(got) != 2 || b.Head() != 2 {
		t.Fatalf("the woken store serves %d ops (head %d, %v), want 2", len(got), b.Head(), err)
	}
	time.Sleep(pollEvery + pollEvery/2) // the poll too must not wake another tenant
	select {
	case <-otherWoken:
		t.Fatal("a commit of kaga woke a reader of nomi")
	default:
	}
}
