// Package landmark finds the 68 points of a face (jaw, brows, nose, eyes,
// mouth, in the iBUG 300-W order dlib uses) with face-api's
// FaceLandmark68Net, in pure Go, so the same code runs natively and in
// the terminal's WebAssembly. Alignment needs them: dlib's ResNet was
// trained on chips aligned by eye corners and the nose base, which the
// pupil cascades do not give.
//
// The network (weights from the npm package @vladmandic/face-api,
// model/face_landmark_68_model, 8-bit as published) takes a 112x112 RGB
// crop of the face, (x − mean RGB)/255, through four "dense blocks" of
// 3x3 convolutions (the first plain, the rest depthwise-separable), each
// block halving the size (112 → 56 → 28 → 14 → 7) and summing its
// convolutions' outputs densely; then a 7x7 average and a fully connected
// layer giving 136 values, x and y of each point as a fraction of the
// crop. Padding is TensorFlow's "same": for a stride of 2 on an even
// side, one zero row and column after the input, none before.
package landmark

import (
	"errors"
	"fmt"

	"smartpass.city/smartpass/app/face/gemm"
	"smartpass.city/smartpass/app/face/model"
)

const (
	// InputSize is the side of the square crop Run takes.
	InputSize = 112
	// Points is how many points the network gives.
	Points = 68
	// Prefix names the network's sections in the model file.
	Prefix = "landmark68/"
)

// mean is the RGB mean face-api subtracts before dividing by 255.
var mean = [3]float32{122.782, 117.001, 104.298}

// ErrModel is returned by New for a model file without the network, or
// with weights of the wrong shapes.
var ErrModel = errors.New("landmark: model file lacks the 68-point network")

// channels of the four dense blocks.
var channels = [4]int{32, 64, 128, 256}

// Weights returns the names of the network's weights as face-api
// publishes them (the model file prefixes them with Prefix), in the
// order they are used.
func Weights() []string {
	var out []string
	for b := range channels {
		for c := range 4 {
			layer := fmt.Sprintf("dense%d/conv%d/", b, c)
			if b == 0 && c == 0 {
				out = append(out, layer+"filters", layer+"bias")
				continue
			}
			out = append(out, layer+"depthwise_filter", layer+"pointwise_filter", layer+"bias")
		}
	}
	return append(out, "fc/weights", "fc/bias")
}

// separable is a depthwise 3x3 convolution followed by a pointwise one
// and a bias, as tf.separableConv2d; the stem is a plain 3x3 convolution
// (depthwise nil, pointwise 27 x cout).
type separable struct {
	stride    int
	cin, cout int
	depthwise []float32    // 9 x cin
	pointwise *gemm.Matrix // cin x cout (27 x cout for the stem), with the bias
}

// Net is a loaded network with its working memory. It is not safe for
// concurrent use.
type Net struct {
	layers [4][4]separable
	fcW    []float32 // 256 x 136
	fcB    []float32
	bufs   [5][]float32
	col    []float32
}

// New loads the network from a model file.
func New(f *model.File) (*Net, error) {
	get := func(name string, want ...int) ([]float32, error) {
		v, shape, err := f.Tensor(Prefix + name)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrModel, err)
		}
		if fmt.Sprint(shape) != fmt.Sprint(want) {
			return nil, fmt.Errorf("%w: %s of shape %v, want %v", ErrModel, name, shape, want)
		}
		return v, nil
	}
	n := &Net{}
	var err error
	cin := 3
	for b, cout := range channels {
		for c := range 4 {
			l := separable{stride: 1, cin: cin, cout: cout}
			if c == 0 {
				l.stride = 2
			}
			name := fmt.Sprintf("dense%d/conv%d/", b, c)
			var pw []float32
			k := cin
			if b == 0 && c == 0 {
				k = 9 * cin
				pw, err = get(name+"filters", 3, 3, cin, cout)
			} else {
				if l.depthwise, err = get(name+"depthwise_filter", 3, 3, cin, 1); err != nil {
					return nil, err
				}
				pw, err = get(name+"pointwise_filter", 1, 1, cin, cout)
			}
			if err != nil {
				return nil, err
			}
			bias, err := get(name+"bias", cout)
			if err != nil {
				return nil, err
			}
			if l.pointwise, err = gemm.Pack(pw, k, cout, nil, bias); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrModel, err)
			}
			n.layers[b][c] = l
			cin = cout
		}
	}
	if n.fcW, err = get("fc/weights", 256, 2*Points); err != nil {
		return nil, err
	}
	if n.fcB, err = get("fc/bias", 2*Points); err != nil {
		return nil, err
	}
	// The largest activation is the first block's, 56x56x32; the largest
	// patch matrix the stem's, 56*56 rows of 27.
	for i := range n.bufs {
		n.bufs[i] = make([]float32, 56*56*32)
	}
	n.col = make([]float32, 56*56*32)
	return n, nil
}

// tensor is an activation, height x width x channels, channels fastest.
type tensor struct {
	side, c int
	data    []float32
}

// Run computes the 68 points of a crop. rgb holds InputSize x InputSize
// pixels, row by row, R, G, B on a 0–255 scale; dst receives 136 values,
// x and y of each point in turn, as fractions of the crop's side (what
// face-api's FaceLandmark68Net.forward returns for a 112 px input).
func (n *Net) Run(dst, rgb []float32) error {
	if len(rgb) != InputSize*InputSize*3 || len(dst) != 2*Points {
		return fmt.Errorf("landmark: need %d input and %d output values, got %d and %d", InputSize*InputSize*3, 2*Points, len(rgb), len(dst))
	}
	x := tensor{side: InputSize, c: 3, data: n.bufs[0][:len(rgb)]}
	for i, v := range rgb {
		x.data[i] = (v - mean[i%3]) / 255
	}
	free := func(used ...[]float32) []float32 {
	next:
		for _, b := range n.bufs {
			for _, u := range used {
				if &b[0] == &u[0] {
					continue next
				}
			}
			return b
		}
		panic("landmark: no free buffer")
	}
	for b := range n.layers {
		// out1 = relu(conv0(x)); out2 = conv1(out1);
		// out3 = conv2(relu(out1+out2)); out4 = conv3(relu(out1+out2+out3));
		// block = relu(out1+out2+out3+out4). sum keeps out1+out2+…
		ls := &n.layers[b]
		out1 := ls[0].apply(n, x, free(x.data))
		relu(out1.data)
		sum := tensor{side: out1.side, c: out1.c, data: free(x.data, out1.data)[:len(out1.data)]}
		copy(sum.data, out1.data)
		in := out1
		for c := 1; c < 4; c++ {
			o := ls[c].apply(n, in, free(sum.data, in.data))
			for i, v := range o.data {
				sum.data[i] += v
			}
			next := tensor{side: o.side, c: o.c, data: o.data}
			for i, v := range sum.data {
				next.data[i] = relu1(v)
			}
			in = next
		}
		x = in // relu of the whole sum
	}
	// A 7x7 average pool with stride 2 over 7x7 is the global mean.
	var avg [256]float32
	for p := range x.side * x.side {
		for c, v := range x.data[p*x.c : (p+1)*x.c] {
			avg[c] += v
		}
	}
	copy(dst, n.fcB)
	for c := range x.c {
		a := avg[c] / float32(x.side*x.side)
		for j, w := range n.fcW[c*2*Points : (c+1)*2*Points] {
			dst[j] += a * w
		}
	}
	return nil
}

func relu(v []float32) {
	for i, x := range v {
		v[i] = relu1(x)
	}
}

// relu1 is max(x, 0) but for the sign of a zero: Go's max of float32s
// is a runtime call in WebAssembly, which cost a terminal 7 ms a frame.
func relu1(x float32) float32 {
	if x < 0 {
		return 0
	}
	return x
}

// samePad is TensorFlow's "same" padding before the first row for a 3x3
// window: the output side is ceil(in/stride), the total padding what
// that needs, the smaller half before.
func samePad(in, stride int) (out, before int) {
	out = (in + stride - 1) / stride
	total := max((out-1)*stride+3-in, 0)
	return out, total / 2
}

// apply runs the layer on x into buf (without ReLU).
func (l *separable) apply(n *Net, x tensor, buf []float32) tensor {
	side, pad := samePad(x.side, l.stride)
	out := tensor{side: side, c: l.cout, data: buf[:side*side*l.cout]}
	var a []float32 // rows of the pointwise product, one per output pixel
	k := l.cin
	if l.depthwise == nil {
		// Stem: the 3x3xcin patch of each output pixel is the row.
		k = 9 * l.cin
		a = n.col[:side*side*k]
		gemm.Im2col(x.data, x.side, x.side, l.cin, 3, l.stride, pad, side, side, a)
	} else {
		a = n.col[:side*side*l.cin]
		gemm.Depthwise(x.data, x.side, x.side, l.cin, 3, l.stride, pad, side, side, l.depthwise, nil, a)
	}
	// Pointwise: out = a·W + bias, W of k x cout.
	l.pointwise.Columns(a, side*side, out.data, false, 0, l.pointwise.Panels())
	return out
}
