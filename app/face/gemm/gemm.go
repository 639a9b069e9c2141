// Package gemm is the matrix product the face networks spend their time
// in: rows of input patches times a weight matrix packed once at load,
// plus a bias, with an optional ReLU. A convolution is im2col followed by
// this product; a 1x1 (pointwise) convolution is this product alone.
//
// The weights are kept as the K x N matrix (K inputs per row, N outputs)
// packed in panels of four columns, so the inner loop reads them
// sequentially, and the kernel keeps a 2x4 block of sums in registers:
// on amd64 Go has 15 float registers, and a 4x4 block spilled to the
// stack and ran slower. Go's WebAssembly has no SIMD; the same blocking
// still saves the loads and stores of the sums, and in a browser an
// Accelerator (wasm/simdgemm) runs the product as a SIMD kernel instead.
package gemm

import "fmt"

// Panel is the width of a column panel: N must be a multiple of it.
const Panel = 4

// Matrix is a packed weight matrix with its bias.
type Matrix struct {
	K, N   int
	panels []float32
	bias   []float32
}

// Pack packs w, K rows of N values (row-major), each column j scaled by
// scale[j] when scale is not nil (a folded per-channel affine layer).
func Pack(w []float32, k, n int, scale, bias []float32) (*Matrix, error) {
	if n%Panel != 0 || len(w) != k*n || len(bias) != n || (scale != nil && len(scale) != n) {
		return nil, fmt.Errorf("gemm: %d weights, %d biases for %d x %d (a multiple of %d columns)", len(w), len(bias), k, n, Panel)
	}
	m := &Matrix{K: k, N: n, panels: make([]float32, k*n), bias: bias}
	for j := 0; j < n/Panel; j++ {
		for r := range k {
			for q := range Panel {
				o := j*Panel + q
				v := w[r*n+o]
				if scale != nil {
					v *= scale[o]
				}
				m.panels[(j*k+r)*Panel+q] = v
			}
		}
	}
	return m, nil
}

// Accelerator computes a product somewhere faster than this package's
// Go loops: in a browser, a WebAssembly SIMD kernel beside Go's module.
// It must give the same values as the Go loops (the same sums in the same
// order), so a terminal's templates do not depend on which ran.
type Accelerator interface {
	// Columns computes what Matrix.Columns computes, or reports false
	// having written nothing, and the Go loops run instead.
	Columns(m *Matrix, a []float32, rows int, out []float32, relu bool, j0, j1 int) bool
	// Depthwise computes what the function Depthwise computes, or
	// reports false having written nothing.
	Depthwise(x []float32, h, w, c, k, stride, pad, oh, ow int, weights, bias, out []float32) bool
}

// accel is the accelerator every product tries first; nil: none.
var accel Accelerator

// Use makes every product try acc first; nil goes back to the Go loops.
// A program calls it once at start, before any network runs: products
// read it without a lock.
func Use(acc Accelerator) { accel = acc }

// Accelerated reports whether an accelerator computes the products: one
// is in use and has not failed (an accelerator with an Err method that
// returns an error has handed every product back to the Go loops). The
// staff's overlay says which computed the frames.
func Accelerated() bool {
	if accel == nil {
		return false
	}
	if f, ok := accel.(interface{ Err() error }); ok && f.Err() != nil {
		return false
	}
	return true
}

// Packed returns the weights as packed (panels of four columns, each
// K values of its four columns in turn) and the bias, for an Accelerator
// that copies them once. They must not be modified.
func (m *Matrix) Packed() (panels, bias []float32) { return m.panels, m.bias }

// Panels is how many column panels the matrix has: Columns splits its
// work by them.
func (m *Matrix) Panels() int { return m.N / Panel }

// Columns computes the column panels [j0, j1) of a·W + bias for the rows
// of a, each K values, into out (rows of N), with ReLU if relu.
func (m *Matrix) Columns(a []float32, rows int, out []float32, relu bool, j0, j1 int) {
	if accel != nil && accel.Columns(m, a, rows, out, relu, j0, j1) {
		return
	}
	m.GoColumns(a, rows, out, relu, j0, j1)
}

// GoColumns is Columns in Go's own loops, whatever accelerator is in use:
// the reference an accelerator is tested against.
func (m *Matrix) GoColumns(a []float32, rows int, out []float32, relu bool, j0, j1 int) {
	kk, n := m.K, m.N
	i := 0
	for ; i+2 <= rows; i += 2 {
		a0 := a[i*kk : (i+1)*kk]
		a1 := a[(i+1)*kk : (i+2)*kk][:len(a0)]
		for j := j0; j < j1; j++ {
			p := m.panels[j*kk*Panel : (j+1)*kk*Panel][:len(a0)*Panel]
			b := m.bias[j*Panel : j*Panel+Panel]
			c00, c01, c02, c03 := b[0], b[1], b[2], b[3]
			c10, c11, c12, c13 := c00, c01, c02, c03
			for k, x0 := range a0 {
				w := p[k*Panel : k*Panel+Panel : k*Panel+Panel]
				w0, w1, w2, w3 := w[0], w[1], w[2], w[3]
				x1 := a1[k]
				c00 += x0 * w0
				c01 += x0 * w1
				c02 += x0 * w2
				c03 += x0 * w3
				c10 += x1 * w0
				c11 += x1 * w1
				c12 += x1 * w2
				c13 += x1 * w3
			}
			store(out[i*n+j*Panel:][:Panel], c00, c01, c02, c03, relu)
			store(out[(i+1)*n+j*Panel:][:Panel], c10, c11, c12, c13, relu)
		}
	}
	// The last row when the count is odd.
	for ; i < rows; i++ {
		a0 := a[i*kk : (i+1)*kk]
		for j := j0; j < j1; j++ {
			p := m.panels[j*kk*Panel : (j+1)*kk*Panel][:len(a0)*Panel]
			b := m.bias[j*Panel : j*Panel+Panel]
			c00, c01, c02, c03 := b[0], b[1], b[2], b[3]
			for k, x0 := range a0 {
				w := p[k*Panel : k*Panel+Panel : k*Panel+Panel]
				c00 += x0 * w[0]
				c01 += x0 * w[1]
				c02 += x0 * w[2]
				c03 += x0 * w[3]
			}
			store(out[i*n+j*Panel:][:Panel], c00, c01, c02, c03, relu)
		}
	}
}

func store(dst []float32, v0, v1, v2, v3 float32, relu bool) {
	if relu {
		v0, v1, v2, v3 = max(v0, 0), max(v1, 0), max(v2, 0), max(v3, 0)
	}
	dst[0], dst[1], dst[2], dst[3] = v0, v1, v2, v3
}

// Im2col writes, for each output pixel of a k x k convolution over x
// (h x w pixels of c channels, channels fastest), the k*k*c input values
// its filter covers as one row of col, zeros outside the image: the
// rows the product multiplies by a matrix whose row (ky*k+kx)*c+ci holds
// the filters' weights for that tap and channel. pad zeros lie before
// the first row and column; the output is oh x ow pixels.
func Im2col(x []float32, h, w, c, k, stride, pad, oh, ow int, col []float32) {
	kk := k * k * c
	for oy := range oh {
		for ox := range ow {
			row := col[(oy*ow+ox)*kk:][:kk]
			for ky := range k {
				iy := oy*stride + ky - pad
				for kx := range k {
					ix := ox*stride + kx - pad
					dst := row[(ky*k+kx)*c:][:c]
					if iy < 0 || iy >= h || ix < 0 || ix >= w {
						clear(dst)
						continue
					}
					copy(dst, x[(iy*w+ix)*c:][:c])
				}
			}
		}
	}
}
