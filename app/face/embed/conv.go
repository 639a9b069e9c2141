package embed

import (
	"fmt"

	"smartpass.city/smartpass/app/face/model"
)

// conv is a k x k convolution with its scale layer folded in. Its
// weights are kept as the K x N matrix of the product (K = k*k*cin patch
// values, N = cout), packed in panels of four columns so the inner loop
// reads them sequentially.
type conv struct {
	k, stride, cin, cout int
	pad                  int // zeros before the first row and column ("same" for stride 1)
	panels               []float32
	bias                 []float32
}

// panel is the width of a column panel and the height of a row block of
// the matrix product.
const panel = 4

// LayerWeights are the tensors of one convolution layer as the model file
// names them after the layer: the convolution and the per-channel affine
// ("scale") layer after it, stored as published (8-bit where the source
// is) and folded together at load.
var LayerWeights = []string{"conv/filters", "conv/bias", "scale/weights", "scale/biases"}

func loadConv(f *model.File, name string, stride int, same bool) (*conv, error) {
	var ts [4][]float32
	var shape []int
	for i, w := range LayerWeights {
		v, sh, err := f.Tensor(name + "/" + w)
		if err != nil {
			return nil, fmt.Errorf("embed: %w", err)
		}
		ts[i] = v
		if i == 0 {
			shape = sh
		}
	}
	w, bias, s, t := ts[0], ts[1], ts[2], ts[3]
	if len(shape) != 4 || shape[0] != shape[1] || shape[3]%panel != 0 || len(w) != elements(shape) {
		return nil, fmt.Errorf("%w: layer %s of shape %v", ErrModel, name, shape)
	}
	c := &conv{k: shape[0], stride: stride, cin: shape[2], cout: shape[3]}
	if len(bias) != c.cout || len(s) != c.cout || len(t) != c.cout {
		return nil, fmt.Errorf("%w: layer %s: bias or scale not of %d channels", ErrModel, name, c.cout)
	}
	// (conv(x, W) + b)*s + t = conv(x, W*s) + (b*s + t), in float32 so the
	// fold loses nothing the network would notice.
	c.bias = make([]float32, c.cout)
	for o := range c.cout {
		c.bias[o] = bias[o]*s[o] + t[o]
	}
	if same {
		c.pad = (c.k - 1) / 2
	}
	kk := c.k * c.k * c.cin
	c.panels = make([]float32, kk*c.cout)
	for j := 0; j < c.cout/panel; j++ {
		for k := range kk {
			for q := range panel {
				o := j*panel + q
				c.panels[(j*kk+k)*panel+q] = w[k*c.cout+o] * s[o]
			}
		}
	}
	return c, nil
}

func elements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// outSize is the output side for an input side of n.
func (c *conv) outSize(n int) int {
	return (n+2*c.pad-c.k)/c.stride + 1
}

// apply runs the convolution on x into buf, with ReLU if relu.
func (c *conv) apply(n *Net, x tensor, buf []float32, relu bool) tensor {
	out := tensor{h: c.outSize(x.h), w: c.outSize(x.w), c: c.cout}
	out.data = buf[:out.h*out.w*out.c]
	kk := c.k * c.k * c.cin
	col := n.col[:out.h*out.w*kk]
	c.im2col(x, out.h, out.w, col)
	n.product(c, col, out.h*out.w, out.data, relu)
	return out
}

// im2col writes, for each output pixel, the k*k*cin input values its
// filter covers (zeros outside the image) as one row of col.
func (c *conv) im2col(x tensor, oh, ow int, col []float32) {
	kk := c.k * c.k * c.cin
	for oy := range oh {
		for ox := range ow {
			row := col[(oy*ow+ox)*kk:][:kk]
			for ky := range c.k {
				iy := oy*c.stride + ky - c.pad
				for kx := range c.k {
					ix := ox*c.stride + kx - c.pad
					dst := row[(ky*c.k+kx)*c.cin:][:c.cin]
					if iy < 0 || iy >= x.h || ix < 0 || ix >= x.w {
						clear(dst)
						continue
					}
					copy(dst, x.data[(iy*x.w+ix)*x.c:][:c.cin])
				}
			}
		}
	}
}

// columns computes the column panels [j0, j1) of a·W + bias for the m
// rows of a, each a patch of length K. The kernel keeps a 2x4 block of sums in
// registers: on amd64 Go has 15 float registers, and a 4x4 block spilled
// to the stack and ran slower.
func (c *conv) columns(a []float32, m int, out []float32, relu bool, j0, j1 int) {
	kk := c.k * c.k * c.cin
	n := c.cout
	i := 0
	for ; i+2 <= m; i += 2 {
		a0 := a[i*kk : (i+1)*kk]
		a1 := a[(i+1)*kk : (i+2)*kk][:len(a0)]
		for j := j0; j < j1; j++ {
			p := c.panels[j*kk*panel : (j+1)*kk*panel][:len(a0)*panel]
			b := c.bias[j*panel : j*panel+panel]
			c00, c01, c02, c03 := b[0], b[1], b[2], b[3]
			c10, c11, c12, c13 := c00, c01, c02, c03
			for k, x0 := range a0 {
				w := p[k*panel : k*panel+panel : k*panel+panel]
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
			store(out[i*n+j*panel:][:panel], c00, c01, c02, c03, relu)
			store(out[(i+1)*n+j*panel:][:panel], c10, c11, c12, c13, relu)
		}
	}
	// The last row when the count is odd.
	for ; i < m; i++ {
		a0 := a[i*kk : (i+1)*kk]
		for j := j0; j < j1; j++ {
			p := c.panels[j*kk*panel : (j+1)*kk*panel][:len(a0)*panel]
			b := c.bias[j*panel : j*panel+panel]
			c00, c01, c02, c03 := b[0], b[1], b[2], b[3]
			for k, x0 := range a0 {
				w := p[k*panel : k*panel+panel : k*panel+panel]
				c00 += x0 * w[0]
				c01 += x0 * w[1]
				c02 += x0 * w[2]
				c03 += x0 * w[3]
			}
			store(out[i*n+j*panel:][:panel], c00, c01, c02, c03, relu)
		}
	}
}

func store(dst []float32, v0, v1, v2, v3 float32, relu bool) {
	if relu {
		v0, v1, v2, v3 = max(v0, 0), max(v1, 0), max(v2, 0), max(v3, 0)
	}
	dst[0], dst[1], dst[2], dst[3] = v0, v1, v2, v3
}
