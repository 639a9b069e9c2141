package landmark

import (
	"errors"
	"math"
	"path/filepath"
	"testing"

	"smartpass.city/smartpass/app/face/align"
	"smartpass.city/smartpass/app/face/detect"
	"smartpass.city/smartpass/app/face/facetest"
	"smartpass.city/smartpass/app/face/model"
)

// pattern is facetest.Pattern at the network's input size.
func pattern() []float32 { return facetest.Pattern(InputSize) }

// faceCrop is a face of the shared set (a 150 px crop) scaled to the
// network's input.
func faceCrop(t testing.TB) []float32 {
	img := facetest.Image(t, filepath.Join(facetest.Faces(t), "identities", "penny", "penny1.png"))
	px := make([]float32, InputSize*InputSize*3)
	side := float64(img.Rect.Dx())
	align.Sample(px, InputSize, img, align.BoxTransform(detect.Point{X: side / 2, Y: side / 2}, side, InputSize))
	return px
}

func TestRefusesOtherFiles(t *testing.T) {
	b := model.NewBuilder(model.Header{Name: "other-net", Input: 1, Scale: 1})
	data, _ := b.Bytes()
	f, err := model.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(f); !errors.Is(err, ErrModel) {
		t.Fatalf("file without the network: %v", err)
	}
	net, err := New(facetest.Model(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := net.Run(make([]float32, 2*Points), make([]float32, 10)); err == nil {
		t.Fatal("short input accepted")
	}
}

// TestFindsAFace checks the points on a real face land where a face's
// are: the eyes' corners level and apart, the nose between and below
// them, the chin lowest; and that a second run gives the same answer.
func TestFindsAFace(t *testing.T) {
	net, err := New(facetest.Model(t))
	if err != nil {
		t.Fatal(err)
	}
	in := faceCrop(t)
	a, b := make([]float32, 2*Points), make([]float32, 2*Points)
	if err := net.Run(a, in); err != nil {
		t.Fatal(err)
	}
	net.Run(b, pattern())
	net.Run(b, in)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("value %d differs between runs: %g, %g", i, a[i], b[i])
		}
	}
	pt := func(i int) (float32, float32) { return a[2*i], a[2*i+1] }
	lx, ly := pt(36)
	rx, ry := pt(45)
	nx, ny := pt(33)
	_, cy := pt(8)
	t.Logf("eye corners %.2f,%.2f %.2f,%.2f nose %.2f,%.2f chin y %.2f", lx, ly, rx, ry, nx, ny, cy)
	if rx-lx < 0.3 || math.Abs(float64(ry-ly)) > 0.1 || nx < lx || nx > rx || ny < ly || cy < ny {
		t.Fatal("the points are not where a face's are")
	}
}

func BenchmarkRun(b *testing.B) {
	net, err := New(facetest.Model(b))
	if err != nil {
		b.Fatal(err)
	}
	in, out := pattern(), make([]float32, 2*Points)
	b.ReportAllocs()
	for b.Loop() {
		net.Run(out, in)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/face")
}
