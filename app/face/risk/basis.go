package risk

import (
	"fmt"
	"math"
	"slices"

	"smartpass.city/smartpass/app/face/embed"
	"smartpass.city/smartpass/app/face/liveness"
	"smartpass.city/smartpass/app/face/roc"
)

// Basis is what one recognition network's thresholds stand on: its
// pipeline's impostor and genuine scores on labelled sets. Each network
// scores on its own scale (dlib's impostors reach 0.92, MobileFaceNet's
// 0.28), so a rule is always read off the basis of the network that made
// the templates, never another's.
//
// Sets, for every basis: every pair of images within
// ../shared/testdata/faces/identities (8 people × 5 colour crops: 80
// genuine, 700 impostor pairs) and within ../shared/testdata/faces/orl
// (AT&T Laboratories Cambridge, 40 people × 10 grey 92×112: 1,800
// genuine, 78,000 impostor pairs), pooled (a pair across the two sets
// would be too easy to refuse), through the pipeline of `make models`
// with that network (pigo's face finder, face-api's 68-point landmarks,
// the network's own chip). Command: `go test -run TestRulesKeepTheirBasis
// -v ./app/face/risk` measures every figure of every basis again and
// fails when one drifts from its constant; `go run
// ./app/face/cmd/faceeval -model bin/models/face-NET.spm -rule all DIR`
// gives each set's own.
type Basis struct {
	// Net is the network as `make models FACE_NET=…` names it.
	Net string
	// Model is the model file's network name (face.Pipeline.Model), which
	// every template carries.
	Model string
	// GenuinePairs and ImpostorPairs are the pooled pairs measured.
	GenuinePairs, ImpostorPairs int
	// Measured is the pooled impostor scores' empirical quantile (the
	// threshold roc.ThresholdAtFAR reads off the pairs, rounded up to
	// 1e-4) at rates from 1e-2 down to MeasuredFloor, most frequent
	// first. Between two rates the stricter one's threshold applies, so
	// a rule inside the data is never looser than the data.
	Measured []Quantile
	// Tail is the normal tail fitted to the pooled impostor scores
	// (roc.FitTail: least squares of the score on the normal quantile of
	// its exceedance rate, over 1e-2 down to MeasuredFloor). Below
	// MeasuredFloor it is all there is, orders of magnitude beyond the
	// data; a set of a city's size has to confirm it.
	Tail roc.Tail
	// UsableThreshold is the highest threshold that still accepts
	// UsableTAR of the pooled genuine pairs (roc.ThresholdAtTAR, rounded
	// down to 1e-4): above it the face alone is not worth using.
	UsableThreshold float64
	// SamePerson is the least cosine between each frame of a head-turn
	// check and its first (liveness.Params.SamePerson), so that a person
	// swapped in mid-check fails it. Chosen for dlib, 0.9 (the shared
	// set's same-person photos with the head turned score 0.96); every
	// other network's is its pooled impostor quantile at the rate dlib's
	// choice lets through, SamePersonFAR, so the check is as strict
	// whichever network runs it.
	SamePerson float32
}

// SamePersonFAR is the share of the pooled impostor pairs that dlib's
// SamePerson, 0.9, accepts (6.4%, measured by TestRulesKeepTheirBasis): the
// rate every network's SamePerson is set at.
const SamePersonFAR = 0.0641

// Liveness returns liveness.Params p with the basis's SamePerson: the
// head-turn check's parameters for templates of this network.
func (b *Basis) Liveness(p liveness.Params) liveness.Params {
	p.SamePerson = b.SamePerson
	return p
}

// Quantile is one measured point of a basis: the threshold at which a
// share FAR of the impostor pairs is accepted.
type Quantile struct{ FAR, Threshold float64 }

// MeasuredFloor is the smallest per-pair rate the basis shows directly:
// roc.MinPairsPerFAR impostors above the threshold among its impostor
// pairs (3.8e-5 for the shared sets). Below it the threshold follows the
// fit.
func (b *Basis) MeasuredFloor() float64 {
	return float64(roc.MinPairsPerFAR) / float64(b.ImpostorPairs)
}

// Threshold is the threshold for a per-pair false-accept rate far: the
// measured quantile where the basis shows far (extrapolated false), the
// fitted tail's below MeasuredFloor, but never below the strictest
// measured quantile (extrapolated true).
func (b *Basis) Threshold(far float64) (threshold float64, extrapolated bool) {
	for _, m := range b.Measured {
		if m.FAR <= far {
			return m.Threshold, false
		}
	}
	return math.Max(b.Tail.Threshold(far), b.Measured[len(b.Measured)-1].Threshold), true
}

// The pooled shared sets' pairs, the same for every basis.
const (
	sharedGenuinePairs  = 1880
	sharedImpostorPairs = 78700
	sharedFloor         = float64(roc.MinPairsPerFAR) / sharedImpostorPairs
)

// dlibResNet is the basis of face-api's dlib ResNet-29, the
// public-domain alternative: the 8-bit model file of `make models
// FACE_NET=dlib` (6.97 MB), pigo's face
// finder, face-api's 68-point landmarks and dlib's mean-shape chip
// (measured at commit 8c51515). The tail, fitted on 1e-2 to 1e-3 only,
// predicts 0.9488 at 1e-4 where the pairs give 0.9438: on these sets it
// errs to the strict side.
var dlibResNet = &Basis{
	Net: "dlib", Model: embed.ModelName,
	GenuinePairs: sharedGenuinePairs, ImpostorPairs: sharedImpostorPairs,
	Measured: []Quantile{
		{1e-2, 0.9203},
		{5e-3, 0.9259},
		{2e-3, 0.9316},
		{1e-3, 0.9352},
		{5e-4, 0.9379},
		{2e-4, 0.9416},
		{1e-4, 0.9438},
		{5e-5, 0.9443},
		{sharedFloor, 0.9443},
	},
	Tail:            roc.Tail{Mean: 0.87847, SD: 0.018255, Low: sharedFloor, High: 1e-2, Pairs: sharedImpostorPairs},
	UsableThreshold: 0.9525,
	SamePerson:      0.9,
}

// bases is every network a model file may hold: dlib's, then
// MobileFaceNet's (the default `make models` builds). The
// bases are unexported so no package can swap one; the pointers Bases
// and BasisOf hand out are for reading (a basis is measured data, never
// written after init).
var bases = []*Basis{dlibResNet, mobileFaceNet}

// Bases lists the basis of every network, in the order of bases (a copy
// of the list: no caller reorders or drops one).
func Bases() []*Basis { return slices.Clone(bases) }

// ErrNoBasis is returned for a model file's network no basis measures.
var ErrNoBasis = fmt.Errorf("risk: no measured basis for this face network")

// BasisOf returns the basis of the network a model file names
// (face.Pipeline.Model).
func BasisOf(model string) (*Basis, error) {
	for _, b := range bases {
		if b.Model == model {
			return b, nil
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrNoBasis, model)
}
