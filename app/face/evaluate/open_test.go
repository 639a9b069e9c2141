package evaluate

import (
	"math"
	"testing"

	"smartpass.city/smartpass/app/face/embed"
	"smartpass.city/smartpass/app/face/gallery"
	"smartpass.city/smartpass/app/face/risk"
	"smartpass.city/smartpass/app/face/roc"
)

// TestRates checks FPIR and FNIR on probes whose outcome is known by
// construction: k strangers placed above the threshold with a clear
// margin are exactly the false accepts.
func TestRates(t *testing.T) {
	rule := gallery.Rule{Threshold: 0.9, Margin: 0.03}
	stranger := func(best, second float32) Probe {
		return Probe{Top: []gallery.Match{{ID: "x", Score: best}, {ID: "y", Score: second}}}
	}
	mated := func(mate, best string, s1, s2 float32) Probe {
		return Probe{Mate: mate, Top: []gallery.Match{{ID: best, Score: s1}, {ID: "z", Score: s2}}}
	}
	repeat := func(n int, p Probe) []Probe {
		out := make([]Probe, n)
		for i := range out {
			out[i] = p
		}
		return out
	}
	cases := []struct {
		name         string
		probes       []Probe
		falseAccepts int
		fpir         float64
		misses       int
		fnir         float64
	}{
		{"3 of 100 strangers above the threshold",
			append(repeat(3, stranger(0.95, 0.5)), repeat(97, stranger(0.85, 0.5))...), 3, 0.03, 0, math.NaN()},
		{"above the threshold but ambiguous is no false accept",
			append(repeat(2, stranger(0.95, 0.93)), repeat(8, stranger(0.91, 0.5))...), 8, 0.8, 0, math.NaN()},
		{"a stranger at exactly the threshold is accepted",
			[]Probe{stranger(0.9, 0.5), stranger(0.8999, 0.5)}, 1, 0.5, 0, math.NaN()},
		{"a stranger without a face is refused",
			[]Probe{{}, stranger(0.95, 0.1)}, 1, 0.5, 0, math.NaN()},
		{"mates: refused, taken for another, ambiguous and found",
			[]Probe{mated("a", "a", 0.85, 0.1), mated("a", "b", 0.95, 0.1), mated("a", "a", 0.95, 0.94), mated("a", "a", 0.95, 0.5), {Mate: "a"}},
			0, math.NaN(), 4, 0.8},
	}
	for _, c := range cases {
		r := Rates(c.probes, rule)
		if r.FalseAccepts != c.falseAccepts || r.Misses != c.misses || !same(r.FPIR, c.fpir) || !same(r.FNIR, c.fnir) {
			t.Errorf("%s: %+v, want %d false accepts (FPIR %v), %d misses (FNIR %v)", c.name, r, c.falseAccepts, c.fpir, c.misses, c.fnir)
		}
	}
}

func same(a, b float64) bool {
	return math.IsNaN(a) && math.IsNaN(b) || math.Abs(a-b) < 1e-12
}

// unit returns a unit vector of 8 dims at cosine c to axis i, leaning
// towards axis j.
func unit(i, j int, c float64) []float32 {
	v := make([]float32, 8)
	v[i] = float32(c)
	v[j] += float32(math.Sqrt(1 - c*c))
	return v
}

// synthetic is a set of four people whose scores are known: a and c are
// enrolled (every second name); one of b's images is 0.95 to a's
// template, so it is the one false accept at a threshold of 0.9; d's
// only image has no face.
func synthetic() *Set {
	return &Set{
		Names: []string{"a", "b", "c", "d"},
		Files: [][]string{{"a1", "a2", "a3"}, {"b1", "b2", "b3"}, {"c1", "c2"}, {"d1"}},
		Vecs: [][][]float32{
			{unit(0, 4, 1), unit(0, 4, 0.99), unit(0, 5, 0.85)}, // a3 too far from a1
			{unit(0, 6, 0.95), unit(6, 7, 1), unit(6, 7, 0.98)},
			{unit(1, 4, 1), unit(1, 5, 0.97)},
			{nil},
		},
	}
}

func TestOpen(t *testing.T) {
	o := synthetic().Open(map[string]gallery.Rule{"strict": {Threshold: 0.96, Margin: 0.03}, "loose": {Threshold: 0.9, Margin: 0.03}})
	if o.Enrolled != 2 || o.NotEnrolled != 2 || o.MatedProbes != 3 || o.NonMatedProbes != 4 {
		t.Fatalf("split: %+v", o)
	}
	if o.EnrolledNames[0] != "a" || o.EnrolledNames[1] != "c" {
		t.Fatalf("enrolled %v, want every second name from the first", o.EnrolledNames)
	}
	// a2 and c2 are found first; a3 (0.85 to a1) too, as nothing else is
	// closer: rank-1 counts it, the thresholds refuse it.
	if o.Rank1 != 1 {
		t.Errorf("rank-1 %v, want 1", o.Rank1)
	}
	want := map[string]OpenRates{
		"strict": {Threshold: 0.96, Margin: 0.03, FalseAccepts: 0, FPIR: 0, Misses: 1, FNIR: 1.0 / 3},
		"loose":  {Threshold: 0.9, Margin: 0.03, FalseAccepts: 1, FPIR: 0.25, Misses: 1, FNIR: 1.0 / 3},
	}
	for name, w := range want {
		if got := o.Rules[name]; got.FalseAccepts != w.FalseAccepts || got.Misses != w.Misses || !same(got.FPIR, w.FPIR) || !same(got.FNIR, w.FNIR) {
			t.Errorf("%s: %+v, want %+v", name, got, w)
		}
	}
}

func TestPairs(t *testing.T) {
	ps := synthetic().Pairs()
	// 9 images: 3+3+1 genuine pairs, 36 in all.
	if ps.GenuinePairs != 7 || ps.ImpostorPairs != 29 {
		t.Fatalf("%d genuine, %d impostor", ps.GenuinePairs, ps.ImpostorPairs)
	}
	failed := 0
	for _, s := range ps.Impostor {
		if s == roc.Failed {
			failed++
		}
	}
	if failed != 8 { // d1 against the 8 others
		t.Errorf("%d impostor pairs failed, want d1's 8", failed)
	}
	if ps.TARAtFAR1e4 != nil || ps.TARAtFAR1e5 != nil {
		t.Error("29 impostor pairs gave a TAR at 1e-4")
	}
	pooled := Pool(ps, ps)
	if pooled.GenuinePairs != 14 || pooled.ImpostorPairs != 58 {
		t.Errorf("pooled %d, %d", pooled.GenuinePairs, pooled.ImpostorPairs)
	}
}

// TestRuleOn checks the figures of a rule on synthetic pairs: k impostor
// pairs above the threshold give FAR k/n, and the FPIR it predicts at
// the kind's gallery size.
func TestRuleOn(t *testing.T) {
	b, err := risk.BasisOf(embed.ModelName)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := b.For(risk.PlayPark, 5000)
	th := float64(p.Decision.Threshold)
	cases := []struct {
		name   string
		above  int
		bound  bool
		wantFA int
	}{
		{"none above: a bound only", 0, true, 0},
		{"5 above", 5, false, 5},
	}
	for _, c := range cases {
		ps := Pairs{Genuine: []float64{th + 0.01, th - 0.01}}
		for i := range 10000 {
			s := th - 0.2
			if i < c.above {
				s = th + 0.001
			}
			ps.Impostor = append(ps.Impostor, s)
		}
		f := RuleOn(p, ps, nil)
		far := float64(c.above) / 10000
		if c.bound {
			far = 3.0 / 10000
		}
		if f.FalseAccepts != c.wantFA || f.FPIRBound != c.bound || f.TAR != 0.5 || math.Abs(f.PredictedFPIR-(1-math.Pow(1-far, float64(p.GallerySize)))) > 1e-9 {
			t.Errorf("%s: %+v", c.name, f)
		}
	}
}
