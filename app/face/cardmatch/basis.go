package cardmatch

import (
	"slices"

	"smartpass.city/smartpass/app/face/embed"
	"smartpass.city/smartpass/app/face/mobilefacenet"
)

// The basis of each network's Threshold: card-like photos (CardLike, then JPEG 2000 at
// PhotoBytes with Debian's opj_compress, decoded with opj_decompress) of
// every image of ../shared/testdata/faces/identities (8 people × 5) and
// ../shared/testdata/faces/orl (40 × 10), each against every live image
// (the original files) of the same set but its own source: ordered pairs,
// card photo first, pooled across the two sets (a pair across sets would
// be too easy to refuse). The pipeline is the one risk's basis names for each network (the
// model file of `make models`, pigo, face-api's landmarks, the network's
// chip), both sides read as tight crops. Command: `go test
// -run TestThresholdKeepsItsBasis -v ./app/face/cardmatch` measures every
// figure again and fails when one drifts from its constant.
const (
	BasisGenuinePairs  = 3760
	BasisImpostorPairs = 157400
)

// TargetFAR is the per-check false-accept rate the 1:1 threshold is set
// for: someone holding another person's card (and so its printed
// 照合番号B) passes one check in ten thousand. Stricter than 1e-3 (TAR
// 0.978 there) because a false accept at the enrollment desk binds a face
// to someone else's identity, while a false reject only falls back to
// staff comparing the photo by eye, as today. The basis has 157,400
// impostor pairs, 15 above this threshold: enough to read the rate
// off (roc.MinPairsPerFAR), few enough that a city's own measurement on
// real cards should replace it.
const TargetFAR = 1e-4

// Basis is one recognition network's 1:1 threshold and what the
// measurement gave there: each network scores on its own scale, so a
// card photo is only ever compared on the threshold of the network that
// embedded it (ThresholdFor).
type Basis struct {
	// Net is the network as `make models FACE_NET=…` names it; Model the
	// model file's name for it (face.Pipeline.Model).
	Net, Model string
	// Threshold is the pooled impostor scores' quantile at TargetFAR,
	// rounded up to 1e-4: never looser than the data.
	Threshold float32
	// MeasuredTAR is the share of genuine pairs the basis accepts at
	// Threshold (rounded down to 1e-3); 1 − MeasuredTAR is the
	// false-reject rate a person whose card it is should expect per try.
	MeasuredTAR float64
}

// bases is every network's (dlib's, then MobileFaceNet's, the default
// `make models` builds); unexported so that no
// package changes a threshold another relies on.
var bases = []Basis{
	{Net: "dlib", Model: embed.ModelName, Threshold: 0.9446, MeasuredTAR: 0.940},
	{Net: "mobilefacenet", Model: mobilefacenet.ModelName, Threshold: 0.4533, MeasuredTAR: 0.993},
}

// Bases is every network's basis, in the order of bases (a copy).
func Bases() []Basis { return slices.Clone(bases) }

// ThresholdFor is the 1:1 threshold for embeddings of the network a
// model file names (face.Pipeline.Model); ok is false for a network
// without a measured basis.
func ThresholdFor(model string) (threshold float32, ok bool) {
	for _, b := range bases {
		if b.Model == model {
			return b.Threshold, true
		}
	}
	return 0, false
}
