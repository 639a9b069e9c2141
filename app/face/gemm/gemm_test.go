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

// TestDepthwise compares the depthwise convolution with its definition
// over a zero-padded image, for padding on both sides, stride 2 and no
// bias.
func TestDepthwise(t *testing.T) {
	for _, c := range []struct {
		name                     string
		h, w, ch, k, stride, pad int
		bias                     bool
	}{
		{"same", 4, 5, 3, 3, 1, 1, true},
		{"stride 2 no bias", 6, 5, 2, 3, 2, 1, false},
		{"whole image", 3, 3, 4, 3, 1, 0, true},
	} {
		oh := (c.h+2*c.pad-c.k)/c.stride + 1
		ow := (c.w+2*c.pad-c.k)/c.stride + 1
		x := make([]float32, c.h*c.w*c.ch)
		for i := range x {
			x[i] = float32(math.Sin(float64(i) + 0.5))
		}
		wts := make([]float32, c.k*c.k*c.ch)
		for i := range wts {
			wts[i] = float32(math.Cos(float64(2 * i)))
		}
		var bias []float32
		if c.bias {
			bias = make([]float32, c.ch)
			for i := range bias {
				bias[i] = float32(i) - 1
			}
		}
		at := func(y, xx, ch int) float32 { // the padded image
			if y < 0 || y >= c.h || xx < 0 || xx >= c.w {
				return 0
			}
			return x[(y*c.w+xx)*c.ch+ch]
		}
		out := make([]float32, oh*ow*c.ch)
		for i := range out {
			out[i] = float32(math.NaN()) // what a missing clear would leave
		}
		Depthwise(x, c.h, c.w, c.ch, c.k, c.stride, c.pad, oh, ow, wts, bias, out)
		for oy := range oh {
			for ox := range ow {
				for ch := range c.ch {
					var want float32
					if bias != nil {
						want = bias[ch]
					}
					for ky := range c.k {
						for kx := range c.k {
							want += at(oy*c.stride+ky-c.pad, ox*c.stride+kx-c.pad, ch) * wts[(ky*c.k+kx)*c.ch+ch]
						}
					}
					if d := out[(oy*ow+ox)*c.ch+ch] - want; d > 1e-5 || d < -1e-5 {
						t.Errorf("%s: (%d, %d) channel %d = %g, want %g", c.name, oy, ox, ch, out[(oy*ow+ox)*c.ch+ch], want)
					}
				}
			}
		}
	}
}
