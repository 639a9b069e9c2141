package risk

import (
	"math"

	"smartpass.city/smartpass/app/face/roc"
)

// The basis of every threshold: what the pipeline's impostor and genuine
// scores are on labelled sets.
//
// Sets: the dlib ResNet-29 pipeline as merged from face-align (the 8-bit
// model file of `make models`, 6.97 MB; pigo's face finder, face-api's
// 68-point landmarks and dlib's mean-shape chip; measured at commit
// 8c51515, replacing figures of the float16 file with pigo's pupils and
// an eyes-only chip, commit f5ea9f1) on
// every pair of images within ../shared/testdata/faces/identities (8
// people × 5 colour crops: 80 genuine, 700 impostor pairs) and within
// ../shared/testdata/faces/orl (AT&T Laboratories Cambridge, 40 people ×
// 10 grey 92×112: 1,800 genuine, 78,000 impostor pairs), pooled (a pair
// across the two sets would be too easy to refuse). Command: `go test
// -run TestRulesKeepTheirBasis -v ./app/face/risk` measures every figure
// below again and fails when one drifts from its constant; `go run
// ./app/face/cmd/faceeval -rule all DIR` gives each set's own.
const (
	BasisGenuinePairs  = 1880
	BasisImpostorPairs = 78700
)

// MeasuredFloor is the smallest per-pair rate the basis shows directly:
// roc.MinPairsPerFAR impostors above the threshold among
// BasisImpostorPairs (3.8e-5). Below it the threshold follows the fit.
const MeasuredFloor = float64(roc.MinPairsPerFAR) / BasisImpostorPairs

// measured is the pooled impostor scores' empirical quantile (the
// threshold roc.ThresholdAtFAR reads off the pairs, rounded up to 1e-4)
// at rates from 1e-2 down to MeasuredFloor, most frequent first. Between
// two rates the stricter one's threshold applies, so a rule inside the
// data is never looser than the data.
var measured = []struct{ FAR, Threshold float64 }{
	{1e-2, 0.9203},
	{5e-3, 0.9259},
	{2e-3, 0.9316},
	{1e-3, 0.9352},
	{5e-4, 0.9379},
	{2e-4, 0.9416},
	{1e-4, 0.9438},
	{5e-5, 0.9443},
	{MeasuredFloor, 0.9443},
}

// ImpostorTail is the normal tail fitted to the pooled impostor scores
// (roc.FitTail: least squares of the score on the normal quantile of its
// exceedance rate, over the rates 1e-2 down to MeasuredFloor). Below
// MeasuredFloor it is all there is, three to six orders of magnitude
// beyond the data. Checked where it can be: fitted on 1e-2 to 1e-3 only,
// it predicts 0.9488 at 1e-4 where the pairs give 0.9438, so on these sets
// it errs to the strict side. A set of a city's size has to confirm it.
var ImpostorTail = roc.Tail{Mean: 0.87847, SD: 0.018255, Low: MeasuredFloor, High: 1e-2, Pairs: BasisImpostorPairs}

// UsableThreshold is the highest threshold that still accepts UsableTAR
// of the pooled genuine pairs (roc.ThresholdAtTAR, rounded down to
// 1e-4): above it the face alone is not worth using.
const UsableThreshold = 0.9525

// Threshold is the threshold for a per-pair false-accept rate far: the
// measured quantile where the basis shows far (extrapolated false), the
// fitted tail's below MeasuredFloor, but never below the strictest
// measured quantile (extrapolated true).
func Threshold(far float64) (threshold float64, extrapolated bool) {
	for _, m := range measured {
		if m.FAR <= far {
			return m.Threshold, false
		}
	}
	return math.Max(ImpostorTail.Threshold(far), measured[len(measured)-1].Threshold), true
}
