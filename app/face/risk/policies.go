package risk

import (
	"slices"

	"smartpass.city/smartpass/app/face/gallery"
	"smartpass.city/smartpass/app/facility"
)

// Margins are chosen, not measured (the package comment says why): the
// existing 0.03 where a mistake admits or checks in the wrong person,
// 0.05 where it charges the wrong wallet or shows the wrong patient's
// record.
const (
	marginAdmit = 0.03
	marginHarm  = 0.05
)

// Target is a kind's policy: what a wrong match costs there, as a target
// FPIR per identification, and the margin, turn check and second factor
// that go with it. The rule at a gallery size follows from it (At).
type Target struct {
	Kind       Kind
	TargetFPIR float64
	Margin     float32
	TurnCheck  bool
	// Intended is the second factor the kind needs when the face alone
	// reaches its target; Always replaces it where it does not.
	Intended SecondFactor
	// MeasuredOnly is true where a wrong match harms (someone else's
	// wallet charged, a stranger's medication shown): the face alone only
	// where the basis shows the per-pair rate directly, never on the
	// fitted tail's word alone (Policy.Extrapolated). A set of a city's
	// size, measured into the basis, is what lets such a kind use the
	// face alone at a city's gallery.
	MeasuredOnly bool
}

// targets is every kind's policy. The targets are decisions, not
// measurements:
//   - play park and shelter, 1e-3: a stranger taken for a resident gets
//     free entry to a park, or a shelter's check-in in someone's name;
//     staff are at hand and the record shows it. One in a thousand is the
//     worst tolerable.
//   - hospital reception, 1e-4: a wrong check-in opens the wrong
//     patient's queue entry; the desk usually catches it, but medical
//     records are at stake.
//   - emergency, 1e-5: the patient cannot turn their head (no turn check
//     guards it), and a wrong match shows a stranger's allergies and
//     medication to the doctor treating them.
//   - shop, transit, donation, 1e-5: a wrong match charges someone
//     else's wallet, and a payment terminal is where people try.
//
// Emergency and payment are MeasuredOnly: their rates lie beyond what
// the shared sets can show (3.8e-5 per pair), so today the face only
// proposes there, with any network, until a larger measured basis.
var targets = map[Kind]Target{
	PlayPark:          {PlayPark, 1e-3, marginAdmit, true, Never, false},
	Shelter:           {Shelter, 1e-3, marginAdmit, false, Never, false},
	HospitalReception: {HospitalReception, 1e-4, marginAdmit, true, Never, false},
	HospitalEmergency: {HospitalEmergency, 1e-5, marginHarm, false, Never, true},
	Shop:              {Shop, 1e-5, marginHarm, true, AboveLimit, true},
	Transit:           {Transit, 1e-5, marginHarm, true, AboveLimit, true},
	Donation:          {Donation, 1e-5, marginHarm, true, AboveLimit, true},
}

// At is the rule, on basis b, of a terminal of this kind holding n
// templates.
func (t Target) At(b *Basis, n int) Policy {
	p := Policy{Kind: t.Kind, GallerySize: n, TargetFPIR: t.TargetFPIR, SecondFactor: t.Intended, TurnCheck: t.TurnCheck, Basis: b}
	th, ex := b.Threshold(p.PairFAR())
	p.Decision = gallery.Rule{Threshold: float32(th), Margin: t.Margin}
	p.Extrapolated = ex
	if !p.Reachable() || (t.MeasuredOnly && ex) {
		p.SecondFactor = Always
	}
	return p
}

// FaceAloneUpTo is the largest gallery at which the face alone meets
// the kind's target with a usable TAR on basis b (measured, for a
// MeasuredOnly kind); beyond it the rule requires the second factor
// Always. 0 when no gallery does.
func (t Target) FaceAloneUpTo(b *Basis) int {
	alone := func(n int) bool { return t.At(b, n).SecondFactor != Always }
	if !alone(1) {
		return 0
	}
	lo, hi := 1, 1<<40 // alone at lo; assumed not at hi
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if alone(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// Kinds lists every kind with a rule, in a stable order.
func Kinds() []Kind {
	ks := make([]Kind, 0, len(targets))
	for k := range targets {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// TargetOf returns kind's policy; ok is false for a kind without one.
func TargetOf(k Kind) (t Target, ok bool) {
	t, ok = targets[k]
	return t, ok
}

// For returns kind's rule on basis b at a gallery of n templates; ok is
// false for a kind without one.
func (b *Basis) For(k Kind, n int) (p Policy, ok bool) {
	t, ok := targets[k]
	if !ok {
		return Policy{}, false
	}
	return t.At(b, n), true
}

// ForFacility returns the rule, on basis b, of a terminal at a facility
// of kind k holding n templates. A hospital's terminal is its reception
// (the emergency tablet asks ForKind(model, HospitalEmergency, n)); a kind without
// a rule gets the strictest one, with the second factor every time, so a
// new kind of terminal is never looser than payment by accident.
func (b *Basis) ForFacility(k facility.Kind, n int) Policy {
	if t, ok := targets[Kind(k)]; ok {
		return t.At(b, n)
	}
	s := targets[Shop].At(b, n)
	s.Kind, s.SecondFactor, s.TurnCheck = Kind(k), Always, true
	return s
}

// ForTerminal is the rule of a terminal whose templates and frames come
// from the model file's network model, at a facility of kind k holding n
// templates: its basis's ForFacility, or, for a network no basis
// measures, Closed (a face proposes nobody; the card or the QR pass
// decides).
func ForTerminal(model string, k facility.Kind, n int) Policy {
	b, err := BasisOf(model)
	if err != nil {
		return Closed(Kind(k), n)
	}
	return b.ForFacility(k, n)
}

// ForKind is ForTerminal for a kind of terminal that is not a facility's
// own (the emergency tablet, a till): its basis's For, or Closed.
func ForKind(model string, k Kind, n int) Policy {
	if b, err := BasisOf(model); err == nil {
		if p, ok := b.For(k, n); ok {
			return p
		}
	}
	return Closed(k, n)
}

// Closed is the rule where no basis says what a score means: no score
// is accepted (cosines are at most 1) and the second factor decides
// every time.
func Closed(k Kind, n int) Policy {
	return Policy{Kind: k, GallerySize: n, TargetFPIR: targets[Shop].TargetFPIR,
		Decision:     gallery.Rule{Threshold: gallery.Unreachable, Margin: marginHarm},
		Extrapolated: true, SecondFactor: Always, TurnCheck: true}
}
