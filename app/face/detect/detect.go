// Package detect finds faces in a grayscale frame with pigo's
// pixel-comparison cascades (pure Go, a few milliseconds a frame): the
// face finder gives square boxes, and for the face a caller picks, given
// its eyes (found by package landmark), a landmark cascade gives the nose
// base, whose offset from the eyes tells how far the head is turned.
//
// Left and right are as the viewer sees them (the subject's right eye is
// LeftEye), because alignment works in image coordinates.
//
// The landmark cascade jitters its start point with the global random
// generator and takes the median, so repeated runs differ by a pixel or
// so; a caller that needs repeatable output seeds that generator itself
// (faceeval and the tests do).
package detect

import (
	"fmt"
	"image"
	"math"
	"sort"

	pigo "github.com/esimov/pigo/core"

	"smartpass.city/smartpass/app/face/model"
)

// Point is a position in pixels, X to the right and Y down.
type Point struct{ X, Y float64 }

// Face is one detected face.
type Face struct {
	// Center and Size give the detector's square box.
	Center Point
	Size   float64
	// Score is the cascade's confidence; higher is surer.
	Score float64
	// Eyes, set by the caller from the 68-point landmarks (zero when not
	// found).
	LeftEye, RightEye Point
	EyesFound         bool
	// Nose base, found relative to the eyes (NoseFrom); zero when they
	// were not.
	Nose Point
}

// Box returns the detector's box as a rectangle.
func (f Face) Box() image.Rectangle {
	h := f.Size / 2
	return image.Rect(int(f.Center.X-h), int(f.Center.Y-h), int(f.Center.X+h), int(f.Center.Y+h))
}

// Gray is an 8-bit grayscale frame, row by row.
type Gray struct {
	Pix           []uint8
	Width, Height int
}

// GrayOf converts an image to grayscale with the usual luma weights.
func GrayOf(img image.Image) Gray {
	b := img.Bounds()
	g := Gray{Pix: make([]uint8, b.Dx()*b.Dy()), Width: b.Dx(), Height: b.Dy()}
	if rgba, ok := img.(*image.RGBA); ok {
		GrayFromRGBA(g.Pix, rgba.Pix, rgba.Stride, b.Dx(), b.Dy())
		return g
	}
	for y := range b.Dy() {
		for x := range b.Dx() {
			r, gg, bb, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			g.Pix[y*g.Width+x] = uint8((299*r + 587*gg + 114*bb) / 1000 >> 8)
		}
	}
	return g
}

// GrayFromRGBA converts RGBA bytes (4 per pixel, stride bytes a row) into
// dst, one byte a pixel; a camera frame takes this path.
func GrayFromRGBA(dst, rgba []uint8, stride, w, h int) {
	for y := range h {
		row := rgba[y*stride : y*stride+4*w]
		out := dst[y*w : (y+1)*w]
		for x := range out {
			p := row[4*x : 4*x+3 : 4*x+3]
			out[x] = uint8((299*uint32(p[0]) + 587*uint32(p[1]) + 114*uint32(p[2])) / 1000)
		}
	}
}

// Detector holds the cascades. It is safe for concurrent use.
type Detector struct {
	faces *pigo.Pigo
	nose  *pigo.PuplocCascade
}

// New loads the cascades from a model file.
func New(f *model.File) (*Detector, error) {
	d := &Detector{}
	raw, err := f.Raw("pigo/facefinder")
	if err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	if d.faces, err = pigo.NewPigo().Unpack(raw); err != nil {
		return nil, fmt.Errorf("detect: face cascade: %w", err)
	}
	if raw, err = f.Raw("pigo/lp93"); err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	if d.nose, err = pigo.NewPuplocCascade().UnpackCascade(raw); err != nil {
		return nil, fmt.Errorf("detect: nose cascade: %w", err)
	}
	return d, nil
}

// Options bound the search.
type Options struct {
	// MinSize and MaxSize bound the face box side in pixels. Zero
	// MinSize means a fifth of the frame's shorter side; zero MaxSize the
	// shorter side.
	MinSize, MaxSize int
	// MinScore drops weaker detections; zero means 5, which keeps faces
	// and drops most background.
	MinScore float64
}

// perturbs is how many jittered starts the landmark cascades take the
// median of; pigo keeps 63 slots, and fewer would mix in stale values.
const perturbs = 63

// Detect returns the faces in g, best score first, without landmarks.
func (d *Detector) Detect(g Gray, opt Options) []Face {
	short := min(g.Width, g.Height)
	if opt.MinSize == 0 {
		opt.MinSize = max(short/5, 20)
	}
	if opt.MaxSize == 0 {
		opt.MaxSize = short
	}
	if opt.MinScore == 0 {
		opt.MinScore = 5
	}
	img := pigo.ImageParams{Pixels: g.Pix, Rows: g.Height, Cols: g.Width, Dim: g.Width}
	dets := d.faces.RunCascade(pigo.CascadeParams{
		MinSize: opt.MinSize, MaxSize: opt.MaxSize,
		ShiftFactor: 0.1, ScaleFactor: 1.1,
		ImageParams: img,
	}, 0)
	dets = d.faces.ClusterDetections(dets, 0.2)
	sort.Slice(dets, func(i, j int) bool { return dets[i].Q > dets[j].Q })
	var out []Face
	for _, det := range dets {
		if float64(det.Q) < opt.MinScore || overlaps(out, det) {
			continue
		}
		out = append(out, Face{Center: Point{float64(det.Col), float64(det.Row)}, Size: float64(det.Scale), Score: float64(det.Q)})
	}
	return out
}

// overlaps reports whether det's centre lies inside the inner half of a
// face already kept: pigo's clustering leaves such twins of one face at
// two neighbouring scales.
func overlaps(kept []Face, det pigo.Detection) bool {
	for _, f := range kept {
		if math.Abs(f.Center.X-float64(det.Col)) < f.Size/4 && math.Abs(f.Center.Y-float64(det.Row)) < f.Size/4 {
			return true
		}
	}
	return false
}

// EyeDistance is the distance between the eyes in pixels, zero when they
// were not found.
func (f Face) EyeDistance() float64 {
	if !f.EyesFound {
		return 0
	}
	return math.Hypot(f.RightEye.X-f.LeftEye.X, f.RightEye.Y-f.LeftEye.Y)
}

// NoseFrom finds the nose base with the landmark cascade, started from
// eyes found otherwise (the 68-point landmarks): the cascade's nose moves
// with a turned head as a head's does, which the head-turn check relies
// on and the 68-point network's nose, drawn toward a frontal face's, does
// less.
func (d *Detector) NoseFrom(g Gray, left, right Point) Point {
	img := pigo.ImageParams{Pixels: g.Pix, Rows: g.Height, Cols: g.Width, Dim: g.Width}
	l := &pigo.Puploc{Row: int(left.Y), Col: int(left.X)}
	r := &pigo.Puploc{Row: int(right.Y), Col: int(right.X)}
	nose := d.nose.GetLandmarkPoint(l, r, img, perturbs, false)
	return Point{float64(nose.Col), float64(nose.Row)}
}
