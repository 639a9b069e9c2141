package align

import (
	"image"
	"math"
	"testing"

	"smartpass.city/smartpass/app/face/detect"
)

func near(a, b detect.Point) bool { return math.Hypot(a.X-b.X, a.Y-b.Y) < 1e-9 }

func TestEyesTransform(t *testing.T) {
	cases := []struct {
		name        string
		left, right detect.Point
		scale       float64
	}{
		{"same size", ChipLeftEye, ChipRightEye, 1},
		{"twice as large", detect.Point{X: 100, Y: 200}, detect.Point{X: 100 + 2*(ChipRightEye.X-ChipLeftEye.X), Y: 200}, 2},
		{"tilted 30°", detect.Point{X: 300, Y: 300}, detect.Point{X: 300 + 80*math.Cos(math.Pi/6), Y: 300 + 80*math.Sin(math.Pi/6)}, 80 / (ChipRightEye.X - ChipLeftEye.X)},
	}
	for _, c := range cases {
		tr := EyesTransform(c.left, c.right)
		if !near(tr.Apply(ChipLeftEye), c.left) || !near(tr.Apply(ChipRightEye), c.right) {
			t.Errorf("%s: eyes map to %v %v, want %v %v", c.name, tr.Apply(ChipLeftEye), tr.Apply(ChipRightEye), c.left, c.right)
		}
		if math.Abs(tr.Scale()-c.scale) > 1e-9 {
			t.Errorf("%s: scale %v, want %v", c.name, tr.Scale(), c.scale)
		}
	}
}

// TestChipSamplesTheFrame checks the sampling on a frame whose value
// is its x coordinate: a chip taken at scale 1 with no rotation must
// read x back, and outside the frame is black.
func TestChipSamplesTheFrame(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 200, 200))
	for y := range 200 {
		for x := range 200 {
			o := img.PixOffset(x, y)
			img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = uint8(x), uint8(y), 7, 255
		}
	}
	shift := detect.Point{X: 20, Y: 30}
	tr := EyesTransform(detect.Point{X: ChipLeftEye.X + shift.X, Y: ChipLeftEye.Y + shift.Y}, detect.Point{X: ChipRightEye.X + shift.X, Y: ChipRightEye.Y + shift.Y})
	chip := make([]float32, Size*Size*3)
	Chip(chip, img, tr)
	for _, p := range []image.Point{{0, 0}, {75, 75}, {149, 10}, {10, 149}} {
		px := chip[(p.Y*Size+p.X)*3:]
		wantR, wantG := float32(p.X+20), float32(p.Y+30)
		if p.X+20 >= 199 || p.Y+30 >= 199 {
			continue // edge pixels blend with black
		}
		if math.Abs(float64(px[0]-wantR)) > 1e-3 || math.Abs(float64(px[1]-wantG)) > 1e-3 || px[2] != 7 {
			t.Errorf("chip %v = %v, want %v %v 7", p, px[:3], wantR, wantG)
		}
	}
	// Far outside the frame.
	Chip(chip, img, EyesTransform(detect.Point{X: 1000, Y: 1000}, detect.Point{X: 1050, Y: 1000}))
	for _, v := range chip {
		if v != 0 {
			t.Fatalf("outside the frame sampled %v", v)
		}
	}
}

func BenchmarkChip(b *testing.B) {
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	chip := make([]float32, Size*Size*3)
	for _, c := range []struct {
		name string
		eyes float64 // eye distance in the frame
	}{{"eyes-60px", 60}, {"eyes-150px", 150}} {
		tr := EyesTransform(detect.Point{X: 300, Y: 200}, detect.Point{X: 300 + c.eyes, Y: 200})
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				Chip(chip, img, tr)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/face")
		})
	}
}
