// Package facetest gives the face packages' tests what they share: the
// model file built by `make models`, and the labelled face images in
// ../shared/testdata/faces, which stay outside the project.
package facetest

import (
	"image"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"smartpass.city/smartpass/app/face/model"
	"smartpass.city/smartpass/app/face/photo"
)

var (
	rootOnce sync.Once
	root     string
	rootErr  error

	modelOnce sync.Once
	modelFile *model.File
	modelErr  error
)

// Root returns the module's root directory.
func Root(t testing.TB) string {
	t.Helper()
	// Walk up from the test's directory rather than ask `go env`: under
	// js/wasm (wasmbrowsertest) there is a file system, but no commands.
	rootOnce.Do(func() {
		dir, err := os.Getwd()
		for err == nil {
			if _, statErr := os.Stat(filepath.Join(dir, "go.mod")); statErr == nil {
				root = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				err = os.ErrNotExist
				break
			}
			dir = parent
		}
		rootErr = err
	})
	if rootErr != nil {
		t.Fatalf("facetest: find module root: %v", rootErr)
	}
	return root
}

// ModelPath is where `make models` writes the model file, relative to the
// module root.
const ModelPath = "assets/models/face.spm"

// Model returns the decoded model file. A missing file fails the test:
// the face tests are worth nothing without it, and `make test` builds it.
func Model(t testing.TB) *model.File {
	t.Helper()
	path := filepath.Join(Root(t), ModelPath)
	modelOnce.Do(func() {
		var data []byte
		if data, modelErr = os.ReadFile(path); modelErr == nil {
			modelFile, modelErr = model.Decode(data)
		}
	})
	if modelErr != nil {
		t.Fatalf("facetest: %v (run `make models`)", modelErr)
	}
	return modelFile
}

// Faces returns ../shared/testdata/faces beside the checkout, or skips the
// test when it is absent (a clone without the shared directory).
func Faces(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(Root(t), "..", "shared", "testdata", "faces")
	if _, err := os.Stat(filepath.Join(dir, "identities")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("facetest: %s missing; CI runs with ../shared beside the checkout", dir)
		}
		t.Skipf("facetest: %s not present", dir)
	}
	return dir
}

// FaceAPIDir is where `make models` installs the npm package
// @vladmandic/face-api, relative to the module root.
const FaceAPIDir = "bin/npm/node_modules/@vladmandic/face-api"

// FaceAPI returns the directory of the installed npm package, the
// reference implementation the Go port is checked against.
func FaceAPI(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(Root(t), FaceAPIDir)
	if _, err := os.Stat(filepath.Join(dir, "dist", "face-api.js")); err != nil {
		t.Fatalf("facetest: %v (run `make models`, which runs npm ci)", err)
	}
	return dir
}

// Image reads and decodes an image file, failing the test if it cannot.
func Image(t testing.TB, path string) *image.RGBA {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := photo.Decode(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// Identity returns one image of the shared set, by identity and file.
func Identity(t testing.TB, identity, file string) *image.RGBA {
	t.Helper()
	return Image(t, filepath.Join(Faces(t), "identities", identity, file))
}

// Labelled returns one labelled set of ../shared/testdata/faces (one
// folder per identity), "identities" or "orl", failing the test when it
// is missing while the shared directory is there.
func Labelled(t testing.TB, name string) string {
	t.Helper()
	dir := filepath.Join(Faces(t), name)
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("facetest: %v", err)
	}
	return dir
}

// Pattern is a deterministic side x side RGB input (0–255) with structure
// at every scale, so every layer of a network sees varied values.
func Pattern(side int) []float32 {
	px := make([]float32, side*side*3)
	for y := range side {
		for x := range side {
			for c := range 3 {
				v := 128 + 60*math.Sin(float64(x)*0.11+float64(c)) + 50*math.Cos(float64(y)*0.07-float64(c)*0.5) + float64((x*y+c*31)%17)
				px[(y*side+x)*3+c] = float32(math.Round(math.Min(255, math.Max(0, v))))
			}
		}
	}
	return px
}

// FacePluginDir is where `make models` installs the npm package
// faceplugin-face-recognition-js, relative to the module root.
const FacePluginDir = "bin/npm/node_modules/faceplugin-face-recognition-js"

// NetModelPath is where `make models` writes the model file of each
// recognition network (FACE_NET chooses which one it copies to
// ModelPath), relative to the module root: a network's own tests read
// its file whichever the build chose.
func NetModelPath(net string) string { return "bin/models/face-" + net + ".spm" }

// NetModel returns the decoded model file of a network ("dlib",
// "mobilefacenet"); a missing file fails the test, as Model does.
func NetModel(t testing.TB, net string) *model.File {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(Root(t), NetModelPath(net)))
	if err != nil {
		t.Fatalf("facetest: %v (run `make models`)", err)
	}
	f, err := model.Decode(data)
	if err != nil {
		t.Fatalf("facetest: %s: %v", NetModelPath(net), err)
	}
	return f
}

// Cosine is the cosine similarity of two embeddings, in float64 so the
// faithfulness tests' tolerances are not lost to rounding.
func Cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}
