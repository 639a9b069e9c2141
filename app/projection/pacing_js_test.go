//go:build js && wasm

package projection

import (
	"context"
	"math"
	"runtime"
	"testing"
	"time"
)

// frames runs a screen's frame loop (a frame every 4 ms of waiting, as
// the identify screen's camera loop waits for the next video frame),
// reading the projection each frame, until stop; it returns how many
// frames ran and the longest time between two.
func frames(p *Projection, stop <-chan struct{}) (n int, longest time.Duration) {
	last := time.Now()
	for {
		select {
		case <-stop:
			return n, longest
		default:
		}
		time.Sleep(4 * time.Millisecond)
		p.Current()
		now := time.Now()
		longest = max(longest, now.Sub(last))
		last, n = now, n+1
	}
}

// paced measures a screen's frames while ops out of order arrive at a
// terminal holding held ops: the longest gap between frames, and the
// longest fold.
func paced(t *testing.T, held int, opt Options) (gap time.Duration, n int, folds uint64) {
	runtime.GC() // each measure starts from the same heap
	m := heldLog(held)
	p := NewPaced(t.Context(), m, opt)
	before := settled(t, p)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		n, gap = frames(p, stop)
		close(done)
	}()
	for i := range 5 {
		time.Sleep(30 * time.Millisecond)
		m.store(late(i))
	}
	v := waitFolded(t, p, m)
	close(stop)
	<-done
	return gap, n, v.Folds - before.Folds
}

// waitFolded waits, without reading the projection itself (the frame
// loop does), until its state is the fold of the whole log.
func waitFolded(t *testing.T, p *Projection, m *memLog) View {
	t.Helper()
	all, _ := m.Ops(context.Background())
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		p.mu.Lock()
		v, busy, pending := View{Ops: p.ops, State: p.st, Folds: p.folds}, p.refolding, len(p.pending)
		p.mu.Unlock()
		if !busy && pending == 0 && len(v.Ops) == len(all) {
			return v
		}
	}
	t.Fatal("the fold never caught up")
	return View{}
}

// TestFramesWhileOpsArrive: a terminal's frame loop keeps its frames
// while ops out of order arrive and the state is folded again. It runs
// in a browser (make test-wasm), where every goroutine shares the page's
// one thread, so a fold that never pauses holds every frame for as long
// as it runs; the paced fold gives the frames their turn every few
// milliseconds. (Natively a fold runs on another core: nothing to show.)
// The unpaced figure is logged beside it, for the README.
func TestFramesWhileOpsArrive(t *testing.T) {
	held := 20000
	if testing.Short() {
		held = 5000
	}
	gap, n, folds := paced(t, held, Options{})
	t.Logf("paced: %d ops held, %d folds again, %d frames, longest gap between frames %v", held, folds, n, gap.Round(time.Millisecond))
	if folds == 0 {
		t.Fatal("no fold again: the test measured nothing")
	}
	unpaced, _, _ := paced(t, held, Options{Slice: math.MaxInt64, Pause: func() {}})
	t.Logf("unpaced: longest gap between frames %v", unpaced.Round(time.Millisecond))
	// Both measured on the same machine at the same load: a fold that
	// holds the frames shows as a gap of about its whole length.
	if gap > unpaced/2 {
		t.Errorf("a frame waited %v while ops arrived, against %v with folds that never pause", gap.Round(time.Millisecond), unpaced.Round(time.Millisecond))
	}
}
