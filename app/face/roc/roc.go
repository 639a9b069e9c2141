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
	n := 0
	for _, s := range scores {
		if s >= t {
			n++
		}
	}
	return float64(n) / float64(len(scores))
}

func sorted(s []float64) []float64 {
	out := append([]float64(nil), s...)
	sort.Float64s(out)
	return out
}
