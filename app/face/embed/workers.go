package embed

import "runtime"

// workers runs row ranges of matrix products on goroutines that live as
// long as their Net, so a product sends work without allocating.
type workers struct {
	jobs chan job
	done chan struct{}
}

type job struct {
	c      *conv
	a, out []float32
	relu   bool
	r0, r1 int
}

func startWorkers(n int) *workers {
	w := &workers{jobs: make(chan job), done: make(chan struct{}, n)}
	for range n {
		go func() {
			for j := range w.jobs {
				j.c.rows(j.a, j.out, j.relu, j.r0, j.r1)
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

// product computes the m rows of a·W + bias into out, sharing the rows
// between the caller and the workers.
func (n *Net) product(c *conv, a []float32, m int, out []float32, relu bool) {
	if n.pool == nil || m < 8*panel {
		c.rows(a, out, relu, 0, m)
		return
	}
	parts := cap(n.pool.done) + 1
	per := (m/parts + panel - 1) / panel * panel
	sent := 0
	for r0 := per; r0 < m; r0 += per {
		n.pool.jobs <- job{c: c, a: a, out: out, relu: relu, r0: r0, r1: min(r0+per, m)}
		sent++
	}
	c.rows(a, out, relu, 0, min(per, m))
	for range sent {
		<-n.pool.done
	}
}
