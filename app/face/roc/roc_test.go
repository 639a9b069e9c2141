package roc

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestThresholdAtFAR(t *testing.T) {
	impostor := []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95}
	cases := []struct {
		name      string
		genuine   []float64
		far       float64
		threshold float64 // the score just above which the threshold sits
		tar       float64
	}{
		{"none allowed", []float64{0.96, 0.97, 0.5, Failed}, 0.001, 0.95, 0.5},
		{"one in ten allowed", []float64{0.96, 0.92, 0.5, Failed}, 0.1, 0.9, 0.5},
		{"two in ten allowed", []float64{0.96, 0.92, 0.85, 0.1}, 0.2, 0.8, 0.75},
	}
	for _, c := range cases {
		th, tar := ThresholdAtFAR(c.genuine, impostor, c.far)
		if th <= c.threshold || th > math.Nextafter(c.threshold, 2) {
			t.Errorf("%s: threshold %v, want just above %v", c.name, th, c.threshold)
		}
		if tar != c.tar {
			t.Errorf("%s: TAR %v, want %v", c.name, tar, c.tar)
		}
		if got := acceptRate(impostor, th); got > c.far {
			t.Errorf("%s: FAR at threshold %v > %v", c.name, got, c.far)
		}
	}
}

func TestThresholdTies(t *testing.T) {
	// Two impostors tie at 0.9: allowing one would accept both, so the
	// threshold must sit above the tie.
	th, _ := ThresholdAtFAR(nil, []float64{0.1, 0.2, 0.9, 0.9, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8}, 0.1)
	if th <= 0.9 {
		t.Fatalf("threshold %v accepts a tie of two", th)
	}
}

func TestEER(t *testing.T) {
	cases := []struct {
		name              string
		genuine, impostor []float64
		want              float64
	}{
		{"separated", []float64{0.8, 0.9}, []float64{0.1, 0.2}, 0},
		{"one crossed each way", []float64{0.15, 0.8, 0.9, 0.95}, []float64{0.1, 0.2, 0.3, 0.85}, 0.25},
		{"a failure can never be accepted", []float64{Failed, 0.9}, []float64{0.1, 0.2}, 0.5},
	}
	for _, c := range cases {
		if got := EER(c.genuine, c.impostor); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s: EER %v, want %v", c.name, got, c.want)
		}
	}
}

// TestTailThreshold draws impostor scores from a known normal and checks
// that the fitted tail finds its quantiles far beyond the draws, and that
// ThresholdFor reads rates the pairs can show straight off them.
func TestTailThreshold(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const mean, sd = 0.85, 0.02
	imp := make([]float64, 200000)
	for i := range imp {
		imp[i] = mean + sd*r.NormFloat64()
	}
	cases := []struct {
		far          float64
		extrapolated bool
		tol          float64
	}{
		{1e-3, false, 0.002},
		{1e-4, false, 0.003},
		{1e-5, true, 0.003},
		{2e-7, true, 0.004},
		{1.7e-10, true, 0.006},
	}
	for _, c := range cases {
		want := mean + sd*normalQuantile(c.far)
		got, ex := ThresholdFor(imp, c.far)
		if ex != c.extrapolated {
			t.Errorf("FAR %g: extrapolated %v, want %v (%d pairs)", c.far, ex, c.extrapolated, len(imp))
		}
		if math.Abs(got-want) > c.tol {
			t.Errorf("FAR %g: threshold %.4f, want %.4f ± %g", c.far, got, want, c.tol)
		}
	}
	if _, ok := TailThreshold(imp[:1000], 1e-6); ok {
		t.Error("fitted a tail to 1,000 pairs")
	}
}

func TestMeasurable(t *testing.T) {
	cases := []struct {
		pairs int
		far   float64
		want  bool
	}{
		{30000, 1e-4, true},
		{29999, 1e-4, false},
		{78000, 1e-5, false},
		{300000, 1e-5, true},
		{700, 1e-3, false},
	}
	for _, c := range cases {
		if got := Measurable(c.pairs, c.far); got != c.want {
			t.Errorf("Measurable(%d, %g) = %v", c.pairs, c.far, got)
		}
	}
}
