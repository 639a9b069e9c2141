package projection

import (
	"context"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"smartpass.city/smartpass/app/state"
	"smartpass.city/smartpass/syncproto"
)

// heldLog is a log of n check-ins in order, from HLC 1,000,000 up.
func heldLog(n int) *memLog {
	m := &memLog{ops: make(map[opKey]syncproto.Op, n)}
	for i := range n {
		op := checkIn("tab", uint64(i+1), uint64(1_000_000+i), "ア")
		m.ops[opKey{op.Device, op.Seq}] = op
	}
	return m
}

// late is the i-th op of another device that was offline: older than
// everything held, so it cannot be applied in order.
func late(i int) syncproto.Op { return checkIn("late", uint64(i+1), uint64(1000+i), "イ") }

// TestOutOfOrderCoalesced: while a fold again runs, the screen's reads
// (Current, on every frame) return at once with the state before it, and
// the out-of-order ops that arrive meanwhile are folded again together,
// once, when it is done: one fold more for the burst, not one each.
func TestOutOfOrderCoalesced(t *testing.T) {
	m := heldLog(2000)
	var hold atomic.Bool
	inFold, release := make(chan struct{}, 1), make(chan struct{})
	p := NewPaced(t.Context(), m, Options{Slice: time.Nanosecond, Pause: func() {
		if hold.Load() {
			select {
			case inFold <- struct{}{}:
			default:
			}
			<-release
		}
	}})
	before := settled(t, p)
	hold.Store(true)
	m.store(late(0))
	p.Current() // the frame that finds it out of order
	<-inFold
	slowest := time.Duration(0)
	for i := 1; i <= 10; i++ {
		m.store(late(i))
		start := time.Now()
		v, _ := p.Current()
		slowest = max(slowest, time.Since(start))
		if v.State != before.State || v.Folds != before.Folds {
			t.Fatal("the state changed while the fold ran")
		}
	}
	if slowest > 5*time.Millisecond {
		t.Errorf("a read during the fold took %v", slowest)
	}
	hold.Store(false)
	close(release)
	v := settled(t, p)
	if got := v.Folds - before.Folds; got != 2 {
		t.Errorf("%d folds for 11 ops out of order, want 2 (the first, then the rest together)", got)
	}
	all, _ := m.Ops(context.Background())
	if !reflect.DeepEqual(v.State, state.Fold(all)) {
		t.Error("the state is not the fold of the log")
	}
}
