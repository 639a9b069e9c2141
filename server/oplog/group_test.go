package oplog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/server/store/storetest"
	"smartpass.city/smartpass/syncproto"
)

// TestGroupCommitTooBigForOneTransaction: while one commit holds the
// writer, eight devices each append; the writer then finds all eight
// queued, more than Badger takes in one transaction. Every append is
// stored and acknowledged: the writer gathers less or commits the group
// in parts. Before, it refused all eight together, and the devices sent
// them again to be refused again, for ever.
func TestGroupCommitTooBigForOneTransaction(t *testing.T) {
	const devices = 8
	for _, tc := range []struct {
		name string
		// ops and records are what each device appends.
		ops     []syncproto.Op
		records func(store.Tx) error
		// split says whether Badger refuses a group first.
		split bool
	}{
		// Full pushes, about 1 MB each: the writer's estimate stops
		// gathering before the limit.
		{name: "full pushes", ops: storetest.FullPush(t, syncproto.MaxOpsPerPush)},
		// Small pushes each with a large private record, which the
		// estimate does not see: the group is refused and split.
		{
			name: "large records",
			ops:  []syncproto.Op{{Seq: 1, HLC: 1, Kind: "shelter.note"}},
			records: func(tx store.Tx) error {
				return tx.Put("bulk", fmt.Sprint(time.Now().UnixNano()), make([]byte, 900<<10))
			},
			split: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			l := open(t, t.TempDir())
			defer l.Close()

			// The first append's records hold its commit until the others
			// wait.
			hold, held := make(chan struct{}), make(chan struct{})
			first := make(chan error, 1)
			go func() {
				_, _, err := l.AppendBatch(ctx, "holder", []syncproto.Op{{Seq: 1, HLC: 1, Kind: "shelter.note"}}, func(store.Tx) error {
					select {
					case <-held:
					default:
						close(held)
						<-hold
					}
					return nil
				})
				first <- err
			}()
			<-held

			var wg sync.WaitGroup
			errs := make([]error, devices)
			marks := make([]uint64, devices)
			for d := range devices {
				wg.Add(1)
				go func() {
					defer wg.Done()
					marks[d], _, errs[d] = l.AppendBatch(ctx, fmt.Sprintf("tab-%d", d), tc.ops, tc.records)
				}()
			}
			for deadline := time.Now().Add(10 * time.Second); len(l.reqs) < devices; {
				if time.Now().After(deadline) {
					t.Fatalf("%d of %d appends queued", len(l.reqs), devices)
				}
				time.Sleep(time.Millisecond)
			}
			close(hold)
			if err := <-first; err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			want := uint64(len(tc.ops))
			for d := range devices {
				if errs[d] != nil || marks[d] != want {
					t.Errorf("tab-%d: mark %d, %v; want %d acknowledged", d, marks[d], errs[d], want)
				}
			}
			if got, want := l.Head(), uint64(1+devices*len(tc.ops)); got != want {
				t.Errorf("head %d, want %d", got, want)
			}
			if split := l.splits.Load() > 0; split != tc.split {
				t.Errorf("%d groups split, want split %v", l.splits.Load(), tc.split)
			}
		})
	}
}

// TestFailedCommitNeverReusesANumber: a commit can fail after Badger made
// some of its entries readable (its sync to disk failed). The writer
// numbers the next group after whatever is readable, so no global number
// is ever given to two ops. The partial commit is played here by a
// group's records writing an op under the next number in a transaction
// of their own, then failing.
func TestFailedCommitNeverReusesANumber(t *testing.T) {
	ctx := context.Background()
	l := open(t, t.TempDir())
	defer l.Close()
	if _, err := l.Append(ctx, "tab-a", ops(1)); err != nil {
		t.Fatal(err)
	}
	ghost := syncproto.Op{Device: "tab-b", Seq: 1, HLC: 1, Kind: "test.op", Global: 2}
	_, _, err := l.AppendBatch(ctx, "tab-b", ops(1), func(store.Tx) error {
		if err := l.db.Update(func(txn *badger.Txn) error {
			v, err := ghost.AppendJSON(nil)
			if err != nil {
				return err
			}
			return txn.Set(opKey(2), v)
		}); err != nil {
			return err
		}
		return errors.New("the disk refused the sync")
	})
	if err == nil {
		t.Fatal("the failed commit was acknowledged")
	}
	if l.Head() != 2 {
		t.Fatalf("head %d after a commit that left op 2 readable, want 2", l.Head())
	}
	if _, err := l.Append(ctx, "tab-c", ops(1)); err != nil {
		t.Fatal(err)
	}
	got, err := l.Since(FeedAll, 0, 10, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var devices []string
	for _, op := range got {
		devices = append(devices, fmt.Sprintf("%d:%s", op.Global, op.Device))
	}
	if want := []string{"1:tab-a", "2:tab-b", "3:tab-c"}; !slices.Equal(devices, want) {
		t.Fatalf("ops %v, want %v", devices, want)
	}
}
