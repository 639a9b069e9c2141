package mobilefacenet

import (
	"encoding/json"
	"errors"
	"testing"

	"smartpass.city/smartpass/app/face/facetest"
	"smartpass.city/smartpass/app/face/model"
)

func loaded(t testing.TB) (*Net, *model.File) {
	t.Helper()
	f := facetest.NetModel(t, "mobilefacenet")
	n, err := New(f, 0)
	if err != nil {
		t.Fatal(err)
	}
	return n, f
}

// naive runs the file's graph the plainest way, planes of channels
// (NCHW, as ONNX lays them out), one multiply-add at a time: a second,
// independent reading of the same operators, which also runs under
// WebAssembly where Chromium's onnxruntime cannot be driven.
func naive(t testing.TB, f *model.File, rgb []float32) []float32 {
	t.Helper()
	raw, err := f.Raw(GraphSection)
	if err != nil {
		t.Fatal(err)
	}
	g, err := decodeGraph(raw)
	if err != nil {
		t.Fatal(err)
	}
	type planes struct {
		h, w, c int
		v       []float32 // [c][h][w]
	}
	vals := map[string]planes{}
	in := planes{h: InputSize, w: InputSize, c: 3, v: make([]float32, len(rgb))}
	for i, p := range rgb {
		in.v[(i%3)*InputSize*InputSize+i/3] = (p - Mean) / Scale
	}
	vals[g.Input] = in
	tensor := func(name string) []float32 {
		v, _, err := f.Tensor(name)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, n := range g.Nodes {
		a := vals[n.In[0]]
		switch n.Op {
		case OpConv:
			w, b := tensor(n.Weights), tensor(n.Bias)
			_, shape, _ := f.Tensor(n.Weights)
			cout, cpg, k := shape[0], shape[1], shape[2]
			oh, ow := (a.h+2*n.Pad-k)/n.Stride+1, (a.w+2*n.Pad-k)/n.Stride+1
			out := planes{h: oh, w: ow, c: cout, v: make([]float32, cout*oh*ow)}
			opg := cout / n.Group
			for o := range cout {
				for y := range oh {
					for x := range ow {
						s := b[o]
						for ci := range cpg {
							ic := (o/opg)*cpg + ci
							for ky := range k {
								for kx := range k {
									iy, ix := y*n.Stride+ky-n.Pad, x*n.Stride+kx-n.Pad
									if iy >= 0 && iy < a.h && ix >= 0 && ix < a.w {
										s += a.v[(ic*a.h+iy)*a.w+ix] * w[((o*cpg+ci)*k+ky)*k+kx]
									}
								}
							}
						}
						out.v[(o*oh+y)*ow+x] = s
					}
				}
			}
			vals[n.Out] = out
		case OpPRelu:
			slope := tensor(n.Weights)
			out := planes{h: a.h, w: a.w, c: a.c, v: make([]float32, len(a.v))}
			for i, x := range a.v {
				if x < 0 {
					x *= slope[i/(a.h*a.w)]
				}
				out.v[i] = x
			}
			vals[n.Out] = out
		case OpAdd:
			b := vals[n.In[1]]
			out := planes{h: a.h, w: a.w, c: a.c, v: make([]float32, len(a.v))}
			for i := range a.v {
				out.v[i] = a.v[i] + b.v[i]
			}
			vals[n.Out] = out
		case OpFlatten:
			vals[n.Out] = a
		}
	}
	return vals[g.Output].v
}

// TestMatchesNaive checks the compiled network (NHWC, packed products,
// reused buffers) against the naive reading of the same graph, natively
// and under WebAssembly.
func TestMatchesNaive(t *testing.T) {
	n, f := loaded(t)
	rgb := facetest.Pattern(InputSize)
	got := make([]float32, Dims)
	if err := n.Embed(got, rgb); err != nil {
		t.Fatal(err)
	}
	want := naive(t, f, rgb)
	if cos := facetest.Cosine(got, want); cos < 1-1e-5 {
		t.Errorf("cosine to the naive reading %.7f", cos)
	}
	// A second run on the same buffers gives the same result.
	again := make([]float32, Dims)
	if err := n.Embed(again, rgb); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i] != again[i] {
			t.Fatalf("value %d: %g then %g", i, got[i], again[i])
		}
	}
}

func TestEmbedDoesNotAllocate(t *testing.T) {
	n, _ := loaded(t)
	rgb, dst := facetest.Pattern(InputSize), make([]float32, Dims)
	if allocs := testing.AllocsPerRun(3, func() { n.Embed(dst, rgb) }); allocs != 0 {
		t.Errorf("%v allocations per Embed", allocs)
	}
}

func TestEmbedRefusesWrongSizes(t *testing.T) {
	n, _ := loaded(t)
	cases := []struct {
		name     string
		dst, rgb int
	}{
		{"short input", Dims, InputSize * InputSize * 2},
		{"dlib's 150 px chip", Dims, 150 * 150 * 3},
		{"dlib's 128 values", 128, InputSize * InputSize * 3},
	}
	for _, c := range cases {
		if err := n.Embed(make([]float32, c.dst), make([]float32, c.rgb)); err == nil {
			t.Errorf("%s accepted", c.name)
		}
	}
}

// rebuilt copies f with its graph changed by edit, so each refusal is
// tested on the real network with one thing wrong.
func rebuilt(t *testing.T, f *model.File, name string, edit func(*Graph)) *model.File {
	t.Helper()
	raw, err := f.Raw(GraphSection)
	if err != nil {
		t.Fatal(err)
	}
	var g Graph
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	edit(&g)
	h := f.Header
	h.Name = name
	b := model.NewBuilder(h)
	for _, s := range f.Sections {
		switch {
		case s.Name == GraphSection:
			enc, err := g.Encode()
			if err != nil {
				t.Fatal(err)
			}
			b.AddRaw(s.Name, enc)
		case s.Kind == model.KindRaw:
			r, _ := f.Raw(s.Name)
			b.AddRaw(s.Name, r)
		default:
			v, shape, _ := f.Tensor(s.Name)
			if err := b.AddF16(s.Name, shape, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	data, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	out, err := model.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRefusesOtherModels(t *testing.T) {
	if _, err := New(facetest.NetModel(t, "dlib"), 0); !errors.Is(err, ErrModel) {
		t.Errorf("dlib's file: %v", err)
	}
	_, f := loaded(t)
	last := func(g *Graph) *Node { return &g.Nodes[len(g.Nodes)-1] }
	cases := []struct {
		name  string
		model string
		edit  func(*Graph)
	}{
		{"unchanged under another name", "mobilefacenet/other/f16", func(*Graph) {}},
		{"unknown operator", ModelName, func(g *Graph) { g.Nodes[1].Op = "sigmoid" }},
		{"value read before written", ModelName, func(g *Graph) { g.Nodes[0].In[0] = "later" }},
		{"output missing", ModelName, func(g *Graph) { g.Nodes = g.Nodes[:len(g.Nodes)-1] }},
		{"output of another value", ModelName, func(g *Graph) { last(g).Out = "elsewhere" }},
		{"flatten of a map", ModelName, func(g *Graph) { g.Nodes[2] = Node{Op: OpFlatten, In: g.Nodes[2].In, Out: g.Nodes[2].Out} }},
		{"weights missing", ModelName, func(g *Graph) { g.Nodes[0].Weights = "mobilefacenet/none" }},
		{"slopes of another shape", ModelName, func(g *Graph) { g.Nodes[1].Weights = g.Nodes[2].Bias }},
		{"grouped, not depthwise", ModelName, func(g *Graph) { g.Nodes[2].Group = 2 }},
		{"zero stride", ModelName, func(g *Graph) { g.Nodes[0].Stride = 0 }},
		{"add of two sizes", ModelName, func(g *Graph) {
			for i := range g.Nodes {
				if g.Nodes[i].Op == OpAdd {
					g.Nodes[i].In[1] = g.Input
					return
				}
			}
		}},
		{"empty", ModelName, func(g *Graph) { g.Nodes = nil }},
	}
	for _, c := range cases {
		if _, err := New(rebuilt(t, f, c.model, c.edit), 0); !errors.Is(err, ErrModel) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	// The copy itself loads: the refusals are the edits'.
	if _, err := New(rebuilt(t, f, ModelName, func(*Graph) {}), 0); err != nil {
		t.Fatalf("unedited copy: %v", err)
	}
}

func BenchmarkEmbed(b *testing.B) {
	f := facetest.NetModel(b, "mobilefacenet")
	rgb, dst := facetest.Pattern(InputSize), make([]float32, Dims)
	for _, workers := range []int{1, 2} {
		b.Run(map[int]string{1: "1thread", 2: "2threads"}[workers], func(b *testing.B) {
			n, err := New(f, workers)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if err := n.Embed(dst, rgb); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/face")
		})
	}
}

// TestWorkersAgree checks that sharing the products between goroutines
// changes nothing: each column is computed by one thread, in the same
// order.
func TestWorkersAgree(t *testing.T) {
	f := facetest.NetModel(t, "mobilefacenet")
	rgb := facetest.Pattern(InputSize)
	var outs [2][]float32
	for i, workers := range []int{1, 2} {
		n, err := New(f, workers)
		if err != nil {
			t.Fatal(err)
		}
		outs[i] = make([]float32, Dims)
		if err := n.Embed(outs[i], rgb); err != nil {
			t.Fatal(err)
		}
	}
	for i := range outs[0] {
		if outs[0][i] != outs[1][i] {
			t.Fatalf("value %d: %g on one thread, %g on two", i, outs[0][i], outs[1][i])
		}
	}
}
