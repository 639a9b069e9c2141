package embed

import (
	"errors"
	"math"
	"testing"

	"smartpass.city/smartpass/app/face/facetest"
	"smartpass.city/smartpass/app/face/model"
)

// pattern is a deterministic, face-sized input with structure at every
// scale, so every layer of the network sees varied values.
func pattern() []float32 {
	px := make([]float32, InputSize*InputSize*3)
	for y := range InputSize {
		for x := range InputSize {
			for c := range 3 {
				v := 128 + 60*math.Sin(float64(x)*0.11+float64(c)) + 50*math.Cos(float64(y)*0.07-float64(c)*0.5) + float64((x*y+c*31)%17)
				px[(y*InputSize+x)*3+c] = float32(math.Round(math.Min(255, math.Max(0, v))))
			}
		}
	}
	return px
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

func TestWorkersAgree(t *testing.T) {
	f := facetest.Model(t)
	one, err := New(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	two, err := New(f, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	in := pattern()
	a, b := make([]float32, Dims), make([]float32, Dims)
	if err := one.Embed(a, in); err != nil {
		t.Fatal(err)
	}
	if err := two.Embed(b, in); err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("value %d: %g with one thread, %g with two", i, a[i], b[i])
		}
	}
	// The same net twice gives the same answer: no state leaks between
	// calls through the reused buffers.
	c := make([]float32, Dims)
	one.Embed(c, pattern())
	if cosine(a, c) != 1 && a[0] != c[0] {
		t.Fatal("second call differs")
	}
}

func TestRefusesOtherModels(t *testing.T) {
	b := model.NewBuilder(model.Header{Name: "other-net", Input: InputSize, Scale: 1})
	data, _ := b.Bytes()
	f, err := model.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(f, Options{}); !errors.Is(err, ErrModel) {
		t.Fatalf("other network: %v", err)
	}
	net, err := New(facetest.Model(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := net.Embed(make([]float32, Dims), make([]float32, 10)); err == nil {
		t.Fatal("short input accepted")
	}
}

func BenchmarkEmbed(b *testing.B) {
	for _, workers := range []int{1, 2} {
		b.Run(map[int]string{1: "1thread", 2: "2threads"}[workers], func(b *testing.B) {
			net, err := New(facetest.Model(b), Options{Workers: workers})
			if err != nil {
				b.Fatal(err)
			}
			in, out := pattern(), make([]float32, Dims)
			b.ReportAllocs()
			for b.Loop() {
				net.Embed(out, in)
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/face")
		})
	}
}
