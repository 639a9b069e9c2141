// Package align cuts the crop the embedding network expects out of a
// frame: a similarity transform (rotation, scale, shift) that puts the
// two eyes where dlib's face chips have them, sampled bilinearly.
//
// dlib's ResNet was trained on chips made by get_face_chip_details(shape,
// 150, 0.25): the mean face shape scaled into the chip with a quarter of
// padding on each side. In that chip the eye centres (the mean of each
// eye's six contour points of the 68-point shape) sit at x = 47.5 and
// 100.5, y = 46.9. Aligning on the eyes alone keeps the crop stable when
// the mouth and nose landmarks jitter.
package align

import (
	"image"
	"math"

	"smartpass.city/smartpass/app/face/detect"
)

// Size is the side of the chip.
const Size = 150

// Canonical eye centres in the chip, viewer's left first.
var (
	ChipLeftEye  = detect.Point{X: 47.55, Y: 46.93}
	ChipRightEye = detect.Point{X: 100.48, Y: 46.93}
)

// Transform maps chip coordinates to frame coordinates.
type Transform struct {
	// Frame position = Origin + A·chip, A = [[a, -b], [b, a]].
	a, b   float64
	origin detect.Point
}

// EyesTransform is the similarity transform that takes the chip's eye
// positions to left and right in the frame.
func EyesTransform(left, right detect.Point) Transform {
	cx, cy := ChipRightEye.X-ChipLeftEye.X, ChipRightEye.Y-ChipLeftEye.Y
	fx, fy := right.X-left.X, right.Y-left.Y
	// (a + ib) = (fx + i fy) / (cx + i cy)
	den := cx*cx + cy*cy
	a := (fx*cx + fy*cy) / den
	b := (fy*cx - fx*cy) / den
	t := Transform{a: a, b: b}
	t.origin = detect.Point{X: left.X - (a*ChipLeftEye.X - b*ChipLeftEye.Y), Y: left.Y - (b*ChipLeftEye.X + a*ChipLeftEye.Y)}
	return t
}

// Apply maps a chip position to the frame.
func (t Transform) Apply(p detect.Point) detect.Point {
	return detect.Point{X: t.origin.X + t.a*p.X - t.b*p.Y, Y: t.origin.Y + t.b*p.X + t.a*p.Y}
}

// Scale is how many frame pixels one chip pixel spans.
func (t Transform) Scale() float64 { return math.Hypot(t.a, t.b) }

// Chip samples the chip from img into dst: Size*Size pixels, row by row,
// R, G, B on a 0–255 scale, the layout package embed takes. Outside the
// frame is black, as in dlib's chips. When the face is much larger than
// the chip, each chip pixel averages a grid of samples so fine detail
// does not alias.
func Chip(dst []float32, img *image.RGBA, t Transform) { Sample(dst, Size, img, t) }

// BoxTransform maps a side x side crop onto the square of the frame
// centred at c with the given side, upright: the landmark network's input
// cut from a detector's box.
func BoxTransform(c detect.Point, box float64, side int) Transform {
	s := box / float64(side)
	// Pixel centres: crop pixel u covers [u, u+1) scaled, centre u+0.5.
	return Transform{a: s, origin: detect.Point{X: c.X - box/2 + s/2 - 0.5, Y: c.Y - box/2 + s/2 - 0.5}}
}

// Sample is Chip for a crop of any side.
func Sample(dst []float32, side int, img *image.RGBA, t Transform) {
	n := int(math.Ceil(t.Scale()))
	n = min(max(n, 1), 4)
	inv := 1 / float32(n*n)
	for v := range side {
		for u := range side {
			var r, g, b float32
			for sy := range n {
				for sx := range n {
					p := t.Apply(detect.Point{
						X: float64(u) + (float64(sx)+0.5)/float64(n) - 0.5,
						Y: float64(v) + (float64(sy)+0.5)/float64(n) - 0.5,
					})
					pr, pg, pb := bilinear(img, p.X, p.Y)
					r, g, b = r+pr, g+pg, b+pb
				}
			}
			o := dst[(v*side+u)*3 : (v*side+u)*3+3 : (v*side+u)*3+3]
			o[0], o[1], o[2] = r*inv, g*inv, b*inv
		}
	}
}

// bilinear samples img at (x, y), pixel centres at integers.
func bilinear(img *image.RGBA, x, y float64) (r, g, b float32) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	x0, y0 := int(math.Floor(x)), int(math.Floor(y))
	fx, fy := float32(x-float64(x0)), float32(y-float64(y0))
	at := func(xi, yi int) (float32, float32, float32) {
		if xi < 0 || yi < 0 || xi >= w || yi >= h {
			return 0, 0, 0
		}
		p := img.Pix[yi*img.Stride+4*xi : yi*img.Stride+4*xi+3 : yi*img.Stride+4*xi+3]
		return float32(p[0]), float32(p[1]), float32(p[2])
	}
	r00, g00, b00 := at(x0, y0)
	r10, g10, b10 := at(x0+1, y0)
	r01, g01, b01 := at(x0, y0+1)
	r11, g11, b11 := at(x0+1, y0+1)
	top := func(a, b float32) float32 { return a + (b-a)*fx }
	r = top(r00, r10) + (top(r01, r11)-top(r00, r10))*fy
	g = top(g00, g10) + (top(g01, g11)-top(g00, g10))*fy
	b = top(b00, b10) + (top(b01, b11)-top(b00, b10))*fy
	return r, g, b
}
