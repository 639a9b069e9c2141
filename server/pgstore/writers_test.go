package pgstore

import (
	"context"
	"sync"
	"testing"
	"time"

	"smartpass.city/smartpass/server/publish"
	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/server/store/pgtest"
	"smartpass.city/smartpass/syncproto"
)

// TestServerWritersOnTwoServers: two server processes on one tenant each
// write the server's own ops (publish.Writer, one device id) at once;
// every op of both is stored once under gapless seqs. With seqs chosen
// from the mark before the commit, 66 of 120 were kept: the rest were
// dropped as resends of the other server's.
func TestServerWritersOnTwoServers(t *testing.T) {
	c := pgtest.Start(t)
	key := testKey(t)
	var stores []*Store
	var writers []*publish.Writer
	for range 2 {
		s := openTenant(t, c.URL("postgres"), Options{Tenant: "kaga", Key: key})
		w, err := publish.New(s)
		if err != nil {
			t.Fatal(err)
		}
		stores, writers = append(stores, s), append(writers, w)
	}
	const perWriter = 30
	var wg sync.WaitGroup
	for _, w := range writers {
		for range 3 {
			wg.Go(func() {
				for range perWriter / 3 {
					ops := []syncproto.Op{{Kind: "test.a", Body: []byte(`{}`)}, {Kind: "test.b", Body: []byte(`{}`)}}
					if err := w.Write(context.Background(), ops, nil); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	want := uint64(len(writers) * perWriter * 2)
	for i, s := range stores {
		// A store serves the other's commits once it has learned their
		// head (a notification, or its poll): a moment after they commit.
		var seqs map[uint64]bool
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			ops, err := s.Since(store.FeedAll, 0, 1000, 8<<20)
			if err != nil {
				t.Fatal(err)
			}
			seqs = map[uint64]bool{}
			for _, op := range ops {
				if op.Device == publish.Device {
					seqs[op.Seq] = true
				}
			}
			if uint64(len(seqs)) >= want || time.Now().After(deadline) {
				break
			}
		}
		m, _ := s.Mark(publish.Device)
		if uint64(len(seqs)) != want || m != want {
			t.Fatalf("server %d sees %d of the server's ops (mark %d), want %d", i, len(seqs), m, want)
		}
	}
}

// TestChangedAfterAnotherServersCommit: a server whose commit learns,
// through the head row, another server's ops on a feed it does not write
// wakes that feed's waiters. The first server here is deaf (no
// notification, no poll), so only its own commit can tell it; before the
// fix its commit raised the head past the other's op waking only its own
// feed, and the other's notification, no longer above the head, woke
// nobody: a device waiting on that feed waited for its next reconnection.
func TestChangedAfterAnotherServersCommit(t *testing.T) {
	c := pgtest.Start(t)
	key := testKey(t)
	byKind := func(op syncproto.Op) []string { return []string{op.Kind} }
	deaf := openTenant(t, c.URL("postgres"), Options{Tenant: "kaga", Key: key, Feeds: byKind, deaf: true})
	other := openTenant(t, c.URL("postgres"), Options{Tenant: "kaga", Key: key, Feeds: byKind})
	ctx := context.Background()
	waiting := deaf.Changed("shelter-a")
	if _, _, err := other.AppendNew(ctx, "dev-a", []syncproto.Op{{Seq: 1, Kind: "shelter-a", Body: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := deaf.AppendNew(ctx, "dev-b", []syncproto.Op{{Seq: 1, Kind: "shelter-b", Body: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-waiting:
	case <-time.After(2 * time.Second):
		t.Fatalf("a waiter on shelter-a was not woken by a commit that raised the head (%d) past the other server's op there", deaf.Head())
	}
	ops, err := deaf.Since("shelter-a", 0, 10, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 1 || ops[0].Device != "dev-a" {
		t.Fatalf("shelter-a serves %+v, want dev-a's op", ops)
	}
}
