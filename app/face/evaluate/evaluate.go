// Package evaluate measures the face pipeline on a labelled set of
// images, one folder per identity: it enrolls the first image of each
// identity, probes with the others against every enrolled identity, and
// reports the figures the issue and the README quote (TAR at a FAR, the
// threshold there, rank-1, EER, time per face). Command faceeval prints
// them; the tests hold the pipeline to them on ../shared/testdata/faces.
//
// Scores are cosines of float16 templates, as terminals compare them. An
// image in which no face is found is a failure, not a skip: as a probe it
// is never accepted and never ranked first. No quality gate is applied
// (the gate is for live capture, where the person can try again), and
// images may be tight crops (face.Options.Crops).
//
// The pupil and landmark cascades jitter their start with the global
// random generator; Run seeds it before every image, so two runs give
// the same figures when the program has turned rand.Seed back on with
// //go:debug randseednop=0 (faceeval and the tests do).
package evaluate

import (
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"time"

	"smartpass.city/smartpass/app/face"
	"smartpass.city/smartpass/app/face/photo"
	"smartpass.city/smartpass/app/face/roc"
	"smartpass.city/smartpass/app/template"
)

// Report holds the figures, in the JSON form faceeval prints.
type Report struct {
	Identities         int     `json:"identities"`
	Images             int     `json:"images"`
	Detected           int     `json:"detected"`
	TARAtFAR0001       float64 `json:"tar_at_far_0.001"`
	TARAtFAR001        float64 `json:"tar_at_far_0.01"`
	Rank1              float64 `json:"rank1"`
	EER                float64 `json:"eer"`
	ThresholdAtFAR0001 float64 `json:"threshold_at_far_0.001"`
	MsPerFace          float64 `json:"ms_per_face"`
	// ImpostorPairs is how many impostor pairs the closed protocol
	// scored; TAR at 1e-4 and 1e-5 is null (n/a) below
	// roc.MinPairsPerFAR/FAR of them.
	ImpostorPairs int      `json:"impostor_pairs"`
	TARAtFAR1e4   *float64 `json:"tar_at_far_0.0001"`
	TARAtFAR1e5   *float64 `json:"tar_at_far_0.00001"`
	// AllPairs holds the figures of every pair of images (Set.Pairs).
	AllPairs *Pairs `json:"all_pairs,omitempty"`
	// Open holds the open-set figures (Set.Open), when asked for.
	Open *Open `json:"open,omitempty"`
	// Rules holds facility kinds' rules measured on the set (RuleOn),
	// when asked for.
	Rules []RuleFigures `json:"rules,omitempty"`
	// Assumed counts templates from crops taken as the face because the
	// detector found none (not part of the JSON line).
	Assumed int `json:"-"`
}

// identity is one person's image files, sorted.
type identity struct {
	name  string
	files []string
}

func readSet(dir string) ([]identity, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var set []identity
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		files, err := os.ReadDir(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		id := identity{name: e.Name()}
		for _, f := range files {
			if f.Type().IsRegular() {
				id.files = append(id.files, filepath.Join(dir, e.Name(), f.Name()))
			}
		}
		sort.Strings(id.files)
		if len(id.files) > 0 {
			set = append(set, id)
		}
	}
	if len(set) < 2 {
		return nil, fmt.Errorf("%s: need at least two identity folders with images, found %d", dir, len(set))
	}
	return set, nil
}

// templateOf returns the unit-length float16 template of one file, or nil.
func templateOf(p *face.Pipeline, path string, logf func(string, ...any), took *time.Duration, assumed *int) []float32 {
	data, err := os.ReadFile(path)
	if err != nil {
		logf("%s: %v", path, err)
		return nil
	}
	img, err := photo.Decode(data)
	if err != nil {
		logf("%s: %v", path, err)
		return nil
	}
	rand.Seed(1)
	r, err := p.Process(img, face.Options{Crops: true})
	*took += r.Detect + r.Align + r.Embed
	if err != nil {
		logf("%s: %v", path, err)
		return nil
	}
	if r.Assumed {
		*assumed++
	}
	logf("%s: eyes %.0f,%.0f %.0f,%.0f assumed=%v quality %+v", path, r.Face.LeftEye.X, r.Face.LeftEye.Y, r.Face.RightEye.X, r.Face.RightEye.Y, r.Assumed, r.Quality)
	return template.Unpack(template.Pack(r.Embedding))
}

// Set is a labelled set's templates, made once and then scored in every
// protocol: the closed-set figures (Closed), every pair (Pairs) and the
// open set (Open).
type Set struct {
	Names []string
	Files [][]string
	// Vecs holds each file's unit-length float16 template, nil where no
	// face was found.
	Vecs [][][]float32
	// Images, Detected and Assumed count the files, those that gave a
	// template, and of those the crops taken as the face.
	Images, Detected, Assumed int
	took                      time.Duration
}

// Load reads dir (one folder per identity) and makes every template.
// Progress and per-image notes go to log when it is not nil.
func Load(p *face.Pipeline, dir string, log io.Writer) (*Set, error) {
	ids, err := readSet(dir)
	if err != nil {
		return nil, err
	}
	logf := logger(log)
	s := &Set{}
	for _, id := range ids {
		vecs := make([][]float32, len(id.files))
		for j, path := range id.files {
			s.Images++
			vecs[j] = templateOf(p, path, logf, &s.took, &s.Assumed)
			if vecs[j] != nil {
				s.Detected++
			}
		}
		s.Names, s.Files, s.Vecs = append(s.Names, id.name), append(s.Files, id.files), append(s.Vecs, vecs)
	}
	return s, nil
}

func logger(w io.Writer) func(string, ...any) {
	if w == nil {
		w = io.Discard
	}
	return func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
}

// Run evaluates the pipeline on dir: the closed-set figures and every
// pair's. Progress and per-image notes go to log when it is not nil.
func Run(p *face.Pipeline, dir string, log io.Writer) (Report, error) {
	s, err := Load(p, dir, log)
	if err != nil {
		return Report{}, err
	}
	rep := s.Closed(log)
	pairs := s.Pairs()
	rep.AllPairs = &pairs
	return rep, nil
}

// Closed is the closed-set protocol: each identity's first image with a
// face is enrolled, every other image probes against every enrolled
// identity (a probe without a face scores roc.Failed against all).
func (s *Set) Closed(log io.Writer) Report {
	logf := logger(log)
	rep := Report{Identities: len(s.Names), Images: s.Images, Detected: s.Detected, Assumed: s.Assumed}
	type probe struct {
		id   int
		path string
		vec  []float32
	}
	gallery := make([][]float32, len(s.Names))
	var probes []probe
	for i, vecs := range s.Vecs {
		for j, vec := range vecs {
			if gallery[i] == nil {
				if vec == nil {
					logf("%s: no face in %s, enrolling the next image", s.Names[i], filepath.Base(s.Files[i][j]))
					continue
				}
				if j > 0 {
					logf("%s: enrolled %s", s.Names[i], filepath.Base(s.Files[i][j]))
				}
				gallery[i] = vec
				continue
			}
			probes = append(probes, probe{id: i, path: s.Files[i][j], vec: vec})
		}
	}
	var genuine, impostor []float64
	correct := 0
	for _, pr := range probes {
		best, bestID := math.Inf(-1), -1
		for g, vec := range gallery {
			sc := roc.Failed
			if pr.vec != nil && vec != nil {
				sc = dot(pr.vec, vec)
			}
			if g == pr.id {
				genuine = append(genuine, sc)
			} else {
				impostor = append(impostor, sc)
			}
			if sc > best {
				best, bestID = sc, g
			}
		}
		if bestID == pr.id && best > roc.Failed {
			correct++
		} else {
			logf("rank-1 miss: %s matched %s best (%.3f)", pr.path, s.Names[max(bestID, 0)], best)
		}
	}
	if len(probes) > 0 {
		rep.Rank1 = float64(correct) / float64(len(probes))
	}
	rep.ThresholdAtFAR0001, rep.TARAtFAR0001 = roc.ThresholdAtFAR(genuine, impostor, 0.001)
	_, rep.TARAtFAR001 = roc.ThresholdAtFAR(genuine, impostor, 0.01)
	rep.TARAtFAR1e4, rep.TARAtFAR1e5 = tarIfMeasurable(genuine, impostor, 1e-4), tarIfMeasurable(genuine, impostor, 1e-5)
	rep.ImpostorPairs = len(impostor)
	rep.EER = roc.EER(genuine, impostor)
	if s.Images > 0 {
		rep.MsPerFace = float64(s.took.Microseconds()) / 1000 / float64(s.Images)
	}
	rep.ThresholdAtFAR0001 = round(rep.ThresholdAtFAR0001, 4)
	rep.MsPerFace = round(rep.MsPerFace, 1)
	return rep
}

// tarIfMeasurable is the TAR at far, or nil where the impostor pairs are
// too few to show that rate (roc.Measurable).
func tarIfMeasurable(genuine, impostor []float64, far float64) *float64 {
	if !roc.Measurable(len(impostor), far) {
		return nil
	}
	_, tar := roc.ThresholdAtFAR(genuine, impostor, far)
	return &tar
}

// Pairs scores every pair of images in the set: same identity genuine,
// different identities impostor. A pair with a face missing scores
// roc.Failed. It gives far more pairs than the closed protocol (n(n−1)/2
// instead of probes × identities), which is what small false-accept
// rates need; the pairs share images, so they are not independent.
func (s *Set) Pairs() Pairs {
	var ps Pairs
	type item struct {
		id  int
		vec []float32
	}
	var all []item
	for i, vecs := range s.Vecs {
		for _, v := range vecs {
			all = append(all, item{i, v})
		}
	}
	for a := range all {
		for b := a + 1; b < len(all); b++ {
			sc := roc.Failed
			if all[a].vec != nil && all[b].vec != nil {
				sc = dot(all[a].vec, all[b].vec)
			}
			if all[a].id == all[b].id {
				ps.Genuine = append(ps.Genuine, sc)
			} else {
				ps.Impostor = append(ps.Impostor, sc)
			}
		}
	}
	ps.summarise()
	return ps
}

// Cross scores every image of refs against every image of probes, the
// two sets made from the same files (refs the card-like photos of
// probes' images, say): same identity genuine, different impostor, and an
// image never against its own copy. Unlike Pairs the pairs are ordered:
// a card photo of A against a live image of B is not the same pair as B's
// card photo against A's live image.
func Cross(refs, probes *Set) (Pairs, error) {
	if len(refs.Vecs) != len(probes.Vecs) {
		return Pairs{}, fmt.Errorf("evaluate: %d identities against %d", len(refs.Vecs), len(probes.Vecs))
	}
	var ps Pairs
	for i, rv := range refs.Vecs {
		if len(rv) != len(probes.Vecs[i]) || refs.Names[i] != probes.Names[i] {
			return Pairs{}, fmt.Errorf("evaluate: identity %s differs between the sets", refs.Names[i])
		}
		for a, r := range rv {
			for j, pv := range probes.Vecs {
				for b, p := range pv {
					if i == j && a == b {
						continue
					}
					sc := roc.Failed
					if r != nil && p != nil {
						sc = dot(r, p)
					}
					if i == j {
						ps.Genuine = append(ps.Genuine, sc)
					} else {
						ps.Impostor = append(ps.Impostor, sc)
					}
				}
			}
		}
	}
	ps.summarise()
	return ps, nil
}

func round(x float64, digits int) float64 {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return x
	}
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

func dot(a, b []float32) float64 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return float64(s)
}

// Pairs is the figures of every pair of images in a set (Set.Pairs).
// TAR at 1e-4 and 1e-5 is null (n/a) where the impostor pairs are fewer
// than roc.MinPairsPerFAR/FAR.
type Pairs struct {
	Genuine  []float64 `json:"-"`
	Impostor []float64 `json:"-"`

	GenuinePairs       int      `json:"genuine"`
	ImpostorPairs      int      `json:"impostor"`
	TARAtFAR0001       float64  `json:"tar_at_far_0.001"`
	TARAtFAR1e4        *float64 `json:"tar_at_far_0.0001"`
	TARAtFAR1e5        *float64 `json:"tar_at_far_0.00001"`
	ThresholdAtFAR0001 float64  `json:"threshold_at_far_0.001"`
	EER                float64  `json:"eer"`
}

func (ps *Pairs) summarise() {
	ps.GenuinePairs, ps.ImpostorPairs = len(ps.Genuine), len(ps.Impostor)
	ps.ThresholdAtFAR0001, ps.TARAtFAR0001 = roc.ThresholdAtFAR(ps.Genuine, ps.Impostor, 0.001)
	ps.ThresholdAtFAR0001 = round(ps.ThresholdAtFAR0001, 4)
	ps.TARAtFAR1e4 = tarIfMeasurable(ps.Genuine, ps.Impostor, 1e-4)
	ps.TARAtFAR1e5 = tarIfMeasurable(ps.Genuine, ps.Impostor, 1e-5)
	ps.EER = roc.EER(ps.Genuine, ps.Impostor)
}

// Pool joins the pairs of several sets, each scored within itself: a
// pair across sets (a colour photo against a grey 1990s scan) would be an
// impostor pair too easy to refuse, and would make the rates look better
// than they are.
func Pool(sets ...Pairs) Pairs {
	var ps Pairs
	for _, s := range sets {
		ps.Genuine = append(ps.Genuine, s.Genuine...)
		ps.Impostor = append(ps.Impostor, s.Impostor...)
	}
	ps.summarise()
	return ps
}
