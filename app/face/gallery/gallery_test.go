package gallery

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"smartpass.city/smartpass/app/template"
)

func randomVec(r *rand.Rand, dims int) []float32 {
	v := make([]float32, dims)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// TopK is exact: it agrees with sorting every score.
func TestTopKIsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	g := New("m", 64)
	for i := range 500 {
		g.Put(fmt.Sprint(i), randomVec(r, 64))
	}
	for range 20 {
		probe := randomVec(r, 64)
		var all []Match
		for i := range 500 {
			s, _ := Verify(probe, g.vecs[i*64:(i+1)*64], 0)
			all = append(all, Match{g.ids[i], s})
		}
		slices.SortFunc(all, func(a, b Match) int {
			if a.Score > b.Score {
				return -1
			}
			return 1
		})
		got := g.TopK(probe, 5, nil)
		for i := range got {
			if got[i].ID != all[i].ID || abs(got[i].Score-all[i].Score) > 1e-5 {
				t.Fatalf("rank %d: %+v, want %+v", i, got[i], all[i])
			}
		}
	}
}

func abs(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

func TestPutDeleteAndModels(t *testing.T) {
	g := New("dlib-v1", 3)
	g.Put("a", []float32{1, 0, 0})
	g.Put("b", []float32{0, 1, 0})
	g.Put("c", []float32{0, 0, 1})
	g.Delete("a") // c moves into a's row
	if g.Len() != 2 {
		t.Fatalf("Len = %d", g.Len())
	}
	if top := g.TopK([]float32{0, 0, 5}, 1, nil); top[0].ID != "c" || top[0].Score < 0.999 {
		t.Fatalf("after delete: %+v", top)
	}
	if top := g.TopK([]float32{1, 0, 0}, 2, nil); top[0].Score > 0.001 {
		t.Fatalf("the deleted template still matches: %+v", top)
	}
	g.Put("b", []float32{0, 0, 2}) // replace
	if top := g.TopK([]float32{0, 1, 0}, 1, nil); top[0].Score > 0.001 {
		t.Fatalf("the replaced template still matches: %+v", top)
	}
	other := template.Template{Resident: "x", Model: "mobileface-v1", Facilities: []string{"f"}, Vec: template.Pack([]float32{1, 2, 3})}
	if err := g.PutTemplate(other); err == nil {
		t.Fatal("a template of another model entered the gallery")
	}
	_, skipped := FromTemplates("dlib-v1", 3, map[string]template.Template{"x": other, "y": {Resident: "y", Model: "dlib-v1", Facilities: []string{"f"}, Vec: template.Pack([]float32{1, 1, 1})}})
	if skipped != 1 {
		t.Fatalf("FromTemplates skipped %d, want the other model's 1", skipped)
	}

	// A broken vector never enters, so it cannot hide the best match
	// (a NaN row sorted first refused everyone as no_match); a broken
	// probe matches no one.
	for _, v := range [][]float32{{nan32(), 0, 0}, {0, float32(math.Inf(1)), 0}} {
		if err := g.Put("broken", v); !errors.Is(err, ErrVector) {
			t.Errorf("Put(%v) = %v, want ErrVector", v, err)
		}
	}
	if g.Len() != 2 {
		t.Fatalf("a broken vector entered: Len = %d", g.Len())
	}
	if top := g.TopK([]float32{nan32(), 1, 0}, 2, nil); len(top) != 0 {
		t.Fatalf("a NaN probe matched %+v", top)
	}
	if top := g.TopK([]float32{0, 0, 1}, 1, nil); len(top) != 1 || top[0].Score < 0.999 {
		t.Fatalf("after the refusals: %+v", top)
	}
}

// nan32 is a float32 NaN.
func nan32() float32 { return float32(math.NaN()) }

func TestDecide(t *testing.T) {
	nan := nan32()
	rule := Rule{Threshold: 0.6, Margin: 0.08}
	tests := []struct {
		top  []Match
		want Decision
	}{
		{nil, Decision{Reason: "no_match"}},
		{[]Match{{"a", 0.5}, {"b", 0.1}}, Decision{Reason: "no_match"}},
		{[]Match{{"a", 0.8}, {"b", 0.75}}, Decision{Reason: "ambiguous"}},
		{[]Match{{"a", 0.8}, {"b", 0.5}}, Decision{ID: "a", Accepted: true}},
		{[]Match{{"a", 0.8}}, Decision{ID: "a", Accepted: true}},
		// A broken vector scores NaN: refused, alone or first.
		{[]Match{{"a", nan}}, Decision{Reason: "no_match"}},
		{[]Match{{"a", nan}, {"b", 0.1}}, Decision{Reason: "no_match"}},
		{[]Match{{"a", 0.8}, {"b", nan}}, Decision{Reason: "ambiguous"}},
	}
	for _, tt := range tests {
		if got := rule.Decide(tt.top); got != tt.want {
			t.Errorf("Decide(%v) = %+v, want %+v", tt.top, got, tt.want)
		}
	}
	if _, ok := Verify([]float32{nan, 0}, []float32{1, 0}, 0.1); ok {
		t.Fatal("Verify of a NaN vector passed")
	}
	if _, ok := Verify([]float32{1, 0}, []float32{0, 0}, 0.1); ok {
		t.Fatal("Verify against a zero vector passed")
	}
}

func TestTopKDoesNotAllocate(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	g := New("m", 128)
	for i := range 1000 {
		g.Put(fmt.Sprint(i), randomVec(r, 128))
	}
	probe, out := randomVec(r, 128), make([]Match, 0, 2)
	if n := testing.AllocsPerRun(10, func() { out = g.TopK(probe, 2, out) }); n != 0 {
		t.Fatalf("TopK allocates %v times per search", n)
	}
}

// BenchmarkTopK: one 1:N search, top 2 for the decision rule, in
// galleries of a town's and a city's size, of either network's
// templates; make bench runs it natively and in Chromium (Go WASM).
func BenchmarkTopK(b *testing.B) {
	for _, c := range []struct{ dims, n int }{
		{128, 10000}, {128, 100000}, // dlib's templates
		{512, 10000}, {512, 60000}, // MobileFaceNet's, up to a city
	} {
		b.Run(fmt.Sprintf("%ddims/%dk", c.dims, c.n/1000), func(b *testing.B) {
			r := rand.New(rand.NewPCG(5, 6))
			g := New("m", c.dims)
			for i := range c.n {
				g.Put(fmt.Sprint(i), randomVec(r, c.dims))
			}
			probe, out := randomVec(r, c.dims), make([]Match, 0, 2)
			b.ResetTimer()
			for range b.N {
				out = g.TopK(probe, 2, out)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/search")
		})
	}
}
