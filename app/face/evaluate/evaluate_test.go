//go:debug randseednop=0

package evaluate

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"smartpass.city/smartpass/app/face"
	"smartpass.city/smartpass/app/face/embed"
	"smartpass.city/smartpass/app/face/facetest"
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
