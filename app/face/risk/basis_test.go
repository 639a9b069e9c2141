//go:build !js

//go:debug randseednop=0

package risk_test

import (
	"math"
	"testing"

	"smartpass.city/smartpass/app/face"
	"smartpass.city/smartpass/app/face/embed"
	"smartpass.city/smartpass/app/face/evaluate"
	"smartpass.city/smartpass/app/face/facetest"
	"smartpass.city/smartpass/app/face/risk"
	"smartpass.city/smartpass/app/face/roc"
)

// How far the constants may sit from what the measurement gives: the
// thresholds are rounded to 0.001, and a change of the model, detector or
// alignment moves them by more than 0.003 (or the TAR by more than 0.02);
// then the rules must be derived again, not kept.
const (
	thresholdTolerance = 0.003
	tarTolerance       = 0.02
)

// TestRulesKeepTheirBasis measures the rules' basis again (natively: 440
// images through the pipeline take about a minute) and fails when a
// constant of package risk no longer matches it. Not run in the browser,
// where the same pipeline would take several minutes.
func TestRulesKeepTheirBasis(t *testing.T) {
	p, err := face.New(facetest.Model(t), embed.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	sets := []struct {
		name              string
		genuine, impostor int
	}{
		{"identities", 80, 700},
		{"orl", 1800, 78000},
	}
	var all []evaluate.Pairs
	for _, s := range sets {
		set, err := evaluate.Load(p, facetest.Labelled(t, s.name), nil)
		if err != nil {
			t.Fatal(err)
		}
		ps := set.Pairs()
		if ps.GenuinePairs != s.genuine || ps.ImpostorPairs != s.impostor {
			t.Fatalf("%s: %d genuine, %d impostor pairs; the basis has %d and %d", s.name, ps.GenuinePairs, ps.ImpostorPairs, s.genuine, s.impostor)
		}
		all = append(all, ps)
	}
	pooled := evaluate.Pool(all...)
	t.Logf("pooled: %d genuine, %d impostor pairs; threshold at FAR 1e-3 %.4f (TAR %.4f)", pooled.GenuinePairs, pooled.ImpostorPairs, pooled.ThresholdAtFAR0001, pooled.TARAtFAR0001)
	for _, k := range risk.Kinds() {
		pol, _ := risk.For(k)
		th, extrapolated := roc.ThresholdFor(pooled.Impostor, pol.PairFAR())
		tar := roc.AcceptRate(pooled.Genuine, float64(pol.Decision.Threshold))
		t.Logf("%-9s pair FAR %.2g: measured threshold %.4f (extrapolated %v), constant %.3f accepting %.4f of genuine pairs (constant %.3f)",
			k, pol.PairFAR(), th, extrapolated, pol.Decision.Threshold, tar, pol.MeasuredTAR)
		if math.Abs(th-float64(pol.Decision.Threshold)) > thresholdTolerance {
			t.Errorf("%s: threshold %.3f, the measurement gives %.4f", k, pol.Decision.Threshold, th)
		}
		if math.Abs(tar-pol.MeasuredTAR) > tarTolerance {
			t.Errorf("%s: TAR %.3f, the measurement gives %.4f", k, pol.MeasuredTAR, tar)
		}
		if extrapolated != pol.Extrapolated {
			t.Errorf("%s: extrapolated %v, the measurement %v", k, pol.Extrapolated, extrapolated)
		}
	}
}
