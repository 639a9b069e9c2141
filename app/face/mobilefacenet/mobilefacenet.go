// Package mobilefacenet turns an aligned 112x112 face crop into a 512-value
// template with the MobileFaceNet-style network of the npm package
// faceplugin-face-recognition-js (model/fr_feature.onnx), in pure Go, so
// the same code runs on the server, in tests and in the terminal's
// WebAssembly.
//
// It is the default network of `make models`; package embed's dlib
// ResNet is the build-time alternative (see README, "Choosing the face
// network"): a model file holds one network or
// the other, and its name, carried by every template, keeps the two from
// ever being compared.
//
// The network is a graph of four operators (convolution, dense or
// depthwise, with its batch norm folded in; PRelu; residual Add; the final
// reshape), which the model file describes (Graph) and New compiles into
// steps over buffers it allocates once, so Embed does not allocate.
// Activations are height x width x channels, channels fastest; dense
// convolutions are im2col and a product by package gemm, 1x1 ones the
// product alone.
package mobilefacenet

import (
	"errors"
	"fmt"
	"runtime"

	"smartpass.city/smartpass/app/face/gemm"
	"smartpass.city/smartpass/app/face/model"
)

// Identity of the network, as model files and templates name it.
const (
	// ModelName names the network, its weight source and storage; every
	// template made by this package carries it. "f16": the weights,
	// published float32, stored float16 (8 bits per tensor moved the
	// output too far: see modelconv).
	ModelName = "mobilefacenet/faceplugin-face-recognition-js-0.0.1/f16"
	// SourceVersion is the version of the npm package whose weights
	// ModelName names.
	SourceVersion = "0.0.1"
	// InputSize is the side of the square RGB crop Embed takes.
	InputSize = 112
	// Dims is the length of an embedding.
	Dims = 512
	// Mean and Scale prepare the input as the package's JavaScript does:
	// (p - 127) / 128 for each of R, G, B.
	Mean  = 127
	Scale = 128
	// GraphSection is the model file's raw section holding the Graph as
	// JSON; the weight sections it names follow it in the file.
	GraphSection = "mobilefacenet/graph"
	// Prefix begins the name of each of the network's weight sections.
	Prefix = "mobilefacenet/"
)

// ErrModel is returned by New for a file of another network or a graph
// this package cannot run.
var ErrModel = errors.New("mobilefacenet: model file is not the expected network")

// Net is a compiled network with its working memory. It is not safe for
// concurrent use; make one per goroutine.
type Net struct {
	mean  [3]float32
	scale float32
	steps []step
	// bufs are the activation buffers; a value lives in one from the
	// step that writes it to its last reader.
	bufs [][]float32
	col  []float32
	in   value      // where the input is written
	out  value      // the 1x1xDims result
	pool *gemm.Pool // nil: single-threaded
}

// value is an activation: its shape and buffer.
type value struct {
	h, w, c int
	buf     int
}

func (v value) size() int { return v.h * v.w * v.c }

// step is one compiled operator.
type step struct {
	op      string
	a, b    value // inputs (b for Add)
	out     value
	k       int
	stride  int
	pad     int
	w       *gemm.Matrix // dense convolution
	dw      []float32    // depthwise filters, k x k x c
	bias    []float32    // depthwise bias, or PRelu slopes
	needCol bool         // dense convolution wider than 1x1
}

// New compiles the network of a model file. workers is how many
// goroutines share each matrix product (as embed.Options.Workers); 0 or 1
// runs on the caller's goroutine.
func New(f *model.File, workers int) (*Net, error) {
	if f.Name != ModelName || f.Input != InputSize {
		return nil, fmt.Errorf("%w: file holds %s at %d px, this program runs %s at %d px", ErrModel, f.Name, f.Input, ModelName, InputSize)
	}
	raw, err := f.Raw(GraphSection)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	g, err := decodeGraph(raw)
	if err != nil {
		return nil, err
	}
	c := compiler{f: f, shapes: map[string]value{}, last: map[string]int{}}
	n, err := c.compile(g)
	if err != nil {
		return nil, err
	}
	if n.pool = gemm.NewPool(workers); n.pool != nil {
		runtime.AddCleanup(n, func(p *gemm.Pool) { p.Close() }, n.pool)
	}
	return n, nil
}

// compiler turns a Graph into steps, checking every shape.
type compiler struct {
	f      *model.File
	shapes map[string]value
	last   map[string]int // a value's last reader
	free   []int          // buffers no live value holds
	nbufs  int
	maxAct int
	maxCol int
}

func (c *compiler) compile(g Graph) (*Net, error) {
	if len(g.Nodes) == 0 {
		return nil, fmt.Errorf("%w: empty graph", ErrModel)
	}
	for i, n := range g.Nodes {
		for _, in := range n.In {
			c.last[in] = i
		}
	}
	n := &Net{mean: c.f.Mean, scale: c.f.Scale}
	n.in = value{h: InputSize, w: InputSize, c: 3, buf: c.alloc(InputSize * InputSize * 3)}
	c.shapes[g.Input] = n.in
	for i, node := range g.Nodes {
		s, err := c.node(node)
		if err != nil {
			return nil, fmt.Errorf("%w: node %d (%s → %s): %w", ErrModel, i, node.Op, node.Out, err)
		}
		// Release the inputs this node reads for the last time before
		// choosing its output's buffer only when the operator reads each
		// input value at the position it writes (element-wise); a
		// convolution reads neighbours, so its output needs a fresh one.
		elementwise := node.Op == OpPRelu || node.Op == OpAdd
		if elementwise {
			c.release(node, i)
		}
		s.out.buf = c.alloc(s.out.size())
		if !elementwise {
			c.release(node, i)
		}
		if _, dup := c.shapes[node.Out]; dup {
			return nil, fmt.Errorf("%w: value %q written twice", ErrModel, node.Out)
		}
		c.shapes[node.Out] = s.out
		n.steps = append(n.steps, s)
	}
	last := n.steps[len(n.steps)-1]
	if g.Nodes[len(g.Nodes)-1].Out != g.Output || last.op != OpFlatten || last.out.c != Dims {
		return nil, fmt.Errorf("%w: the graph does not end in the %d-value output", ErrModel, Dims)
	}
	n.out = last.out
	for range c.nbufs {
		n.bufs = append(n.bufs, make([]float32, c.maxAct))
	}
	n.col = make([]float32, c.maxCol)
	return n, nil
}

// alloc returns a free buffer for a value of size floats.
func (c *compiler) alloc(size int) int {
	c.maxAct = max(c.maxAct, size)
	if k := len(c.free); k > 0 {
		b := c.free[k-1]
		c.free = c.free[:k-1]
		return b
	}
	c.nbufs++
	return c.nbufs - 1
}

// release frees the buffers of the values node i reads last.
func (c *compiler) release(node Node, i int) {
	for j, in := range node.In {
		if c.last[in] != i || (j == 1 && node.In[0] == in) {
			continue
		}
		c.free = append(c.free, c.shapes[in].buf)
	}
}

func (c *compiler) input(name string) (value, error) {
	v, ok := c.shapes[name]
	if !ok {
		return value{}, fmt.Errorf("value %q read before it is written", name)
	}
	return v, nil
}

func (c *compiler) tensor(name string, want ...int) ([]float32, error) {
	v, shape, err := c.f.Tensor(name)
	if err != nil {
		return nil, err
	}
	if fmt.Sprint(shape) != fmt.Sprint(want) {
		return nil, fmt.Errorf("%s of shape %v, want %v", name, shape, want)
	}
	return v, nil
}

func (c *compiler) node(n Node) (step, error) {
	want := 1
	if n.Op == OpAdd {
		want = 2
	}
	if len(n.In) != want {
		return step{}, fmt.Errorf("%d inputs, want %d", len(n.In), want)
	}
	a, err := c.input(n.In[0])
	if err != nil {
		return step{}, err
	}
	s := step{op: n.Op, a: a, out: a}
	switch n.Op {
	case OpConv:
		return c.conv(n, s)
	case OpPRelu:
		s.bias, err = c.tensor(n.Weights, a.c, 1, 1)
		return s, err
	case OpAdd:
		if s.b, err = c.input(n.In[1]); err != nil {
			return step{}, err
		}
		if s.b.h != a.h || s.b.w != a.w || s.b.c != a.c {
			return step{}, fmt.Errorf("adds %dx%dx%d to %dx%dx%d", a.h, a.w, a.c, s.b.h, s.b.w, s.b.c)
		}
		return s, nil
	case OpFlatten:
		if a.h != 1 || a.w != 1 {
			return step{}, fmt.Errorf("flattens %dx%dx%d, not one pixel", a.h, a.w, a.c)
		}
		return s, nil
	}
	return step{}, fmt.Errorf("operator %q not supported", n.Op)
}

func (c *compiler) conv(n Node, s step) (step, error) {
	a := s.a
	_, shape, err := c.f.Tensor(n.Weights)
	if err != nil {
		return step{}, err
	}
	if len(shape) != 4 || shape[2] != shape[3] || shape[2] < 1 || n.Stride < 1 || n.Pad < 0 || n.Group < 1 {
		return step{}, fmt.Errorf("filters of shape %v, stride %d, pad %d, group %d", shape, n.Stride, n.Pad, n.Group)
	}
	cout, k := shape[0], shape[2]
	s.k, s.stride, s.pad = k, n.Stride, n.Pad
	oh, ow := (a.h+2*n.Pad-k)/n.Stride+1, (a.w+2*n.Pad-k)/n.Stride+1
	if oh < 1 || ow < 1 {
		return step{}, fmt.Errorf("%dx%d input smaller than its %dx%d filter", a.h, a.w, k, k)
	}
	s.out = value{h: oh, w: ow, c: cout}
	bias, err := c.tensor(n.Bias, cout)
	if err != nil {
		return step{}, err
	}
	w, err := c.tensor(n.Weights, cout, a.c/n.Group, k, k)
	if err != nil {
		return step{}, err
	}
	switch {
	case n.Group == 1:
		// ONNX's filters are cout x cin x k x k; the product's matrix
		// row (ky*k+kx)*cin+ci, column o.
		kk := k * k * a.c
		m := make([]float32, kk*cout)
		for o := range cout {
			for ci := range a.c {
				for t := range k * k {
					m[(t*a.c+ci)*cout+o] = w[(o*a.c+ci)*k*k+t]
				}
			}
		}
		if s.w, err = gemm.Pack(m, kk, cout, nil, bias); err != nil {
			return step{}, err
		}
		s.needCol = k > 1 || n.Stride > 1 || n.Pad > 0
		if s.needCol {
			c.maxCol = max(c.maxCol, oh*ow*kk)
		}
	case n.Group == a.c && cout == a.c:
		// Depthwise: filters c x 1 x k x k kept as k x k x c, so the
		// inner loop runs over channels as the activation stores them.
		s.dw = make([]float32, k*k*cout)
		for ch := range cout {
			for t := range k * k {
				s.dw[t*cout+ch] = w[ch*k*k+t]
			}
		}
		s.bias = bias
	default:
		return step{}, fmt.Errorf("group %d of %d channels in, %d out", n.Group, a.c, cout)
	}
	return s, nil
}

// Embed computes the embedding of an aligned crop. rgb holds
// InputSize x InputSize pixels, row by row, three values each (R, G, B on
// a 0–255 scale); dst receives Dims values, not normalised (package
// template normalises them).
func (n *Net) Embed(dst, rgb []float32) error {
	if len(rgb) != InputSize*InputSize*3 || len(dst) != Dims {
		return fmt.Errorf("mobilefacenet: need %d input and %d output values, got %d and %d", InputSize*InputSize*3, Dims, len(rgb), len(dst))
	}
	in := n.data(n.in)
	inv := 1 / n.scale
	for i, v := range rgb {
		in[i] = (v - n.mean[i%3]) * inv
	}
	for i := range n.steps {
		n.run(&n.steps[i])
	}
	copy(dst, n.data(n.out))
	return nil
}

func (n *Net) data(v value) []float32 { return n.bufs[v.buf][:v.size()] }

func (n *Net) run(s *step) {
	a, out := n.data(s.a), n.data(s.out)
	switch s.op {
	case OpConv:
		switch {
		case s.dw != nil:
			gemm.Depthwise(a, s.a.h, s.a.w, s.a.c, s.k, s.stride, s.pad, s.out.h, s.out.w, s.dw, s.bias, out)
		case s.needCol:
			col := n.col[:s.out.h*s.out.w*s.w.K]
			gemm.Im2col(a, s.a.h, s.a.w, s.a.c, s.k, s.stride, s.pad, s.out.h, s.out.w, col)
			n.pool.Product(s.w, col, s.out.h*s.out.w, out, false)
		default:
			n.pool.Product(s.w, a, s.out.h*s.out.w, out, false)
		}
	case OpPRelu:
		c := s.a.c
		for p := 0; p < len(a); p += c {
			for ch, x := range a[p : p+c] {
				if x < 0 {
					x *= s.bias[ch]
				}
				out[p+ch] = x
			}
		}
	case OpAdd:
		b := n.data(s.b)
		for i, x := range a {
			out[i] = x + b[i]
		}
	case OpFlatten:
		copy(out, a)
	}
}
