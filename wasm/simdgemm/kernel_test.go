//go:build js && wasm

package simdgemm

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"smartpass.city/smartpass/app/face"
	"smartpass.city/smartpass/app/face/embed"
	"smartpass.city/smartpass/app/face/facetest"
	"smartpass.city/smartpass/app/face/gemm"
)

func kernel(t testing.TB) *Kernel {
	t.Helper()
	k, err := New()
	if err != nil {
		t.Fatalf("Chromium runs WebAssembly SIMD, yet: %v", err)
	}
	return k
}

// TestColumnsEqualsGo checks the kernel's product equals the Go loops'
// bit for bit, for every shape the loops treat apart: row counts below,
// at and past the block of four; one and many panels; a panel range that
// leaves columns on either side alone; ReLU with negative and -0 sums.
// Matrices are copied on first use, so each is used twice, after others.
func TestColumnsEqualsGo(t *testing.T) {
	k := kernel(t)
	rng := rand.New(rand.NewPCG(1, 2))
	type product struct {
		name          string
		rows, kk, n   int
		relu          bool
		j0, j1        int // 0, 0: every panel
		m             *gemm.Matrix
		a, want, have []float32
	}
	var ps []*product
	for _, c := range []product{
		{name: "one row", rows: 1, kk: 1, n: 4},
		{name: "three rows", rows: 3, kk: 5, n: 8},
		{name: "a block", rows: 4, kk: 27, n: 16, relu: true},
		{name: "a block and three", rows: 7, kk: 64, n: 12},
		{name: "many blocks", rows: 197, kk: 9, n: 64, relu: true},
		{name: "middle panels", rows: 6, kk: 11, n: 20, relu: true, j0: 1, j1: 3},
		{name: "last panel", rows: 5, kk: 3, n: 8, j0: 1, j1: 2},
		{name: "no rows", rows: 0, kk: 3, n: 8},
		{name: "relu of -0", rows: 1, kk: 1, n: 4, relu: true},
	} {
		w := make([]float32, c.kk*c.n)
		bias := make([]float32, c.n)
		for i := range w {
			w[i] = float32(rng.NormFloat64())
		}
		for i := range bias {
			bias[i] = float32(rng.NormFloat64())
		}
		// Column 0 starts at -0: with a zero input and a negative weight
		// its sum stays -0, which ReLU must turn to +0 as Go's max does.
		bias[0] = float32(math.Copysign(0, -1))
		w[0] = -1
		m, err := gemm.Pack(w, c.kk, c.n, nil, bias)
		if err != nil {
			t.Fatal(err)
		}
		p := c
		p.m = m
		if p.j1 == 0 {
			p.j1 = m.Panels()
		}
		ps = append(ps, &p)
	}
	for round := range 2 {
		for _, p := range ps {
			p.a = make([]float32, p.rows*p.kk)
			for i := range p.a {
				p.a[i] = float32(rng.NormFloat64())
			}
			if p.kk == 1 && p.rows > 0 {
				p.a[0] = 0 // -0 + 0*(-1) = -0
			}
			p.want, p.have = make([]float32, p.rows*p.n), make([]float32, p.rows*p.n)
			for i := range p.want {
				p.want[i] = float32(i) // what a partial range must leave
				p.have[i] = float32(i)
			}
			p.m.GoColumns(p.a, p.rows, p.want, p.relu, p.j0, p.j1)
			if p.name == "relu of -0" && math.Float32bits(p.want[0]) != 0 {
				t.Fatalf("the Go loops gave %g (bits %x) for ReLU of -0", p.want[0], math.Float32bits(p.want[0]))
			}
			if !k.Columns(p.m, p.a, p.rows, p.have, p.relu, p.j0, p.j1) {
				t.Fatalf("%s: the kernel declined: %v", p.name, k.Err())
			}
			for i := range p.want {
				if math.Float32bits(p.have[i]) != math.Float32bits(p.want[i]) {
					t.Errorf("round %d, %s: value %d (row %d, column %d) = %g, the Go loops give %g",
						round, p.name, i, i/p.n, i%p.n, p.have[i], p.want[i])
					break
				}
			}
		}
	}
}

// TestDepthwiseEqualsGo checks the kernel's depthwise convolution equals
// the Go loops' bit for bit, for the shapes the networks use: 3x3 with
// padding on both sides, stride 2 with padding before only (TensorFlow's
// "same" on an even side) and none, a 7x7 filter over a whole 7x7 image
// (MobileFaceNet's last), with and without a bias; and that it declines
// channels not a multiple of four.
func TestDepthwiseEqualsGo(t *testing.T) {
	k := kernel(t)
	rng := rand.New(rand.NewPCG(3, 4))
	fill := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	type conv struct {
		name                      string
		h, w, ch, kk, stride, pad int
		oh, ow                    int // 0: from the padding on both sides
		bias                      bool
		wts, b                    []float32
	}
	// The bias-less ones grow in channels, so the kernel's zeros grow.
	convs := []*conv{
		{name: "one pixel", h: 1, w: 1, ch: 4, kk: 3, stride: 1, pad: 1},
		{name: "3x3 same", h: 5, w: 6, ch: 4, kk: 3, stride: 1, pad: 1, bias: true},
		{name: "3x3 stride 2, pad after only", h: 8, w: 8, ch: 8, kk: 3, stride: 2, oh: 4, ow: 4},
		{name: "3x3 stride 2, pad 1", h: 7, w: 9, ch: 12, kk: 3, stride: 2, pad: 1, bias: true},
		{name: "7x7 global", h: 7, w: 7, ch: 16, kk: 7, stride: 1, bias: true},
	}
	for _, c := range convs { // each convolution's weights are used in both rounds
		if c.oh == 0 {
			c.oh, c.ow = (c.h+2*c.pad-c.kk)/c.stride+1, (c.w+2*c.pad-c.kk)/c.stride+1
		}
		c.wts = fill(c.kk * c.kk * c.ch)
		if c.bias {
			c.b = fill(c.ch)
		}
	}
	for round := range 2 {
		for _, c := range convs {
			x := fill(c.h * c.w * c.ch)
			want, have := make([]float32, c.oh*c.ow*c.ch), make([]float32, c.oh*c.ow*c.ch)
			gemm.GoDepthwise(x, c.h, c.w, c.ch, c.kk, c.stride, c.pad, c.oh, c.ow, c.wts, c.b, want)
			if !k.Depthwise(x, c.h, c.w, c.ch, c.kk, c.stride, c.pad, c.oh, c.ow, c.wts, c.b, have) {
				t.Fatalf("%s: the kernel declined: %v", c.name, k.Err())
			}
			for i := range want {
				if math.Float32bits(have[i]) != math.Float32bits(want[i]) {
					t.Errorf("round %d, %s: value %d = %g, the Go loops give %g", round, c.name, i, have[i], want[i])
					break
				}
			}
		}
	}
	x := make([]float32, 3*3*6)
	if k.Depthwise(x, 3, 3, 6, 3, 1, 1, 3, 3, make([]float32, 9*6), nil, make([]float32, 3*3*6)) {
		t.Error("the kernel took 6 channels, not a multiple of its four lanes")
	}
	if k.Err() != nil {
		t.Fatal(k.Err())
	}
}

// TestEmbeddingUnchanged runs the whole pipeline, for each network, on a
// photo with and without the kernel: the embeddings must be the same
// floats, so templates enrolled on either path match.
func TestEmbeddingUnchanged(t *testing.T) {
	k := kernel(t)
	img := facetest.Identity(t, "penny", "penny1.png")
	for _, net := range []string{"mobilefacenet", "dlib"} {
		f := facetest.NetModel(t, net)
		run := func(acc gemm.Accelerator) []float32 {
			gemm.Use(acc)
			defer gemm.Use(nil)
			p, err := face.New(f, embed.Options{})
			if err != nil {
				t.Fatal(err)
			}
			r, err := p.Process(img, face.Options{Crops: true})
			if err != nil {
				t.Fatal(err)
			}
			return r.Embedding
		}
		copied := len(k.copies)
		goVec, simdVec := run(nil), run(k)
		if k.Err() != nil {
			t.Fatal(k.Err())
		}
		if len(k.copies) == copied {
			t.Fatalf("%s: the kernel was never called", f.Name)
		}
		if len(goVec) == 0 || len(goVec) != len(simdVec) {
			t.Fatalf("%s: embeddings of %d and %d values", f.Name, len(goVec), len(simdVec))
		}
		for i := range goVec {
			if math.Float32bits(goVec[i]) != math.Float32bits(simdVec[i]) {
				t.Fatalf("%s: value %d = %g with the kernel, %g without", f.Name, i, simdVec[i], goVec[i])
			}
		}
	}
}

// BenchmarkProcess is app/face's BenchmarkProcess (one face in a 710x473
// group photo: detect with landmarks, align, embed) in Chromium with Go's
// loops and with the SIMD kernel, for each network: the terminal's time
// per frame.
func BenchmarkProcess(b *testing.B) {
	img := facetest.Image(b, filepath.Join(facetest.Faces(b), "groups", "bbt4.jpg"))
	for _, c := range []struct {
		name, net string
		simd      bool
	}{
		{"mobilefacenet/go", "mobilefacenet", false},
		{"mobilefacenet/simd", "mobilefacenet", true},
		{"dlib/go", "dlib", false},
		{"dlib/simd", "dlib", true},
	} {
		b.Run(c.name, func(b *testing.B) {
			f := facetest.NetModel(b, c.net)
			if c.simd {
				gemm.Use(kernel(b))
				defer gemm.Use(nil)
			}
			p, err := face.New(f, embed.Options{})
			if err != nil {
				b.Fatal(err)
			}
			var det, emb float64
			for b.Loop() {
				r, err := p.Process(img, face.Options{})
				if err != nil {
					b.Fatal(err)
				}
				det += float64(r.Detect.Microseconds()) / 1000
				emb += float64(r.Embed.Microseconds()) / 1000
			}
			n := float64(b.N)
			b.ReportMetric(det/n, "detect-ms")
			b.ReportMetric(emb/n, "embed-ms")
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/n, "ms/face")
		})
	}
}
