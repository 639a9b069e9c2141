//go:debug randseednop=0

package detect

import (
	"image"
	"math/rand"
	"path/filepath"
	"testing"

	"smartpass.city/smartpass/app/face/facetest"
)

func detector(t testing.TB) *Detector {
	t.Helper()
	d, err := New(facetest.Model(t))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestGroups counts the frontal faces in the group photos (counted by
// eye on the overlay the face debug view draws), each once, and finds
// each one's nose inside its box, below the eyes (placed where a box has
// them).
func TestGroups(t *testing.T) {
	d := detector(t)
	dir := filepath.Join(facetest.Faces(t), "groups")
	cases := []struct {
		file     string
		min, max int
	}{
		{"bbt1.jpg", 5, 6}, // five frontal faces; a sixth, small and low, is borderline
		{"bbt3.jpg", 5, 6},
		{"bbt4.jpg", 6, 6},
		{"bbt5.jpg", 5, 5},
	}
	for _, c := range cases {
		rand.Seed(1)
		faces := d.Detect(GrayOf(facetest.Image(t, filepath.Join(dir, c.file))), Options{MinSize: 40})
		if len(faces) < c.min || len(faces) > c.max {
			t.Errorf("%s: %d faces, want %d to %d", c.file, len(faces), c.min, c.max)
		}
		g := GrayOf(facetest.Image(t, filepath.Join(dir, c.file)))
		for _, f := range faces {
			box := f.Box()
			left := Point{X: f.Center.X - 0.175*f.Size, Y: f.Center.Y - 0.075*f.Size}
			right := Point{X: f.Center.X + 0.185*f.Size, Y: left.Y}
			nose := d.NoseFrom(g, left, right)
			if !image.Pt(int(nose.X), int(nose.Y)).In(box) || nose.Y <= left.Y {
				t.Errorf("%s: face at %v: nose %v", c.file, box, nose)
			}
		}
	}
}

func TestNothingInBlankOrNoise(t *testing.T) {
	d := detector(t)
	blank := Gray{Width: 320, Height: 240, Pix: make([]uint8, 320*240)}
	noise := Gray{Width: 320, Height: 240, Pix: make([]uint8, 320*240)}
	r := rand.New(rand.NewSource(7))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(r.Intn(256))
	}
	for name, g := range map[string]Gray{"blank": blank, "noise": noise} {
		if faces := d.Detect(g, Options{}); len(faces) != 0 {
			t.Errorf("%s frame: %d faces", name, len(faces))
		}
	}
}

func BenchmarkDetect(b *testing.B) {
	d := detector(b)
	img := facetest.Image(b, filepath.Join(facetest.Faces(b), "groups", "bbt4.jpg"))
	g := GrayOf(img)
	b.Run("group-710x473", func(b *testing.B) {
		for b.Loop() {
			d.Detect(g, Options{MinSize: 80})
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/frame")
	})
}
