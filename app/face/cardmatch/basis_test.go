//go:build !js

//go:debug randseednop=0

package cardmatch_test

import (
	"bytes"
	"context"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"smartpass.city/smartpass/app/face"
	"smartpass.city/smartpass/app/face/cardmatch"
	"smartpass.city/smartpass/app/face/embed"
	"smartpass.city/smartpass/app/face/evaluate"
	"smartpass.city/smartpass/app/face/facetest"
	"smartpass.city/smartpass/app/face/photo"
	"smartpass.city/smartpass/app/face/roc"
	"smartpass.city/smartpass/app/j2k/opjtool"
)

// cardSet writes the card-like photo of every image of the labelled set
// src into a new temporary directory of the same layout: CardLike, JPEG
// 2000 at the card's budget with opj_compress, decoded again with
// opj_decompress (what a terminal's decoder gives), stored as PNG. The
// shared faces are never copied into the project: the directory is the
// test's and removed with it.
func cardSet(t *testing.T, src string) (dir string, bytesPerPhoto float64) {
	t.Helper()
	ctx := context.Background()
	dir = t.TempDir()
	ids, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	var total, n int
	for _, id := range ids {
		if !id.IsDir() {
			continue
		}
		files, err := os.ReadDir(filepath.Join(src, id.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(filepath.Join(dir, id.Name()), 0o700); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			img := facetest.Image(t, filepath.Join(src, id.Name(), f.Name()))
			j2k, err := opjtool.Encode(ctx, cardmatch.CardLike(img), cardmatch.PhotoBytes)
			if err != nil {
				t.Fatal(err)
			}
			total += len(j2k)
			n++
			g, err := opjtool.Decode(ctx, j2k)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := png.Encode(&buf, g); err != nil {
				t.Fatal(err)
			}
			// Same base name: the sets sort alike, so Cross pairs each
			// card photo with its own source.
			name := strings.TrimSuffix(f.Name(), filepath.Ext(f.Name())) + ".png"
			if err := os.WriteFile(filepath.Join(dir, id.Name(), name), buf.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir, float64(total) / float64(n)
}

// TestThresholdKeepsItsBasis builds the card-like test set, measures the
// pipeline on it (880 images embedded, several minutes on two busy
// cores) and fails when a constant of basis.go no longer matches.
//
// It runs when SMARTPASS_MEASURE is set (make soak sets it, and so may a
// person changing the pipeline): it would double make test's face time.
// TestIdentitiesFloor keeps a cheap check on every run.
func TestThresholdKeepsItsBasis(t *testing.T) {
	if os.Getenv("SMARTPASS_MEASURE") == "" {
		t.Skip("the full measurement (several minutes) runs with SMARTPASS_MEASURE=1, as make soak does")
	}
	if err := opjtool.Check(); err != nil {
		t.Fatal(err)
	}
	for _, b := range cardmatch.Bases() {
		t.Run(b.Net, func(t *testing.T) { keepsItsBasis(t, b) })
	}
}

func keepsItsBasis(t *testing.T, b cardmatch.Basis) {
	p, err := face.New(facetest.NetModel(t, b.Net), embed.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if p.Model() != b.Model {
		t.Fatalf("the %s model file holds %s, the basis names %s", b.Net, p.Model(), b.Model)
	}
	var all []evaluate.Pairs
	for _, name := range []string{"identities", "orl"} {
		src := facetest.Labelled(t, name)
		dir, avg := cardSet(t, src)
		live, err := evaluate.Load(p, src, nil)
		if err != nil {
			t.Fatal(err)
		}
		cards, err := evaluate.Load(p, dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		ps, err := evaluate.Cross(cards, live)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: card photos %.0f bytes on average; faces found in %d/%d card photos (%d taken as the crop), %d/%d live; %d genuine, %d impostor pairs; EER %.4f",
			name, avg, cards.Detected, cards.Images, cards.Assumed, live.Detected, live.Images, ps.GenuinePairs, ps.ImpostorPairs, ps.EER)
		all = append(all, ps)
	}
	pooled := evaluate.Pool(all...)
	if pooled.GenuinePairs != cardmatch.BasisGenuinePairs || pooled.ImpostorPairs != cardmatch.BasisImpostorPairs {
		t.Errorf("pooled: %d genuine, %d impostor pairs; the basis has %d and %d", pooled.GenuinePairs, pooled.ImpostorPairs, cardmatch.BasisGenuinePairs, cardmatch.BasisImpostorPairs)
	}
	for _, far := range []float64{1e-2, 1e-3, 1e-4} {
		if !roc.Measurable(pooled.ImpostorPairs, far) {
			continue
		}
		th, tar := roc.ThresholdAtFAR(pooled.Genuine, pooled.Impostor, far)
		t.Logf("FAR %.0e: threshold %.4f, TAR %.4f (FRR %.4f)", far, th, tar, 1-tar)
	}
	th, _ := roc.ThresholdAtFAR(nil, pooled.Impostor, cardmatch.TargetFAR)
	bt := float64(b.Threshold)
	tar := roc.AcceptRate(pooled.Genuine, bt)
	far := roc.AcceptRate(pooled.Impostor, bt)
	t.Logf("constant threshold %.4f: FAR %.5f (%d of %d impostor pairs), TAR %.4f, FRR %.4f; the pairs give %.6f at FAR %.0e (TAR there %.4f); EER %.4f",
		bt, far, roc.Accepted(pooled.Impostor, bt), pooled.ImpostorPairs, tar, 1-tar, th, cardmatch.TargetFAR, roc.AcceptRate(pooled.Genuine, th), pooled.EER)
	// Rounded up: never looser than the data, and close to it.
	if bt < th-1e-6 || bt > th+0.003 {
		t.Errorf("threshold %.4f, the pairs give %.4f at FAR %.0e", bt, th, cardmatch.TargetFAR)
	}
	if math.Abs(tar-b.MeasuredTAR) > 0.005 {
		t.Errorf("TAR at the threshold %.4f, the constant says %.3f", tar, b.MeasuredTAR)
	}

	// The 1:1 decision as a terminal makes it: the card photo through the
	// pipeline, then the check (the live face's template is already made).
	img := facetest.Image(t, filepath.Join(facetest.Labelled(t, "identities"), "amy", "amy1.png"))
	ctx := context.Background()
	j2k, err := opjtool.Encode(ctx, cardmatch.CardLike(img), cardmatch.PhotoBytes)
	if err != nil {
		t.Fatal(err)
	}
	g, err := opjtool.Decode(ctx, j2k)
	if err != nil {
		t.Fatal(err)
	}
	liveRes, err := p.Process(img, face.Options{Crops: true})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := p.Process(photo.RGBA(g), face.Options{Crops: true})
	if err != nil {
		t.Fatal(err)
	}
	out := cardmatch.Check(p.Model(), liveRes.Embedding, res.Embedding)
	t.Logf("1:1 decision natively: %v (card photo through the pipeline and the check); own source image scores %.4f, accepted %v", time.Since(start), out.Score, out.Accepted)
}

// TestIdentitiesFloor is the cheap check make test runs: on the shared
// colour identities (8 people), card-like photos against the others'
// live images at the constant threshold: no impostor pair accepted, and
// the genuine pairs' accept rate no lower than measured when the
// threshold was set (0.694 of 160: colour photos in varied light, harder
// than the grey ORL set that dominates the basis). It fails when the pipeline or the card
// photo's making moves far from the basis.
func TestIdentitiesFloor(t *testing.T) {
	if err := opjtool.Check(); err != nil {
		t.Fatal(err)
	}
	for _, b := range cardmatch.Bases() {
		t.Run(b.Net, func(t *testing.T) { identitiesFloor(t, b) })
	}
}

func identitiesFloor(t *testing.T, b cardmatch.Basis) {
	p, err := face.New(facetest.NetModel(t, b.Net), embed.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	src := facetest.Labelled(t, "identities")
	dir, _ := cardSet(t, src)
	live, err := evaluate.Load(p, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	cards, err := evaluate.Load(p, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := evaluate.Cross(cards, live)
	if err != nil {
		t.Fatal(err)
	}
	bt := float64(b.Threshold)
	tar := roc.AcceptRate(ps.Genuine, bt)
	n := roc.Accepted(ps.Impostor, bt)
	t.Logf("identities: %d genuine, %d impostor pairs; at %.4f TAR %.4f, %d impostors accepted", ps.GenuinePairs, ps.ImpostorPairs, bt, tar, n)
	if n > 0 || tar < 0.65 {
		t.Fatalf("at the threshold %.4f: %d impostor pairs accepted (want 0), TAR %.4f (want at least 0.65)", bt, n, tar)
	}
}
