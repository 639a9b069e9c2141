package gemm

import (
	"math"
	"testing"
)

// TestColumns compares the packed product with the plain definition, for
// odd and even row counts, with and without ReLU and a column scale, and
// for a panel range split in two as the embedding's workers split it.
func TestColumns(t *testing.T) {
	const k, n = 5, 8
	w := make([]float32, k*n)
	for i := range w {
		w[i] = float32(math.Sin(float64(i)))
	}
	bias := []float32{0.5, -1, 0, 2, 1, -2, 0.25, 3}
	scale := []float32{2, 1, -1, 0.5, 1, 1, 3, -2}
	for _, c := range []struct {
		name  string
		rows  int
		relu  bool
		scale []float32
		split bool
	}{
		{"one row", 1, false, nil, false},
		{"odd rows", 3, false, nil, false},
		{"even rows relu", 4, true, nil, false},
		{"scaled", 3, false, scale, false},
		{"split panels", 5, true, scale, true},
	} {
		m, err := Pack(w, k, n, c.scale, bias)
		if err != nil {
			t.Fatal(err)
		}
		a := make([]float32, c.rows*k)
		for i := range a {
			a[i] = float32(math.Cos(float64(3 * i)))
		}
		out := make([]float32, c.rows*n)
		if c.split {
			m.Columns(a, c.rows, out, c.relu, 0, 1)
			m.Columns(a, c.rows, out, c.relu, 1, m.Panels())
		} else {
			m.Columns(a, c.rows, out, c.relu, 0, m.Panels())
		}
		for r := range c.rows {
			for j := range n {
				want := bias[j]
				for i := range k {
					v := w[i*n+j]
					if c.scale != nil {
						v *= c.scale[j]
					}
					want += a[r*k+i] * v
				}
				if c.relu {
					want = max(want, 0)
				}
				if d := out[r*n+j] - want; d > 1e-5 || d < -1e-5 {
					t.Errorf("%s: [%d][%d] = %g, want %g", c.name, r, j, out[r*n+j], want)
				}
			}
		}
	}
	if _, err := Pack(w, k, n-1, nil, bias); err == nil {
		t.Error("columns not a multiple of the panel accepted")
	}
	if _, err := Pack(w, k, n, nil, bias[:3]); err == nil {
		t.Error("short bias accepted")
	}
}

// TestPool checks that a product shared by 1 to 4 threads equals the
// caller's own, for matrices of fewer panels than threads too.
func TestPool(t *testing.T) {
	for _, n := range []int{4, 8, 20} {
		const k, rows = 7, 5
		w := make([]float32, k*n)
		for i := range w {
			w[i] = float32(math.Cos(float64(i)))
		}
		m, err := Pack(w, k, n, nil, make([]float32, n))
		if err != nil {
			t.Fatal(err)
		}
		a := make([]float32, rows*k)
		for i := range a {
			a[i] = float32(i%5) - 2
		}
		want := make([]float32, rows*n)
		m.Columns(a, rows, want, true, 0, m.Panels())
		for threads := 1; threads <= 4; threads++ {
			p := NewPool(threads)
			if (p == nil) != (threads == 1) {
				t.Fatalf("%d threads: pool %v", threads, p)
			}
			got := make([]float32, rows*n)
			p.Product(m, a, rows, got, true)
			p.Close()
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%d columns, %d threads: value %d is %g, want %g", n, threads, i, got[i], want[i])
				}
			}
		}
	}
}
