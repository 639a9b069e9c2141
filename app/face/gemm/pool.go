package gemm

// Pool runs column panels of matrix products on goroutines that live as
// long as the network that owns the pool, so a product sends work without
// allocating. A nil *Pool runs every product on the caller's goroutine
// (the only choice in WebAssembly, where Go has one thread).
type Pool struct {
	jobs chan job
	done chan struct{}
}

type job struct {
	w      *Matrix
	a, out []float32
	m      int
	relu   bool
	j0, j1 int
}

// NewPool returns a pool for products shared by threads goroutines (the
// caller's and threads-1 helpers), or nil for threads of 1 or less. Close
// stops the helpers; a network does that from a cleanup when it is
// garbage collected.
func NewPool(threads int) *Pool {
	if threads <= 1 {
		return nil
	}
	n := threads - 1
	p := &Pool{jobs: make(chan job), done: make(chan struct{}, n)}
	for range n {
		go func() {
			for j := range p.jobs {
				j.w.Columns(j.a, j.m, j.out, j.relu, j.j0, j.j1)
				p.done <- struct{}{}
			}
		}()
	}
	return p
}

// Close stops the helpers.
func (p *Pool) Close() {
	if p != nil {
		close(p.jobs)
	}
}

// Product computes the m rows of a·W + bias into out, sharing the column
// panels between the caller and the helpers. Splitting columns rather
// than rows keeps every thread busy in a network's last stages too, where
// an activation may have only a few rows.
func (p *Pool) Product(w *Matrix, a []float32, m int, out []float32, relu bool) {
	panels := w.Panels()
	if p == nil {
		w.Columns(a, m, out, relu, 0, panels)
		return
	}
	parts := cap(p.done) + 1
	per := (panels + parts - 1) / parts
	sent := 0
	for j0 := per; j0 < panels; j0 += per {
		p.jobs <- job{w: w, a: a, m: m, out: out, relu: relu, j0: j0, j1: min(j0+per, panels)}
		sent++
	}
	w.Columns(a, m, out, relu, 0, min(per, panels))
	for range sent {
		<-p.done
	}
}
