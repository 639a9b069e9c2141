//go:debug randseednop=0

package evaluate

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"smartpass.city/smartpass/app/face"
	"smartpass.city/smartpass/app/face/embed"
	"smartpass.city/smartpass/app/face/facetest"
	"smartpass.city/smartpass/app/face/roc"
)

// TestSharedSet holds the pipeline to its figures on the shared 8x5 set
// (README). The floors are below what it reaches, so a change that costs
// accuracy fails here rather than in the field.
func TestSharedSet(t *testing.T) {
	p, err := face.New(facetest.Model(t), embed.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(facetest.Faces(t), "identities")
	rep, err := Run(p, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", rep)
	if rep.Identities != 8 || rep.Images != 40 {
		t.Fatalf("read %d identities, %d images", rep.Identities, rep.Images)
	}
	if rep.Detected != rep.Images || rep.Rank1 < 0.95 || rep.TARAtFAR001 < 0.9 || rep.EER > 0.06 {
		t.Errorf("below the floor: %+v", rep)
	}
	again, err := Run(p, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	again.MsPerFace, rep.MsPerFace = 0, 0
	if !reflect.DeepEqual(again, rep) {
		t.Errorf("two runs differ:\n%+v\n%+v", rep, again)
	}
}

// TestFailuresCount checks that an image without a face counts against
// the figures instead of being skipped.
func TestFailuresCount(t *testing.T) {
	p, err := face.New(facetest.Model(t), embed.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(facetest.Faces(t), "identities")
	dir := t.TempDir()
	for _, id := range []string{"amy", "howard"} {
		os.MkdirAll(filepath.Join(dir, id), 0o755)
		for _, n := range []string{"1", "2"} {
			data, err := os.ReadFile(filepath.Join(src, id, id+n+".png"))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, id, id+n+".png"), data, 0o644)
		}
	}
	// Not a picture at all, named like one.
	os.WriteFile(filepath.Join(dir, "amy", "amy3.jpg"), []byte("not an image"), 0o644)
	rep, err := Run(p, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Images != 5 || rep.Detected != 4 {
		t.Fatalf("images %d, detected %d", rep.Images, rep.Detected)
	}
	// Three probes, one a failure: rank-1 at most 2/3.
	if rep.Rank1 > 2.0/3+1e-9 {
		t.Errorf("rank-1 %v counts the failure as a hit or a skip", rep.Rank1)
	}
}

func TestNeedsTwoIdentities(t *testing.T) {
	if _, err := Run(nil, t.TempDir(), nil); err == nil {
		t.Fatal("an empty directory was evaluated")
	}
}

// TestCross: every card photo against every live image but its own
// source, genuine within an identity, and mismatched sets refused.
func TestCross(t *testing.T) {
	unit := func(x, y float32) []float32 { return []float32{x, y} }
	live := &Set{Names: []string{"a", "b"}, Vecs: [][][]float32{{unit(1, 0), unit(1, 0)}, {unit(0, 1), nil}}}
	cards := &Set{Names: []string{"a", "b"}, Vecs: [][][]float32{{unit(1, 0), unit(0.8, 0.6)}, {unit(0, 1), unit(0, 1)}}}
	ps, err := Cross(cards, live)
	if err != nil {
		t.Fatal(err)
	}
	// 4 card photos × 4 live images − 4 own sources = 12 pairs: each
	// identity's 2 cards × 1 other own image = 4 genuine, 8 impostor.
	if ps.GenuinePairs != 4 || ps.ImpostorPairs != 8 {
		t.Fatalf("%d genuine, %d impostor", ps.GenuinePairs, ps.ImpostorPairs)
	}
	// a: card 0 against live 1 scores 1, card 1 against live 0 0.8; b:
	// card 0 against live 1 (no face) fails, card 1 against live 0 is 1.
	got := slices.Sorted(slices.Values(ps.Genuine))
	want := []float64{roc.Failed, 0.8, 1, 1}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-6 {
			t.Fatalf("genuine scores %v, want %v", got, want)
		}
	}
	if _, err := Cross(&Set{Names: []string{"a"}, Vecs: [][][]float32{{nil}}}, live); err == nil {
		t.Fatal("sets of different identities crossed")
	}
}
