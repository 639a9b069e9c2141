// Package embed turns an aligned face crop into a 128-value template with
// dlib's ResNet-29 face-recognition network (the weights published in the
// npm package @vladmandic/face-api), in pure Go, so the same code runs on
// the server, in tests and in the terminal's WebAssembly.
//
// The network is the one face-api's FaceRecognitionNet runs: a 7x7/2
// convolution and 3x3/2 max pool, four stages of residual blocks (32, 64,
// 128, 256 channels; a stage's first block halves the size, its shortcut
// an average pool padded with zero channels), a global mean and a fully
// connected 256x128 layer. Convolutions are im2col followed by a matrix
// product whose weights are packed once at load time; every buffer is
// allocated once by New, so Embed does not allocate.
package embed

import (
	"errors"
	"fmt"
	"runtime"
	"strings"

	"smartpass.city/smartpass/app/face/gemm"
	"smartpass.city/smartpass/app/face/model"
)

// Identity of the network, as model files and templates name it.
const (
	// ModelName names the network, its weight source and storage, and is
	// what every template made by this package carries.
	// "u8": the weights are kept as face-api publishes them, 8-bit
	// affine-quantised (those it publishes as float32, as float16), so a
	// template of the float16 file ("/f16") is of another model and is
	// refused: a change of model file re-enrolls.
	ModelName = "dlib-resnet29/face-api-1.7.15/u8"
	// SourceVersion is the version of @vladmandic/face-api whose weights
	// ModelName names.
	SourceVersion = "1.7.15"
	// InputSize is the side of the square RGB crop Embed takes.
	InputSize = 150
	// Dims is the length of an embedding.
	Dims = 128
)

// blocks lists the residual blocks in order; a name with "down" starts a
// stage and halves the spatial size.
var blocks = []string{
	"conv32_1", "conv32_2", "conv32_3",
	"conv64_down", "conv64_1", "conv64_2", "conv64_3",
	"conv128_down", "conv128_1", "conv128_2",
	"conv256_down", "conv256_1", "conv256_2", "conv256_down_out",
}

// ConvLayers returns the names of the network's convolution layers in
// the order they run; the model file's sections are named after them
// (see LayerWeights).
func ConvLayers() []string {
	out := []string{"conv32_down"}
	for _, b := range blocks {
		out = append(out, b+"/conv1", b+"/conv2")
	}
	return out
}

// ErrModel is returned by New for a file of another network.
var ErrModel = errors.New("embed: model file is not the expected network")

// Options tune a Net.
type Options struct {
	// Workers is how many goroutines share each matrix product; 0 or 1
	// runs on the caller's goroutine (the only choice in WebAssembly,
	// where Go has one thread).
	Workers int
}

// Net is a loaded network with its working memory. It is not safe for
// concurrent use; make one per goroutine.
type Net struct {
	mean  [3]float32
	scale float32
	stem  *conv
	res   []residual
	fc    []float32  // 256 x 128, row-major
	pool  *gemm.Pool // nil: single-threaded

	// Working memory, sized for the largest layer.
	bufs [4][]float32
	col  []float32
	avg  [256]float32
}

type residual struct {
	down         bool
	conv1, conv2 *conv
}

// New loads the network from a model file.
func New(f *model.File, opt Options) (*Net, error) {
	if f.Name != ModelName || f.Input != InputSize {
		return nil, fmt.Errorf("%w: file holds %s at %d px, this program runs %s at %d px", ErrModel, f.Name, f.Input, ModelName, InputSize)
	}
	n := &Net{mean: f.Mean, scale: f.Scale}
	var err error
	if n.stem, err = loadConv(f, "conv32_down", 2, false); err != nil {
		return nil, err
	}
	for _, name := range blocks {
		down := strings.Contains(name, "down")
		stride := 1
		if down {
			stride = 2
		}
		r := residual{down: down}
		if r.conv1, err = loadConv(f, name+"/conv1", stride, !down); err != nil {
			return nil, err
		}
		if r.conv2, err = loadConv(f, name+"/conv2", 1, true); err != nil {
			return nil, err
		}
		n.res = append(n.res, r)
	}
	fc, shape, err := f.Tensor("fc")
	if err != nil {
		return nil, fmt.Errorf("embed: %w", err)
	}
	if len(shape) != 2 || shape[0] != 256 || shape[1] != Dims {
		return nil, fmt.Errorf("%w: fc of shape %v", ErrModel, shape)
	}
	n.fc = fc
	// The stem's output (72x72x32) is the largest activation; its im2col
	// matrix (72*72 rows of 7*7*3) the largest patch matrix.
	for i := range n.bufs {
		n.bufs[i] = make([]float32, 72*72*32)
	}
	n.col = make([]float32, 72*72*7*7*3)
	if n.pool = gemm.NewPool(opt.Workers); n.pool != nil {
		runtime.AddCleanup(n, func(p *gemm.Pool) { p.Close() }, n.pool)
	}
	return n, nil
}

// Embed computes the embedding of an aligned crop. rgb holds
// InputSize x InputSize pixels, row by row, three values each (R, G, B on
// a 0–255 scale); dst receives Dims values, not normalised (package
// template normalises them).
func (n *Net) Embed(dst, rgb []float32) error {
	if len(rgb) != InputSize*InputSize*3 || len(dst) != Dims {
		return fmt.Errorf("embed: need %d input and %d output values, got %d and %d", InputSize*InputSize*3, Dims, len(rgb), len(dst))
	}
	in := tensor{h: InputSize, w: InputSize, c: 3, data: n.bufs[0][:len(rgb)]}
	inv := 1 / n.scale
	for i, v := range rgb {
		in.data[i] = (v - n.mean[i%3]) * inv
	}
	x := n.stem.apply(n, in, n.bufs[1], true)
	x = maxPool3x2(x, n.bufs[0])
	// x lives in bufs[at]; a block writes its two convolutions and its
	// output into the other three, and its output becomes x.
	at := 0
	for _, r := range n.res {
		o1, o2, o3 := (at+1)%4, (at+2)%4, (at+3)%4
		x = r.apply(n, x, n.bufs[o1], n.bufs[o2], n.bufs[o3])
		at = o3
	}
	// Global mean, then the fully connected layer.
	pixels := x.h * x.w
	avg := n.avg[:x.c]
	clear(avg)
	for p := range pixels {
		row := x.data[p*x.c : (p+1)*x.c]
		for c, v := range row {
			avg[c] += v
		}
	}
	for c := range avg {
		avg[c] /= float32(pixels)
	}
	clear(dst)
	for c, a := range avg {
		w := n.fc[c*Dims : (c+1)*Dims]
		for j, v := range w {
			dst[j] += a * v
		}
	}
	return nil
}

func (r residual) apply(n *Net, x tensor, b1, b2, b3 []float32) tensor {
	t := r.conv1.apply(n, x, b1, true)
	u := r.conv2.apply(n, t, b2, false)
	out := tensor{h: x.h, w: x.w, c: x.c, data: b3}
	if !r.down {
		out.data = out.data[:len(x.data)]
		for i, v := range u.data {
			out.data[i] = max(v+x.data[i], 0)
		}
		return out
	}
	// Shortcut of a stage's first block: 2x2 average pool of x, its
	// missing channels zero; the main path, if smaller than the pool, is
	// padded with zeros at the bottom and right (as face-api does).
	out.h, out.w, out.c = x.h/2, x.w/2, u.c
	out.data = out.data[:out.h*out.w*out.c]
	for oy := range out.h {
		for ox := range out.w {
			dst := out.data[(oy*out.w+ox)*out.c:][:out.c]
			if oy < u.h && ox < u.w {
				copy(dst, u.data[(oy*u.w+ox)*u.c:][:u.c])
			} else {
				clear(dst)
			}
			p00 := x.data[((2*oy)*x.w+2*ox)*x.c:][:x.c]
			p01 := x.data[((2*oy)*x.w+2*ox+1)*x.c:][:x.c]
			p10 := x.data[((2*oy+1)*x.w+2*ox)*x.c:][:x.c]
			p11 := x.data[((2*oy+1)*x.w+2*ox+1)*x.c:][:x.c]
			for c := range x.c {
				dst[c] += (p00[c] + p01[c] + p10[c] + p11[c]) * 0.25
			}
			for c := range dst {
				dst[c] = max(dst[c], 0)
			}
		}
	}
	return out
}

// maxPool3x2 is a 3x3 max pool with stride 2 and no padding.
func maxPool3x2(x tensor, buf []float32) tensor {
	out := tensor{h: (x.h-3)/2 + 1, w: (x.w-3)/2 + 1, c: x.c}
	out.data = buf[:out.h*out.w*out.c]
	for oy := range out.h {
		for ox := range out.w {
			dst := out.data[(oy*out.w+ox)*out.c:][:out.c]
			copy(dst, x.data[((2*oy)*x.w+2*ox)*x.c:][:x.c])
			for ky := range 3 {
				for kx := range 3 {
					src := x.data[((2*oy+ky)*x.w+2*ox+kx)*x.c:][:x.c]
					for c, v := range src {
						dst[c] = max(dst[c], v)
					}
				}
			}
		}
	}
	return out
}

// tensor is an activation, height x width x channels, channels fastest.
type tensor struct {
	h, w, c int
	data    []float32
}
