package cardmatch_test

import (
	"image"
	"image/color"
	"testing"

	"smartpass.city/smartpass/app/face/cardmatch"
	"smartpass.city/smartpass/app/face/embed"
)

// TestCardLike: any source comes out Width×Height grey, cut to the card's
// 4:5 from the middle, not stretched.
func TestCardLike(t *testing.T) {
	for _, tc := range []struct {
		name string
		w, h int
	}{
		{"square colour crop", 150, 150},
		{"ORL 92×112", 92, 112},
		{"tall", 100, 300},
		{"wide camera frame", 640, 480},
	} {
		img := image.NewRGBA(image.Rect(0, 0, tc.w, tc.h))
		// Left half red, right half blue: a centred cut keeps both, half
		// each, and the grey values are those of the two colours.
		for y := range tc.h {
			for x := range tc.w {
				c := color.RGBA{R: 200, A: 255}
				if x >= tc.w/2 {
					c = color.RGBA{B: 200, A: 255}
				}
				img.SetRGBA(x, y, c)
			}
		}
		g := cardmatch.CardLike(img)
		if g.Rect.Dx() != cardmatch.Width || g.Rect.Dy() != cardmatch.Height {
			t.Fatalf("%s: %v", tc.name, g.Rect)
		}
		red := color.GrayModel.Convert(color.RGBA{R: 200, A: 255}).(color.Gray).Y
		blue := color.GrayModel.Convert(color.RGBA{B: 200, A: 255}).(color.Gray).Y
		if l, r := g.GrayAt(5, cardmatch.Height/2).Y, g.GrayAt(cardmatch.Width-6, cardmatch.Height/2).Y; l != red || r != blue {
			t.Errorf("%s: grey %d | %d, want %d | %d", tc.name, l, r, red, blue)
		}
	}
}

// TestCheck: the decision is the threshold's, on normalised templates.
func TestCheck(t *testing.T) {
	a := []float32{3, 4, 0, 0}
	for _, tc := range []struct {
		name string
		b    []float32
		want bool
	}{
		{"same face, other scale", []float32{6, 8, 0, 0}, true},
		{"orthogonal", []float32{0, 0, 1, 0}, false},
		{"opposite", []float32{-3, -4, 0, 0}, false},
		{"wrong length", []float32{3, 4}, false},
	} {
		if got := cardmatch.Check(embed.ModelName, a, tc.b); got.Accepted != tc.want {
			t.Errorf("%s: %+v, want accepted %v", tc.name, got, tc.want)
		}
		// A network whose card pairs nobody measured accepts nothing,
		// not even the same face.
		if got := cardmatch.Check("arcface-r100/x/f32", a, tc.b); got.Accepted {
			t.Errorf("%s on an unmeasured network: %+v", tc.name, got)
		}
	}
	for _, b := range cardmatch.Bases() {
		if th, ok := cardmatch.ThresholdFor(b.Model); !ok || th != b.Threshold || th <= 0 || th >= 1 {
			t.Fatalf("%s: threshold %v, %v is no cosine threshold", b.Net, th, ok)
		}
	}
}
