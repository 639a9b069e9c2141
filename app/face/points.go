package face

import (
	"image"
	"math"
	"sort"

	"smartpass.city/smartpass/app/face/align"
	"smartpass.city/smartpass/app/face/detect"
	"smartpass.city/smartpass/app/face/landmark"
)

// How the landmark network's crop is framed, measured on face-api's own
// detector (SSD MobileNet) and landmarks: its box is about 1.4 times the
// points' height and centred 0.17 of that height above their middle (the
// forehead is in the box, not among the points). The network saw crops
// framed so; a crop framed otherwise gives worse points.
const (
	lmSide  = 1.4
	lmAbove = 0.17
	// pigoSide scales pigo's box, which is tighter than face-api's, for
	// the first look.
	pigoSide = 1.2
)

// findPoints finds the largest face and its 68 landmarks into p.points,
// and returns the face with its eyes set from them (each the mean of its
// six contour points) and its nose base found from those eyes by pigo's
// cascade (see detect.NoseFrom).
func (p *Pipeline) findPoints(img *image.RGBA, opt Options) (detect.Face, bool, error) {
	g := detect.GrayOf(img)
	var faces []detect.Face
	if opt.Crops {
		faces = p.findPadded(g)
	}
	if len(faces) == 0 {
		faces = p.det.Detect(g, detect.Options{})
		if opt.Limits.SingleFace && len(faces) > 1 {
			sort.Slice(faces, func(i, j int) bool { return faces[i].Size > faces[j].Size })
			if faces[1].Size > 0.6*faces[0].Size {
				return faces[0], false, ErrMultipleFaces
			}
		}
	}
	sort.Slice(faces, func(i, j int) bool { return faces[i].Size > faces[j].Size })
	for _, f := range faces {
		if f, ok := p.landmarks(img, f, f.Center, pigoSide*f.Size); ok {
			f.Nose = p.det.NoseFrom(g, f.LeftEye, f.RightEye)
			return f, false, nil
		}
	}
	if opt.Crops && img.Rect.Dx() >= 64 && img.Rect.Dy() >= 64 && contrast(g) >= 10 {
		// A tight crop the detector found no face in: take the image as
		// the face box and let the landmarks say whether it is one.
		w, h := float64(img.Rect.Dx()), float64(img.Rect.Dy())
		f := detect.Face{Center: detect.Point{X: w / 2, Y: h / 2}, Size: min(w, h)}
		if f, ok := p.landmarks(img, f, f.Center, max(w, h)); ok {
			f.Nose = p.det.NoseFrom(g, f.LeftEye, f.RightEye)
			return f, true, nil
		}
	}
	return detect.Face{}, false, ErrNoFace
}

// landmarks runs the network on the square crop centred at c, then again
// on the crop its points call for, and checks that the points are a
// face's: eyes apart and level, the nose base below them.
func (p *Pipeline) landmarks(img *image.RGBA, f detect.Face, c detect.Point, side float64) (detect.Face, bool) {
	for range 2 {
		p.points68(img, c, side)
		minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
		for _, q := range p.points {
			minX, maxX = min(minX, q.X), max(maxX, q.X)
			minY, maxY = min(minY, q.Y), max(maxY, q.Y)
		}
		h := maxY - minY
		c = detect.Point{X: (minX + maxX) / 2, Y: (minY+maxY)/2 - lmAbove*h}
		side = lmSide * max(maxX-minX, h)
	}
	mean := func(from int) detect.Point {
		var m detect.Point
		for _, q := range p.points[from : from+6] {
			m.X, m.Y = m.X+q.X/6, m.Y+q.Y/6
		}
		return m
	}
	f.LeftEye, f.RightEye, f.Nose = mean(36), mean(42), p.points[30]
	f.EyesFound = true
	d := f.EyeDistance()
	level := math.Abs(f.RightEye.Y-f.LeftEye.Y) < 0.5*d
	below := f.Nose.Y > (f.LeftEye.Y+f.RightEye.Y)/2
	if d < 0.15*side || !level || !below {
		return detect.Face{}, false
	}
	return f, true
}

// points68 runs the landmark network on the square crop of img centred at
// c with the given side, and puts the points, in frame pixels, in
// p.points.
func (p *Pipeline) points68(img *image.RGBA, c detect.Point, side float64) {
	tr := align.BoxTransform(c, side, landmark.InputSize)
	align.Sample(p.lmIn, landmark.InputSize, img, tr)
	p.lm.Run(p.lmOut, p.lmIn)
	for i := range p.points {
		// The network's fractions are of the crop's extent; Apply takes
		// pixel centres.
		p.points[i] = tr.Apply(detect.Point{X: float64(p.lmOut[2*i])*landmark.InputSize - 0.5, Y: float64(p.lmOut[2*i+1])*landmark.InputSize - 0.5})
	}
}
