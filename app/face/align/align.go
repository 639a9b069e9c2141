// Package align cuts the crop the embedding network expects out of a
// frame: a similarity transform (rotation, scale, shift) fitted to the
// face's landmarks, sampled bilinearly.
//
// dlib's ResNet was trained on chips made by get_face_chip_details(shape,
// 150, 0.25): the landmarks fitted, by the least-squares similarity
// transform (FitTransform), to where dlib's mean face has them in a chip
// of 150 px with a quarter of padding on each side. For a 68-point shape
// dlib fits 33 points (nose, eyes, lips: MeanShapePoints); for its
// 5-point model, the outer and inner corners of both eyes and the nose
// base (ChipFivePoints; points 45, 42, 36, 39 and 33 of the 68).
package align

import (
	"image"
	"math"

	"smartpass.city/smartpass/app/face/detect"
)

// Size is the side of the chip.
const Size = 150

// dlib5 are get_face_chip_details' reference positions of the 5 points,
// as fractions of the unpadded face square (dlib/image_transforms/
// interpolation.h): right eye outer and inner corner (as the viewer sees
// it), left eye outer and inner corner, nose base.
var dlib5 = [5]detect.Point{
	{X: 0.8595674595992, Y: 0.2134981538014},
	{X: 0.6460604764104, Y: 0.2289674387677},
	{X: 0.1205750620789, Y: 0.2137274526848},
	{X: 0.3340850613712, Y: 0.2290642403242},
	{X: 0.4901123135679, Y: 0.6277975316475},
}

// Padding is the margin around the face square in dlib's chips, as a
// fraction of its side on each side (dlib's face recognition example
// uses 0.25).
const Padding = 0.25

// FivePoints are the 68-point indices whose positions the 5 points are,
// in dlib5's order.
var FivePoints = [5]int{45, 42, 36, 39, 33}

// ChipFivePoints returns where the five points sit in the chip.
func ChipFivePoints() [5]detect.Point {
	var out [5]detect.Point
	for i, p := range dlib5 {
		out[i] = detect.Point{X: (Padding + p.X) / (1 + 2*Padding) * Size, Y: (Padding + p.Y) / (1 + 2*Padding) * Size}
	}
	return out
}

// FitTransform is the similarity transform (rotation, uniform scale,
// shift) that takes the chip points nearest, in the least-squares sense,
// to the frame points, as dlib's find_similarity_transform does. The two
// lists are of the same length, at least two points.
func FitTransform(chip, frame []detect.Point) Transform {
	var cm, fm detect.Point
	n := float64(len(chip))
	for i := range chip {
		cm.X, cm.Y = cm.X+chip[i].X/n, cm.Y+chip[i].Y/n
		fm.X, fm.Y = fm.X+frame[i].X/n, fm.Y+frame[i].Y/n
	}
	// With c, f centred: minimise Σ|A c − f|², A = [[a, −b], [b, a]]:
	// a = Σ(c·f)/Σ|c|², b = Σ(c×f)/Σ|c|².
	var num, cross, den float64
	for i := range chip {
		cx, cy := chip[i].X-cm.X, chip[i].Y-cm.Y
		fx, fy := frame[i].X-fm.X, frame[i].Y-fm.Y
		num += cx*fx + cy*fy
		cross += cx*fy - cy*fx
		den += cx*cx + cy*cy
	}
	if den == 0 {
		return Transform{a: 1, origin: detect.Point{X: fm.X - cm.X, Y: fm.Y - cm.Y}}
	}
	t := Transform{a: num / den, b: cross / den}
	t.origin = detect.Point{X: fm.X - (t.a*cm.X - t.b*cm.Y), Y: fm.Y - (t.b*cm.X + t.a*cm.Y)}
	return t
}

// dlib68X and dlib68Y are get_face_chip_details' mean face shape for the
// 68-point model's points 17 to 67, as fractions of the unpadded face
// square (dlib/image_transforms/interpolation.h); dlib fits the chip to
// those of them that are neither brows nor lower lip.
var dlib68X = [51]float64{
	0.000213256, 0.0752622, 0.18113, 0.29077, 0.393397, 0.586856, 0.689483, 0.799124,
	0.904991, 0.98004, 0.490127, 0.490127, 0.490127, 0.490127, 0.36688, 0.426036,
	0.490127, 0.554217, 0.613373, 0.121737, 0.187122, 0.265825, 0.334606, 0.260918,
	0.182743, 0.645647, 0.714428, 0.793132, 0.858516, 0.79751, 0.719335, 0.254149,
	0.340985, 0.428858, 0.490127, 0.551395, 0.639268, 0.726104, 0.642159, 0.556721,
	0.490127, 0.423532, 0.338094, 0.290379, 0.428096, 0.490127, 0.552157, 0.689874,
	0.553364, 0.490127, 0.42689,
}
var dlib68Y = [51]float64{
	0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891,
	0.0187482, 0.038915, 0.106454, 0.203352, 0.307009, 0.409805, 0.515625, 0.587326,
	0.609345, 0.628106, 0.609345, 0.587326, 0.216423, 0.178758, 0.179852, 0.231733,
	0.245099, 0.244077, 0.231733, 0.179852, 0.178758, 0.216423, 0.244077, 0.245099,
	0.780233, 0.745405, 0.727388, 0.742578, 0.727388, 0.745405, 0.780233, 0.864805,
	0.902192, 0.909281, 0.902192, 0.864805, 0.784792, 0.778746, 0.785343, 0.778746,
	0.784792, 0.824182, 0.831803, 0.824182,
}

// MeanShapePoints returns the 68-point indices dlib fits a 68-point shape
// to the chip by (nose, eyes, outer lips and upper inner lip: 27–54 and
// 60–64) and where its mean face has them in the chip.
func MeanShapePoints() ([]int, []detect.Point) {
	var idx []int
	var chip []detect.Point
	for i := 27; i < 68; i++ {
		if (55 <= i && i <= 59) || (65 <= i && i <= 67) {
			continue
		}
		idx = append(idx, i)
		chip = append(chip, detect.Point{X: (Padding + dlib68X[i-17]) / (1 + 2*Padding) * Size, Y: (Padding + dlib68Y[i-17]) / (1 + 2*Padding) * Size})
	}
	return idx, chip
}

// Transform maps chip coordinates to frame coordinates.
type Transform struct {
	// Frame position = Origin + A·chip, A = [[a, -b], [b, a]].
	a, b   float64
	origin detect.Point
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

// ArcFaceSize is the side of the chip the ArcFace-trained networks (the
// MobileFaceNet of package mobilefacenet) take.
const ArcFaceSize = 112

// arcface are the five points of the ArcFace 112x112 chip, in its pixels:
// the eye centres (the subject's right eye first, on the image's left),
// the nose tip and the mouth corners. The network was trained on chips
// aligned to them, as faceplugin-face-recognition-js's JavaScript aligns.
var arcface = [5]detect.Point{
	{X: 38.2946, Y: 51.6963},
	{X: 73.5318, Y: 51.5014},
	{X: 56.0252, Y: 71.7366},
	{X: 41.5493, Y: 92.3655},
	{X: 70.7299, Y: 92.2041},
}

// ArcFacePoints returns the five points of the ArcFace chip, in the order
// ArcFaceFrame gives a face's.
func ArcFacePoints() [5]detect.Point { return arcface }

// ArcFaceFrame returns a face's five ArcFace points from its 68
// landmarks: each eye's centre (the mean of its six contour points), the
// nose tip (point 30) and each mouth corner as the mean of the lips'
// outer and inner corner (48 and 60, 54 and 64), as the package's
// JavaScript takes them.
func ArcFaceFrame(pts []detect.Point) [5]detect.Point {
	mean := func(idx ...int) detect.Point {
		var m detect.Point
		for _, i := range idx {
			m.X, m.Y = m.X+pts[i].X/float64(len(idx)), m.Y+pts[i].Y/float64(len(idx))
		}
		return m
	}
	return [5]detect.Point{
		mean(36, 37, 38, 39, 40, 41),
		mean(42, 43, 44, 45, 46, 47),
		pts[30],
		mean(48, 60),
		mean(54, 64),
	}
}
