package align

import (
	"image"
	"math"
	"testing"

	"smartpass.city/smartpass/app/face/detect"
)

func near(a, b detect.Point) bool { return math.Hypot(a.X-b.X, a.Y-b.Y) < 1e-9 }

// Eye centres of dlib's chip (the means of each eye's six contour points
// of the mean face), for tests that place a chip by two points.
var (
	ChipLeftEye  = detect.Point{X: 47.55, Y: 46.93}
	ChipRightEye = detect.Point{X: 100.48, Y: 46.93}
)

// EyesTransform fits the chip's eye centres to two frame points: with two
// points the least-squares fit is exact.
func EyesTransform(left, right detect.Point) Transform {
	return FitTransform([]detect.Point{ChipLeftEye, ChipRightEye}, []detect.Point{left, right})
}

func TestTwoPointFit(t *testing.T) {
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

// TestFitTransform checks the least-squares fit: points that are an exact
// similarity of the chip's are recovered exactly, and one point moved
// moves the fit by less than it.
func TestFitTransform(t *testing.T) {
	chip := ChipFivePoints()
	// Where the five points sit: eyes about level near 40% of the chip's
	// height, the nose below their middle.
	if chip[2].X > chip[3].X || chip[3].X > chip[1].X || chip[1].X > chip[0].X || chip[4].Y < chip[0].Y+20 {
		t.Fatalf("reference points out of order: %v", chip)
	}
	angle, scale, shift := 0.3, 2.5, detect.Point{X: 40, Y: -7}
	a, b := scale*math.Cos(angle), scale*math.Sin(angle)
	frame := make([]detect.Point, 5)
	for i, p := range chip {
		frame[i] = detect.Point{X: shift.X + a*p.X - b*p.Y, Y: shift.Y + b*p.X + a*p.Y}
	}
	tr := FitTransform(chip[:], frame)
	for i, p := range chip {
		if !near(tr.Apply(p), frame[i]) {
			t.Errorf("point %d maps to %v, want %v", i, tr.Apply(p), frame[i])
		}
	}
	if math.Abs(tr.Scale()-scale) > 1e-9 {
		t.Errorf("scale %v, want %v", tr.Scale(), scale)
	}
	moved := append([]detect.Point(nil), frame...)
	moved[4].Y += 10
	tr2 := FitTransform(chip[:], moved)
	if d := math.Hypot(tr2.Apply(chip[4]).X-frame[4].X, tr2.Apply(chip[4]).Y-frame[4].Y); d <= 0 || d >= 10 {
		t.Errorf("the moved nose pulled the fit by %.2f px of 10", d)
	}
	// Two coincident points: a shift, no scale blow-up.
	same := []detect.Point{{X: 1, Y: 1}, {X: 1, Y: 1}}
	if tr := FitTransform(same, []detect.Point{{X: 5, Y: 5}, {X: 5, Y: 5}}); !near(tr.Apply(detect.Point{X: 1, Y: 1}), detect.Point{X: 5, Y: 5}) {
		t.Errorf("degenerate fit %+v", tr)
	}
}
