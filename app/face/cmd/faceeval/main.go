//go:debug randseednop=0

// Command faceeval measures the face pipeline on a labelled set: DIR holds
// one folder per identity with that person's images (JPEG, PNG, GIF or
// WebP, read by content).
//
//	go run ./app/face/cmd/faceeval [-model assets/models/face.spm] [-flip] [-open [-threshold T -margin M]] [-rule KIND|all] DIR
//
// It prints the figures of package evaluate (see there how they are
// made), one JSON object on its last line:
//
//	{"identities":N,"images":N,"detected":N,"tar_at_far_0.001":x,
//	 "tar_at_far_0.01":x,"rank1":x,"eer":x,"threshold_at_far_0.001":x,
//	 "ms_per_face":x,"impostor_pairs":N,"tar_at_far_0.0001":x|null,
//	 "tar_at_far_0.00001":x|null,"all_pairs":{…},"open":{…},"rules":[…]}
//
// The first nine keys are the closed-set protocol's and keep their
// meaning. TAR at 1e-4 and 1e-5 is null (the text says "n/a (N pairs)")
// where the set has fewer than 3/FAR impostor pairs. "all_pairs" scores
// every pair of images. -open adds the open-set figures: every second
// identity by name enrolled, the rest probing as strangers, FPIR and FNIR
// at every facility kind's rule (package risk) at that gallery's size.
// -rule KIND (or a comma list, or all) prints each kind's rule at gallery
// sizes 10 to 60,000 and the size beyond which it requires the second
// factor, and measures each on the set: false accepts among all impostor
// pairs, TAR, and the threshold this set alone would give.
//
// "detected" counts images that gave a template; a line before the last
// says how many of those were tight crops taken as the face because the
// detector found none. -v prints a line per image and every rank-1 miss.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"smartpass.city/smartpass/app/face"
	"smartpass.city/smartpass/app/face/embed"
	"smartpass.city/smartpass/app/face/evaluate"
	"smartpass.city/smartpass/app/face/gallery"
	"smartpass.city/smartpass/app/face/model"
	"smartpass.city/smartpass/app/face/risk"
)

func main() {
	modelPath := flag.String("model", "assets/models/face.spm", "model file made by `make models`")
	verbose := flag.Bool("v", false, "print one line per image")
	open := flag.Bool("open", false, "print open-set figures: half the identities enrolled, the rest probing as strangers")
	custom := flag.Float64("threshold", 0, "with -open, also measure the rule of this cosine threshold and -margin, named \"custom\" (for a network package risk has no basis for)")
	margin := flag.Float64("margin", 0.03, "the margin of the -threshold rule")
	flip := flag.Bool("flip", false, "embed each face as the mean of its chip's and the mirrored chip's embeddings")
	rules := flag.String("rule", "", "measure the rule of a facility kind ("+kindList()+"), a comma list of them, or all")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: faceeval [-model FILE] [-v] [-flip] [-open] [-rule KIND|all] DIR  (DIR holds one folder of images per identity)")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	kinds, err := parseKinds(*rules)
	if err != nil {
		log.Fatalf("faceeval: %v", err)
	}
	data, err := os.ReadFile(*modelPath)
	if err != nil {
		log.Fatalf("faceeval: %v (run `make models`)", err)
	}
	f, err := model.Decode(data)
	if err != nil {
		log.Fatalf("faceeval: %v", err)
	}
	p, err := face.New(f, embed.Options{Workers: 2})
	if err != nil {
		log.Fatalf("faceeval: %v", err)
	}
	p.SetFlip(*flip)
	fmt.Printf("network %s\n", p.Model())
	// The rules are read off the basis of the file's own network: another
	// network's scores are on another scale.
	basis, err := risk.BasisOf(p.Model())
	if err != nil && (*open || len(kinds) > 0) {
		log.Fatalf("faceeval: %v: -open and -rule need one", err)
	}
	var notes io.Writer = io.Discard
	if *verbose {
		notes = os.Stdout
	}
	set, err := evaluate.Load(p, flag.Arg(0), notes)
	if err != nil {
		log.Fatalf("faceeval: %v", err)
	}
	rep := set.Closed(notes)
	pairs := set.Pairs()
	rep.AllPairs = &pairs
	fmt.Printf("crops taken as the face (no detection): %d of %d templates\n", rep.Assumed, rep.Detected)
	fmt.Printf("closed set (first image enrolled): %d impostor pairs; TAR at FAR 1e-4 %s, at 1e-5 %s\n",
		rep.ImpostorPairs, orNA(rep.TARAtFAR1e4, rep.ImpostorPairs), orNA(rep.TARAtFAR1e5, rep.ImpostorPairs))
	fmt.Printf("all pairs: %d genuine, %d impostor; TAR at FAR 1e-3 %.4f (threshold %.4f), at 1e-4 %s, at 1e-5 %s; EER %.4f\n",
		pairs.GenuinePairs, pairs.ImpostorPairs, pairs.TARAtFAR0001, pairs.ThresholdAtFAR0001,
		orNA(pairs.TARAtFAR1e4, pairs.ImpostorPairs), orNA(pairs.TARAtFAR1e5, pairs.ImpostorPairs), pairs.EER)
	if *open {
		// The rules depend on the gallery's size: a first pass learns how
		// many identities the open protocol enrolls.
		byKind := make(map[string]gallery.Rule)
		n := set.Open(nil).Enrolled
		for _, k := range risk.Kinds() {
			pol, _ := basis.For(k, n)
			byKind[string(k)] = pol.Decision
		}
		if *custom > 0 {
			byKind["custom"] = gallery.Rule{Threshold: float32(*custom), Margin: float32(*margin)}
		}
		o := set.Open(byKind)
		rep.Open = &o
		fmt.Printf("open set: every second identity by name enrolled (%s): %d enrolled, %d not; %d mated probes, %d non-mated; rank-1 of the enrolled %.4f\n",
			strings.Join(o.EnrolledNames, " "), o.Enrolled, o.NotEnrolled, o.MatedProbes, o.NonMatedProbes, o.Rank1)
		for _, k := range risk.Kinds() {
			r := o.Rules[string(k)]
			fmt.Printf("  %-9s at N=%d: threshold %.4f margin %.2f: FPIR %d/%d = %.4f, FNIR %d/%d = %.4f\n",
				k, n, r.Threshold, r.Margin, r.FalseAccepts, o.NonMatedProbes, r.FPIR, r.Misses, o.MatedProbes, r.FNIR)
		}
		if r, ok := o.Rules["custom"]; ok {
			fmt.Printf("  %-9s at N=%d: threshold %.4f margin %.2f: FPIR %d/%d = %.4f, FNIR %d/%d = %.4f\n",
				"custom", n, r.Threshold, r.Margin, r.FalseAccepts, o.NonMatedProbes, r.FPIR, r.Misses, o.MatedProbes, r.FNIR)
		}
	}
	if len(kinds) > 0 {
		fmt.Printf("rules by gallery size N (package risk's basis of %s; face alone while the threshold is at most %.4f, TAR %.2f on the basis pairs):\n", basis.Net, basis.UsableThreshold, risk.UsableTAR)
	}
	for _, k := range kinds {
		t, _ := risk.TargetOf(k)
		upTo := t.FaceAloneUpTo(basis)
		fmt.Printf("rule %s: target FPIR %.0e per identification, margin %.2f, turn check %v; face alone up to N=%d, beyond it the second factor always\n",
			k, t.TargetFPIR, t.Margin, t.TurnCheck, upTo)
		for _, n := range tableSizes {
			pol := t.At(basis, n)
			r := evaluate.RuleOn(pol, pairs, nil)
			r.FaceAloneUpTo = upTo
			rep.Rules = append(rep.Rules, r)
			basis := "measured"
			if pol.Extrapolated {
				basis = "fitted tail"
			}
			fmt.Printf("  N=%-6d pair FAR %.2g: threshold %.4f (%s), second factor %s; on this set TAR %.4f, %d of %d impostor pairs accepted",
				n, r.PairFAR, r.Threshold, basis, r.SecondFactor, r.TAR, r.FalseAccepts, r.ImpostorPairs)
			if r.SetThreshold != nil {
				fmt.Printf(", this set alone gives %.4f", *r.SetThreshold)
			}
			fmt.Println()
		}
	}
	out, err := json.Marshal(rep)
	if err != nil {
		log.Fatalf("faceeval: %v", err)
	}
	fmt.Println(string(out))
}

// orNA prints a rate, or "n/a (N pairs)" where the set is too small.
func orNA(x *float64, pairs int) string {
	if x == nil {
		return fmt.Sprintf("n/a (%d pairs)", pairs)
	}
	return fmt.Sprintf("%.4f", *x)
}

// tableSizes are the gallery sizes -rule prints a kind's rule at: a
// terminal's rule follows the templates it actually holds.
var tableSizes = []int{10, 100, 1000, 5000, 60000}

func kindList() string {
	var names []string
	for _, k := range risk.Kinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// parseKinds reads -rule: "", one kind, a comma list, or all.
func parseKinds(s string) ([]risk.Kind, error) {
	if s == "" {
		return nil, nil
	}
	if s == "all" {
		return risk.Kinds(), nil
	}
	var out []risk.Kind
	for _, name := range strings.Split(s, ",") {
		k := risk.Kind(strings.TrimSpace(name))
		if _, ok := risk.TargetOf(k); !ok {
			return nil, fmt.Errorf("-rule %q: no such facility kind (%s)", name, kindList())
		}
		out = append(out, k)
	}
	return out, nil
}
