package evaluate

import (
	"math"

	"smartpass.city/smartpass/app/face/gallery"
	"smartpass.city/smartpass/app/face/risk"
	"smartpass.city/smartpass/app/face/roc"
)

// Probe is one open-set search: who the probe really is (Mate; "" for a
// person not enrolled) and the gallery's two best matches, as a terminal
// sees them.
type Probe struct {
	Mate string
	Top  []gallery.Match
}

// OpenRates is one rule's open-set figures. A false accept is a probe of
// a person not enrolled accepted as anyone (FPIR counts them); a miss is
// an enrolled person's probe not accepted as themselves, refused or taken
// for someone else (FNIR).
type OpenRates struct {
	Threshold    float32 `json:"threshold"`
	Margin       float32 `json:"margin"`
	FalseAccepts int     `json:"false_accepts"`
	FPIR         float64 `json:"fpir"`
	Misses       int     `json:"misses"`
	FNIR         float64 `json:"fnir"`
}

// Rates applies rule to every probe.
func Rates(probes []Probe, rule gallery.Rule) OpenRates {
	r := OpenRates{Threshold: rule.Threshold, Margin: rule.Margin}
	mated, strangers := 0, 0
	for _, p := range probes {
		d := rule.Decide(p.Top)
		if p.Mate == "" {
			strangers++
			if d.Accepted {
				r.FalseAccepts++
			}
			continue
		}
		mated++
		if !d.Accepted || d.ID != p.Mate {
			r.Misses++
		}
	}
	r.FPIR, r.FNIR = ratio(r.FalseAccepts, strangers), ratio(r.Misses, mated)
	return r
}

func ratio(n, of int) float64 {
	if of == 0 {
		return math.NaN()
	}
	return float64(n) / float64(of)
}

// Open is the open-set figures of a set: half its identities enrolled
// (the first, third, … by name), searched by every other image of them
// (mated probes) and by every image of the rest (non-mated probes). An
// image without a face is a mated probe missed, and a non-mated probe
// refused. Rank1 is the mated probes whose best match is themselves.
type Open struct {
	Enrolled       int                  `json:"enrolled"`
	NotEnrolled    int                  `json:"not_enrolled"`
	MatedProbes    int                  `json:"mated_probes"`
	NonMatedProbes int                  `json:"non_mated_probes"`
	Rank1          float64              `json:"rank1"`
	Rules          map[string]OpenRates `json:"rules"`

	// EnrolledNames are the identities enrolled, so a reader can repeat
	// the split.
	EnrolledNames []string `json:"-"`
	Probes        []Probe  `json:"-"`
}

// Open searches the set as terminals do (package gallery, top two) and
// applies each rule, by name.
func (s *Set) Open(rules map[string]gallery.Rule) Open {
	var o Open
	var g *gallery.Gallery
	enrolled := make([]bool, len(s.Names))
	first := make([]int, len(s.Names)) // the file enrolled, per identity
	for i, vecs := range s.Vecs {
		if i%2 != 0 {
			o.NotEnrolled++
			continue
		}
		first[i] = -1
		for j, v := range vecs {
			if v == nil {
				continue
			}
			if g == nil {
				g = gallery.New("evaluate", len(v))
			}
			g.Put(s.Names[i], v)
			enrolled[i], first[i] = true, j
			o.Enrolled++
			o.EnrolledNames = append(o.EnrolledNames, s.Names[i])
			break
		}
	}
	hits := 0
	for i, vecs := range s.Vecs {
		for j, v := range vecs {
			mate := ""
			if enrolled[i] {
				if j == first[i] {
					continue
				}
				mate = s.Names[i]
			} else if i%2 == 0 {
				continue // enrolled nobody: no face in any image
			}
			var top []gallery.Match
			if v != nil && g != nil {
				top = g.TopK(v, 2, nil)
			}
			o.Probes = append(o.Probes, Probe{Mate: mate, Top: top})
			if mate == "" {
				o.NonMatedProbes++
				continue
			}
			o.MatedProbes++
			if len(top) > 0 && top[0].ID == mate {
				hits++
			}
		}
	}
	o.Rank1 = ratio(hits, o.MatedProbes)
	o.Rules = make(map[string]OpenRates, len(rules))
	for name, r := range rules {
		o.Rules[name] = Rates(o.Probes, r)
	}
	return o
}

// RuleFigures is one facility kind's rule (package risk) measured on a
// set: what it needs, what it gets on every pair of the set, what that
// predicts at the kind's gallery size, and the threshold this set alone
// would give for the rate the kind needs.
type RuleFigures struct {
	Kind         string  `json:"kind"`
	GallerySize  int     `json:"gallery_size"`
	TargetFPIR   float64 `json:"target_fpir"`
	PairFAR      float64 `json:"pair_far"`
	Threshold    float32 `json:"threshold"`
	Margin       float32 `json:"margin"`
	SecondFactor string  `json:"second_factor"`
	TurnCheck    bool    `json:"turn_check"`
	// Extrapolated: the threshold follows the fitted tail (package risk).
	Extrapolated bool `json:"extrapolated"`
	// FaceAloneUpTo is the largest gallery at which the kind's face alone
	// is enough (risk.Target.FaceAloneUpTo), when the caller sets it.
	FaceAloneUpTo int `json:"face_alone_up_to,omitempty"`

	ImpostorPairs int     `json:"impostor_pairs"`
	FalseAccepts  int     `json:"false_accepts"`
	FAR           float64 `json:"far"`
	TAR           float64 `json:"tar"`
	// PredictedFPIR is 1 − (1 − FAR)^N with this set's FAR; with no
	// false accept it uses the 95% upper bound 3/pairs instead
	// (FPIRBound true), which is all the set can say.
	PredictedFPIR float64 `json:"predicted_fpir"`
	FPIRBound     bool    `json:"predicted_fpir_is_bound"`
	// SetThreshold is the threshold for PairFAR from this set's pairs
	// alone (roc.ThresholdFor), extrapolated along the fitted tail where
	// the set has too few pairs; null where it has too few even to fit
	// the tail (roc.TailThreshold).
	SetThreshold    *float64 `json:"set_threshold"`
	SetExtrapolated bool     `json:"set_threshold_extrapolated"`
	TARAtSet        *float64 `json:"tar_at_set_threshold"`

	Open *OpenRates `json:"open,omitempty"`
}

// RuleOn measures p on the pairs of a set, and on its open-set probes
// when open is not nil.
func RuleOn(p risk.Policy, pairs Pairs, open *Open) RuleFigures {
	t := float64(p.Decision.Threshold)
	f := RuleFigures{
		Kind: string(p.Kind), GallerySize: p.GallerySize, TargetFPIR: p.TargetFPIR, PairFAR: p.PairFAR(),
		Threshold: p.Decision.Threshold, Margin: p.Decision.Margin, SecondFactor: p.SecondFactor.String(), TurnCheck: p.TurnCheck,
		Extrapolated:  p.Extrapolated,
		ImpostorPairs: len(pairs.Impostor), FalseAccepts: roc.Accepted(pairs.Impostor, t),
		FAR: roc.AcceptRate(pairs.Impostor, t), TAR: roc.AcceptRate(pairs.Genuine, t),
	}
	far := f.FAR
	if f.FalseAccepts == 0 && f.ImpostorPairs > 0 {
		far, f.FPIRBound = 3/float64(f.ImpostorPairs), true
	}
	f.PredictedFPIR = p.FPIR(far)
	if th, ex := roc.ThresholdFor(pairs.Impostor, f.PairFAR); !math.IsNaN(th) {
		tar := roc.AcceptRate(pairs.Genuine, th)
		th = round(th, 4)
		f.SetThreshold, f.SetExtrapolated, f.TARAtSet = &th, ex, &tar
	}
	if open != nil {
		r := Rates(open.Probes, p.Decision)
		f.Open = &r
	}
	return f
}
