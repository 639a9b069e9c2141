// Package roc turns the scores of genuine pairs (same person) and
// impostor pairs (different people) into the figures a face matcher is
// judged by: the threshold that keeps false accepts under a target rate,
// the true-accept rate there, and the equal error rate. The terminals'
// decision threshold is chosen with it from measured data, never by hand.
package roc

import (
	"math"
	"sort"
)

// Failed is the score of a pair that could not be scored (no face
// found): below every real score, so it is never accepted.
var Failed = math.Inf(-1)

// ThresholdAtFAR returns the lowest threshold t such that the share of
// impostor scores at or above t is at most far, and the share of genuine
// scores at or above t (the true-accept rate). A score s is accepted when
// s >= t. With n impostor scores, rates below 1/n cannot be told apart
// from zero: the threshold is then just above the highest impostor.
func ThresholdAtFAR(genuine, impostor []float64, far float64) (threshold, tar float64) {
	imp := sorted(impostor)
	allowed := int(math.Floor(far * float64(len(imp))))
	// Accepting the top `allowed` impostors means the threshold sits just
	// above the next one down.
	if len(imp) == 0 {
		threshold = math.Inf(-1)
	} else {
		threshold = math.Nextafter(imp[len(imp)-1-allowed], math.Inf(1))
		for allowed > 0 && imp[len(imp)-allowed] == imp[len(imp)-1-allowed] {
			// Ties with the first rejected impostor would be accepted too.
			allowed--
			threshold = math.Nextafter(imp[len(imp)-1-allowed], math.Inf(1))
		}
	}
	return threshold, acceptRate(genuine, threshold)
}

// EER returns the equal error rate: where the false-accept rate and the
// false-reject rate cross, as the mean of the two at the threshold where
// they are closest.
func EER(genuine, impostor []float64) float64 {
	if len(genuine) == 0 || len(impostor) == 0 {
		return math.NaN()
	}
	candidates := append(append([]float64(nil), genuine...), impostor...)
	candidates = append(candidates, math.Inf(1))
	best, eer := math.Inf(1), 0.0
	for _, t := range candidates {
		far := acceptRate(impostor, t)
		frr := 1 - acceptRate(genuine, t)
		if d := math.Abs(far - frr); d < best {
			best, eer = d, (far+frr)/2
		}
	}
	return eer
}

func acceptRate(scores []float64, t float64) float64 {
	if len(scores) == 0 {
		return math.NaN()
	}
	return float64(Accepted(scores, t)) / float64(len(scores))
}

func sorted(s []float64) []float64 {
	out := append([]float64(nil), s...)
	sort.Float64s(out)
	return out
}

// AcceptRate returns the share of scores at or above t (FAR for impostor
// scores, TAR for genuine ones); NaN for no scores.
func AcceptRate(scores []float64, t float64) float64 { return acceptRate(scores, t) }

// Accepted counts the scores at or above t.
func Accepted(scores []float64, t float64) int {
	n := 0
	for _, s := range scores {
		if s >= t {
			n++
		}
	}
	return n
}

// MinPairsPerFAR is how many impostor pairs per unit of 1/FAR a set needs
// before a rate is read off it directly: at least about three impostors
// must fall above the threshold, or the rate is noise.
const MinPairsPerFAR = 3

// Measurable reports whether n impostor pairs are enough to read off a
// false-accept rate of far (n ≥ MinPairsPerFAR/far).
func Measurable(n int, far float64) bool {
	return float64(n) >= MinPairsPerFAR/far
}

// The impostor tail is fitted between these exceedance rates: above
// tailTop the bulk of the distribution, not its tail, would steer the
// fit; below MinPairsPerFAR/n a handful of pairs would.
const tailTop = 0.01

// Tail is a normal tail fitted to impostor scores: between the
// exceedance rates Low and High, the score whose exceedance is p lies
// near Mean + SD·z(p), z the standard normal quantile. Mean and SD are
// those of the normal distribution whose upper tail matches, not of the
// scores themselves.
type Tail struct {
	Mean, SD  float64
	Low, High float64 // the fitted range of exceedance rates
	Pairs     int     // the impostor scores it was fitted on
}

// FitTail fits the impostor tail (least squares of the score on the
// normal quantile of its exceedance rate, over the rates from 1% down to
// MinPairsPerFAR/n); ok is false when the set has too few pairs to fit
// (fewer than MinPairsPerFAR/tailTop · 10).
func FitTail(impostor []float64) (t Tail, ok bool) {
	n := len(impostor)
	if float64(n) < 10*MinPairsPerFAR/tailTop {
		return Tail{}, false
	}
	return FitTailBetween(impostor, MinPairsPerFAR/float64(n), tailTop), true
}

// FitTailBetween fits the tail as FitTail does, over the exceedance rates
// low…high only: fitted on a range that leaves the smallest measurable
// rates out, the fit can be checked against them.
func FitTailBetween(impostor []float64, low, high float64) Tail {
	imp := sorted(impostor)
	n := len(imp)
	var sx, sy, sxx, sxy, m float64
	for i := 0; ; i++ { // i-th highest score, exceedance (i+0.5)/n
		p := (float64(i) + 0.5) / float64(n)
		if p > high || i >= n {
			break
		}
		if p < low {
			continue
		}
		x, y := normalQuantile(p), imp[n-1-i]
		sx, sy, sxx, sxy, m = sx+x, sy+y, sxx+x*x, sxy+x*y, m+1
	}
	slope := (m*sxy - sx*sy) / (m*sxx - sx*sx)
	return Tail{Mean: (sy - slope*sx) / m, SD: slope, Low: low, High: high, Pairs: n}
}

// Threshold is the score the fitted tail exceeds with probability far.
// Real tails are often heavier than normal ones, so far below Low it is
// an estimate, to be confirmed on a larger set.
func (t Tail) Threshold(far float64) float64 { return t.Mean + t.SD*normalQuantile(far) }

// TailThreshold returns the threshold at which the share of impostor
// scores at or above it is far, for rates too small for the set to show
// (Measurable false), along the tail FitTail fits; ok is false when the
// set has too few pairs to fit.
func TailThreshold(impostor []float64, far float64) (threshold float64, ok bool) {
	t, ok := FitTail(impostor)
	if !ok {
		return math.NaN(), false
	}
	return t.Threshold(far), true
}

// ThresholdAtTAR returns the highest threshold that still accepts at
// least the share tar of the genuine scores; NaN for none.
func ThresholdAtTAR(genuine []float64, tar float64) float64 {
	if len(genuine) == 0 {
		return math.NaN()
	}
	g := sorted(genuine)
	k := int(math.Floor((1 - tar) * float64(len(g))))
	k = min(max(k, 0), len(g)-1)
	return g[k]
}

// ThresholdFor returns the threshold for a false-accept rate of far:
// read off the scores where the set has the pairs for it, fitted by
// TailThreshold below that (extrapolated true).
func ThresholdFor(impostor []float64, far float64) (threshold float64, extrapolated bool) {
	if Measurable(len(impostor), far) {
		t, _ := ThresholdAtFAR(nil, impostor, far)
		return t, false
	}
	t, _ := TailThreshold(impostor, far)
	return t, true
}

// normalQuantile is the z at which a standard normal variable exceeds z
// with probability p.
func normalQuantile(p float64) float64 { return math.Sqrt2 * math.Erfcinv(2*p) }
