//go:debug randseednop=0

// Command faceeval measures the face pipeline on a labelled set: DIR holds
// one folder per identity with that person's images (JPEG, PNG, GIF or
// WebP, read by content).
//
//	go run ./app/face/cmd/faceeval [-model assets/models/face.spm] DIR
//
// It enrolls the first image of each identity (sorted by name; if no face
// is found in it, the next one, and says so), probes with every other
// image against every enrolled identity, and prints one JSON object on
// its last line:
//
//	{"identities":N,"images":N,"detected":N,"tar_at_far_0.001":x,
//	 "tar_at_far_0.01":x,"rank1":x,"eer":x,"threshold_at_far_0.001":x,
//	 "ms_per_face":x}
//
// Scores are cosines of float16 templates, as terminals compare them. An
// image in which no face is found is a failure, not a skip: as a probe it
// is never accepted and never ranked first. No quality gate is applied
// (the gate is for live capture, where the person can try again), and
// images may be tight crops: see face.Options.Crops. "detected" counts
// images that gave a template; a line before the last says how many of
// those were crops taken as the face because the detector found none.
//
// The pupil and landmark cascades jitter their start with the global
// random generator; faceeval seeds it before every image so two runs
// print the same figures.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"time"

	"smartpass.city/smartpass/app/face"
	"smartpass.city/smartpass/app/face/embed"
	"smartpass.city/smartpass/app/face/model"
	"smartpass.city/smartpass/app/face/photo"
	"smartpass.city/smartpass/app/face/roc"
	"smartpass.city/smartpass/app/template"
)

// Report is the last line's object.
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
}

func main() {
	modelPath := flag.String("model", "assets/models/face.spm", "model file made by `make models`")
	verbose := flag.Bool("v", false, "print one line per image")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: faceeval [-model FILE] [-v] DIR  (DIR holds one folder of images per identity)")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
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
	set, err := readSet(flag.Arg(0))
	if err != nil {
		log.Fatalf("faceeval: %v", err)
	}
	rep, assumed := evaluate(p, set, *verbose)
	fmt.Printf("crops taken as the face (no detection): %d of %d templates\n", assumed, rep.Detected)
	out, _ := json.Marshal(rep)
	fmt.Println(string(out))
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
func templateOf(p *face.Pipeline, path string, verbose bool, took *time.Duration, assumed *int) []float32 {
	data, err := os.ReadFile(path)
	if err != nil {
		log.Printf("%s: %v", path, err)
		return nil
	}
	img, err := photo.Decode(data)
	if err != nil {
		log.Printf("%s: %v", path, err)
		return nil
	}
	rand.Seed(1)
	r, err := p.Process(img, face.Options{Crops: true})
	*took += r.Detect + r.Align + r.Embed
	if err != nil {
		log.Printf("%s: %v", path, err)
		return nil
	}
	if r.Assumed {
		*assumed++
	}
	if verbose {
		fmt.Printf("%s: eyes %.0f,%.0f %.0f,%.0f assumed=%v quality %+v\n", path, r.Face.LeftEye.X, r.Face.LeftEye.Y, r.Face.RightEye.X, r.Face.RightEye.Y, r.Assumed, r.Quality)
	}
	return template.Unpack(template.Pack(r.Embedding))
}

func evaluate(p *face.Pipeline, set []identity, verbose bool) (Report, int) {
	rep := Report{Identities: len(set)}
	var took time.Duration
	processed, assumed := 0, 0
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
			vec := templateOf(p, path, verbose, &took, &assumed)
			if vec != nil {
				rep.Detected++
			}
			if gallery[i] == nil {
				if vec == nil {
					log.Printf("%s: no face in %s, enrolling the next image", id.name, filepath.Base(path))
					continue
				}
				if j > 0 {
					log.Printf("%s: enrolled %s", id.name, filepath.Base(path))
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
		} else if verbose {
			fmt.Printf("rank-1 miss: %s matched %s best (%.3f)\n", pr.path, set[max(bestID, 0)].name, best)
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
	return rep, assumed
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
