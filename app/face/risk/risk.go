// Package risk holds the face decision of every kind of facility: the
// threshold and margin a best match must clear, and when a second factor
// (the My Number Card with its PIN, or the signed QR pass) must back the
// face up. Each is derived from a target false-match rate per
// identification at the terminal's actual gallery size N (the templates
// it holds for its facility), not per pair: a stranger in front of a
// terminal is compared with every template there, so before the margin
// the chance that someone is accepted is FPIR = 1 − (1 − FAR)^N, and the
// per-pair rate a terminal needs is
//
//	FAR = 1 − (1 − FPIR_target)^(1/N) ≈ FPIR_target / N.
//
// The threshold for that FAR is the measured impostor scores' quantile
// where the basis sets have the pairs to show it, and beyond them the
// fitted normal tail's, never below the strictest quantile measured
// (basis.go says which sets, how many pairs and which command, and a test
// measures it all again, so a rule cannot quietly lose its basis when the
// model or the alignment changes). Where the threshold a gallery needs
// leaves fewer than UsableTAR of genuine pairs accepted, the rule asks
// for the second factor every time instead of pretending the face alone
// is enough: a rule is a function of N, and a terminal computes it again
// whenever its gallery changes.
//
// Every recognition network scores on its own scale, so each has its
// own Basis, and a terminal reads its rule off the basis of the network
// its model file holds (ForTerminal); a network without one gets the
// Closed rule, where the face decides nothing.
//
// The margin (best over second best) is not in the FPIR figure, which
// is therefore conservative; it guards against two look-alike residents
// (siblings, twins) in one gallery, and is chosen, not measured.
package risk

import (
	"fmt"
	"math"

	"smartpass.city/smartpass/app/face/gallery"
	"smartpass.city/smartpass/app/facility"
)

// Kind names what a terminal does, for its rule: a facility kind of
// package facility, or one of the kinds the payment, transit, donation
// and emergency work adds.
type Kind string

// The kinds with a rule.
const (
	PlayPark          = Kind(facility.PlayPark)
	Shelter           = Kind(facility.Shelter)
	HospitalReception = Kind(facility.Hospital)
	// HospitalEmergency identifies a patient who cannot turn their head
	// (unconscious, brought in by ambulance): no turn check guards it, and
	// a wrong match shows a stranger's allergies and medication.
	HospitalEmergency Kind = "emergency"
	Shop              Kind = "shop"     // payment at a shop terminal
	Transit           Kind = "transit"  // fares on a bus or shared taxi
	Donation          Kind = "donation" // hometown-tax gifts at a counter
)

// SecondFactor says when the face alone is not enough.
type SecondFactor int

// When a second factor is required.
const (
	// Never: the face (and the terminal's turn check) decides.
	Never SecondFactor = iota
	// AboveLimit: the payer confirms whose wallet pays on every payment,
	// and above their face-only limit (their choice; the wallet issue's
	// default is ¥3,000) shows the card with its PIN or the QR pass.
	AboveLimit
	// Always: the face only proposes who it is; the card with its PIN or
	// the QR pass confirms every time, because the pipeline cannot reach
	// the facility's target with a usable TAR (see Policy.Reachable).
	Always
)

func (s SecondFactor) String() string {
	switch s {
	case Never:
		return "never"
	case AboveLimit:
		return "above the payer's limit"
	case Always:
		return "always"
	}
	return fmt.Sprintf("SecondFactor(%d)", int(s))
}

// DefaultPayerLimit is the face-only limit of a payer who set none, in
// yen (the wallet issue's default).
const DefaultPayerLimit = 3000

// UsableTAR is the least share of genuine comparisons a threshold must
// accept for the face alone to be worth using: a terminal tries every
// frame, so 90% per frame admits nearly everyone within a second, while
// below it people stand and wait and fall back to staff. On the basis
// sets it is reached at each basis's UsableThreshold (basis.go).
const UsableTAR = 0.90

// Policy is one kind's rule at one gallery size, and where it came from.
type Policy struct {
	Kind Kind
	// GallerySize is the templates the terminal holds for its facility.
	GallerySize int
	// TargetFPIR is the accepted chance, per identification, that a
	// person not enrolled here is taken for someone who is.
	TargetFPIR float64
	// Decision is the threshold (Basis.Threshold(PairFAR()); above every
	// cosine in a Closed rule) and the kind's margin.
	Decision gallery.Rule
	// Extrapolated is true when the basis sets hold too few impostor
	// pairs to show PairFAR and the threshold follows the fitted tail.
	Extrapolated bool
	// SecondFactor is when the face must be backed up.
	SecondFactor SecondFactor
	// TurnCheck is whether the terminal asks for a head turn first
	// (package liveness).
	TurnCheck bool
	// Basis is what the threshold was read off: the network's measured
	// scores; nil in a Closed rule.
	Basis *Basis
}

// PairFAR is the per-pair false-accept rate the target needs at the
// gallery size: 1 − (1 − FPIR_target)^(1/N), about FPIR_target / N.
func (p Policy) PairFAR() float64 { return PairFAR(p.TargetFPIR, p.GallerySize) }

// PairFAR is the per-pair rate at which a gallery of n templates
// accepts a stranger with probability fpir (before the margin); a gallery
// of fewer than one template counts as one.
func PairFAR(fpir float64, n int) float64 {
	return -math.Expm1(math.Log1p(-fpir) / float64(max(n, 1)))
}

// FPIR is the chance per identification that a stranger is accepted as
// someone in a gallery of p.GallerySize when each pair is falsely
// accepted with probability far, before the margin.
func (p Policy) FPIR(far float64) float64 {
	return -math.Expm1(float64(max(p.GallerySize, 1)) * math.Log1p(-far))
}

// Reachable is whether the face alone meets the target with a usable
// TAR (the threshold at most the basis's UsableThreshold); a rule for
// which it is false requires the second factor Always.
func (p Policy) Reachable() bool {
	return p.Basis != nil && float64(p.Decision.Threshold) <= p.Basis.UsableThreshold
}
