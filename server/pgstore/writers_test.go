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
