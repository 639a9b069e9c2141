package embed

import (
	"runtime"

	"smartpass.city/smartpass/app/face/gemm"
)

// workers runs row ranges of matrix products on goroutines that live as
// long as their Net, so a product sends work without allocating.
type workers struct {
	jobs chan job
	done chan struct{}
}

type job struct {
	w      *gemm.Matrix
	a, out []float32
	m      int
	relu   bool
	j0, j1 int
}

func startWorkers(n int) *workers {
	w := &workers{jobs: make(chan job), done: make(chan struct{}, n)}
	for range n {
		go func() {
			for j := range w.jobs {
				j.w.Columns(j.a, j.m, j.out, j.relu, j.j0, j.j1)
				w.done <- struct{}{}
			}
		}()
	}
	return w
}

// attachWorkers gives n helpers when opt asks for more than one thread;
// they stop when n is garbage collected.
func (n *Net) attachWorkers(count int) {
	if count <= 1 {
		return
	}
	n.pool = startWorkers(count - 1)
	runtime.AddCleanup(n, func(w *workers) { close(w.jobs) }, n.pool)
}

// product computes the m rows of a·W + bias into out, sharing the
// column panels between the caller and the workers. Splitting columns
// rather than rows keeps every thread busy in the last stage too, where
// a 3x3 activation has only nine rows.
func (n *Net) product(w *gemm.Matrix, a []float32, m int, out []float32, relu bool) {
	panels := w.Panels()
	if n.pool == nil {
		w.Columns(a, m, out, relu, 0, panels)
		return
	}
	parts := cap(n.pool.done) + 1
	per := (panels + parts - 1) / parts
	sent := 0
	for j0 := per; j0 < panels; j0 += per {
		n.pool.jobs <- job{w: w, a: a, m: m, out: out, relu: relu, j0: j0, j1: min(j0+per, panels)}
		sent++
	}
	w.Columns(a, m, out, relu, 0, min(per, panels))
	for range sent {
		<-n.pool.done
	}
}
