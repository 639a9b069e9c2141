package embed

import (
	"fmt"

	"smartpass.city/smartpass/app/face/gemm"
	"smartpass.city/smartpass/app/face/model"
)

// conv is a k x k convolution with its scale layer folded in; its
// weights are the K x N matrix of the product (K = k*k*cin patch values,
// N = cout), packed.
type conv struct {
	k, stride, cin, cout int
	pad                  int // zeros before the first row and column ("same" for stride 1)
	w                    *gemm.Matrix
}

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
	if len(shape) != 4 || shape[0] != shape[1] {
		return nil, fmt.Errorf("%w: layer %s of shape %v", ErrModel, name, shape)
	}
	c := &conv{k: shape[0], stride: stride, cin: shape[2], cout: shape[3]}
	if len(bias) != c.cout || len(s) != c.cout || len(t) != c.cout {
		return nil, fmt.Errorf("%w: layer %s: bias or scale not of %d channels", ErrModel, name, c.cout)
	}
	// (conv(x, W) + b)*s + t = conv(x, W*s) + (b*s + t), in float32 so the
	// fold loses nothing the network would notice.
	folded := make([]float32, c.cout)
	for o := range c.cout {
		folded[o] = bias[o]*s[o] + t[o]
	}
	if same {
		c.pad = (c.k - 1) / 2
	}
	var err error
	if c.w, err = gemm.Pack(w, c.k*c.k*c.cin, c.cout, s, folded); err != nil {
		return nil, fmt.Errorf("%w: layer %s: %w", ErrModel, name, err)
	}
	return c, nil
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
	gemm.Im2col(x.data, x.h, x.w, x.c, c.k, c.stride, c.pad, out.h, out.w, col)
	n.pool.Product(c.w, col, out.h*out.w, out.data, relu)
	return out
}
