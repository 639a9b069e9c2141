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

// Run evaluates the pipeline on dir. Progress and per-image notes go to
// log when it is not nil.
func Run(p *face.Pipeline, dir string, log io.Writer) (Report, error) {
	set, err := readSet(dir)
	if err != nil {
		return Report{}, err
	}
	return evaluate(p, set, log), nil
}

func evaluate(p *face.Pipeline, set []identity, w io.Writer) Report {
	rep := Report{Identities: len(set)}
	if w == nil {
		w = io.Discard
	}
	logf := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	var took time.Duration
	processed := 0
	type probe struct {
		id   int
		path string
		vec  []float32
	}
	gallery := make([][]float32, len(set))
	var probes []probe
	for i, id := range set {
		for j, path := range id.files {
			rep.Images++
			processed++
			vec := templateOf(p, path, logf, &took, &rep.Assumed)
			if vec != nil {
				rep.Detected++
			}
			if gallery[i] == nil {
				if vec == nil {
					logf("%s: no face in %s, enrolling the next image", id.name, filepath.Base(path))
					continue
				}
				if j > 0 {
					logf("%s: enrolled %s", id.name, filepath.Base(path))
				}
				gallery[i] = vec
				continue
			}
			probes = append(probes, probe{id: i, path: path, vec: vec})
		}
	}
	var genuine, impostor []float64
	correct := 0
	for _, pr := range probes {
		best, bestID := math.Inf(-1), -1
		for g, vec := range gallery {
			s := roc.Failed
			if pr.vec != nil && vec != nil {
				s = dot(pr.vec, vec)
			}
			if g == pr.id {
				genuine = append(genuine, s)
			} else {
				impostor = append(impostor, s)
			}
			if s > best {
				best, bestID = s, g
			}
		}
		if bestID == pr.id && best > roc.Failed {
			correct++
		} else {
			logf("rank-1 miss: %s matched %s best (%.3f)", pr.path, set[max(bestID, 0)].name, best)
		}
	}
	if len(probes) > 0 {
		rep.Rank1 = float64(correct) / float64(len(probes))
	}
	rep.ThresholdAtFAR0001, rep.TARAtFAR0001 = roc.ThresholdAtFAR(genuine, impostor, 0.001)
	_, rep.TARAtFAR001 = roc.ThresholdAtFAR(genuine, impostor, 0.01)
	rep.EER = roc.EER(genuine, impostor)
	if processed > 0 {
		rep.MsPerFace = float64(took.Microseconds()) / 1000 / float64(processed)
	}
	rep.ThresholdAtFAR0001 = round(rep.ThresholdAtFAR0001, 4)
	rep.MsPerFace = round(rep.MsPerFace, 1)
	return rep
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
