// Package face is the whole path from a frame to a template: detect the
// face (package detect), find its 68 landmarks (package landmark), check
// that the picture is good enough to recognise anyone from, align the
// crop as the network's training chips were aligned (package align) and
// compute the embedding with the model file's network: MobileFaceNet
// (package mobilefacenet, the default file) or dlib's ResNet (package
// embed, `make models FACE_NET=dlib`).
//
// A picture that is not good enough is refused with an error that says
// what the person in front of the camera can do about it (come closer,
// find more light, face the camera), so the screens can tell them in
// their own words; the errors are sentinel values for errors.Is.
package face

import (
	"cmp"
	"errors"
	"fmt"
	"image"
	"math"
	"time"

	"smartpass.city/smartpass/app/face/align"
	"smartpass.city/smartpass/app/face/detect"
	"smartpass.city/smartpass/app/face/embed"
	"smartpass.city/smartpass/app/face/landmark"
	"smartpass.city/smartpass/app/face/mobilefacenet"
	"smartpass.city/smartpass/app/face/model"
)

// Reasons a picture is refused. Each names what the person should do.
var (
	ErrNoFace        = errors.New("face: no face found")                 // 顔をカメラに向けてください
	ErrMultipleFaces = errors.New("face: more than one face")            // お一人ずつお願いします
	ErrTooSmall      = errors.New("face: face too small (come closer)")  // 近づいてください
	ErrTooDark       = errors.New("face: too dark")                      // 明るい場所で
	ErrTooBright     = errors.New("face: too bright (backlit or glare)") // 逆光を避けてください
	ErrBlurry        = errors.New("face: blurred (hold still)")          // 動かないでください
	ErrTurned        = errors.New("face: turned away (face the camera)") // 正面を向いてください
)

// Quality holds the measurements the checks use, for the debug overlay
// and for tuning.
type Quality struct {
	// EyeDistance in frame pixels.
	EyeDistance float64
	// Brightness is the mean luma of the aligned crop's centre, 0–255.
	Brightness float64
	// Sharpness is the energy of the finest detail of the crop's centre
	// relative to the next coarser octave (the variances of Laplacians at
	// one and two pixels' spacing), so neither lighting nor contrast
	// changes it; blur removes the finest detail first. Sharp faces in
	// the test set measure 0.11–0.23, the same blurred by a 5x5 box
	// 0.08–0.09.
	Sharpness float64
	// Yaw is how far the nose sits off the eyes' midline, in eye
	// distances: 0 facing the camera, about ±0.3 at a 30° turn.
	Yaw float64
	// Roll is the tilt of the eye line in degrees.
	Roll float64
}

// Limits are the quality thresholds; a zero field checks nothing, so the
// zero value accepts every face (the evaluation tool measures recognition
// on every image it can find a face in).
type Limits struct {
	MinEyeDistance               float64
	MinBrightness, MaxBrightness float64
	MinSharpness                 float64
	MaxYaw, MaxRoll              float64
	// SingleFace refuses frames with a second face nearly as large as the
	// first (enrollment); a terminal instead takes the largest.
	SingleFace bool
}

// DefaultLimits are the thresholds for a terminal. They were set from
// ../shared/testdata/faces (see README): every test image passes them,
// and the same images blurred, darkened or shrunk fail.
var DefaultLimits = Limits{
	MinEyeDistance: 24,
	MinBrightness:  40,
	MaxBrightness:  225,
	MinSharpness:   0.095,
	MaxYaw:         0.35,
	MaxRoll:        30,
}

// Result is a processed frame.
type Result struct {
	// Face is the detector's box with the eyes (each the mean of its six
	// contour points of Points) and the nose base (pigo's cascade, from
	// those eyes).
	Face detect.Face
	// Points are the 68 landmarks in frame pixels.
	Points  []detect.Point
	Quality Quality
	// Embedding is the network's output for the aligned face, not
	// normalised (template.Pack normalises it).
	Embedding []float32
	// Assumed is set when the detector found no face and the image, being
	// a tight face crop, was taken as the face (see Options.Crops).
	Assumed bool
	// Timings of the stages.
	Detect, Align, Embed time.Duration
}

// Options change how a frame is read.
type Options struct {
	Limits Limits
	// Crops says the images may be tight face crops (a test set, a
	// card's portrait) rather than camera frames: the detector then looks
	// with a border added first, and as a last resort the image is taken
	// as the face box and the landmarks found in it.
	Crops bool
	// Align chooses how the chip is cut; the zero value leaves it to the
	// pipeline (SetAlignment).
	Align Alignment
}

// Alignment is a way of cutting the chip out of the frame.
type Alignment int

const (
	// AlignDefault is the pipeline's choice: AlignMeanShape unless
	// SetAlignment said otherwise.
	AlignDefault Alignment = iota
	// AlignFivePoint finds the 68 landmarks and fits the eye corners and
	// the nose base to dlib's 5-point chip: how the network's training
	// chips were made.
	AlignFivePoint
	// AlignMeanShape fits 33 of the 68 points (nose, eyes, lips) to
	// dlib's mean face shape: dlib's chip for a 68-point shape, the same
	// chip the 5-point one approximates with less noise.
	AlignMeanShape
)

// network is a recognition network: package embed's or package
// mobilefacenet's.
type network interface {
	Embed(dst, rgb []float32) error
}

// Pipeline holds the detector, the network and their working memory. It
// is not safe for concurrent use.
type Pipeline struct {
	det *detect.Detector
	lm  *landmark.Net
	net network
	// model and dims name the network and its embedding's length.
	model string
	dims  int
	// chip is dlib's 150 px chip, which the quality checks measure (their
	// limits were set on it) and the dlib network takes; in is the
	// network's input, chip itself or the ArcFace chip (arcface set), of
	// side pixels.
	chip    []float32
	in      []float32
	side    int
	arcface bool
	// The landmark network's input and output.
	lmIn, lmOut []float32
	points      [landmark.Points]detect.Point
	align       Alignment
	// flip: see SetFlip; mirror and mirrorOut are its working memory.
	flip              bool
	mirror, mirrorOut []float32
}

// SetAlignment sets how frames are aligned when Options.Align leaves it to
// the pipeline (the evaluation compares the ways on one set).
func (p *Pipeline) SetAlignment(a Alignment) { p.align = a }

// New loads a pipeline from a model file, with the recognition network
// its header names; opt.Workers applies to either network.
func New(f *model.File, opt embed.Options) (*Pipeline, error) {
	det, err := detect.New(f)
	if err != nil {
		return nil, err
	}
	lm, err := landmark.New(f)
	if err != nil {
		return nil, err
	}
	p := &Pipeline{det: det, lm: lm, model: f.Name, chip: make([]float32, align.Size*align.Size*3),
		lmIn: make([]float32, landmark.InputSize*landmark.InputSize*3), lmOut: make([]float32, 2*landmark.Points)}
	if f.Name == mobilefacenet.ModelName {
		if p.net, err = mobilefacenet.New(f, opt.Workers); err != nil {
			return nil, err
		}
		p.dims, p.side, p.arcface = mobilefacenet.Dims, align.ArcFaceSize, true
		p.in = make([]float32, p.side*p.side*3)
		return p, nil
	}
	if p.net, err = embed.New(f, opt); err != nil {
		return nil, err
	}
	p.dims, p.side, p.in = embed.Dims, align.Size, p.chip
	return p, nil
}

// Model is the name of the model file's network, which every template
// this pipeline makes must carry (a gallery refuses any other).
func (p *Pipeline) Model() string { return p.model }

// Dims is the length of the pipeline's embeddings.
func (p *Pipeline) Dims() int { return p.dims }

// Process finds the face in img, checks it and computes its embedding.
// The embedding is written into a new slice.
func (p *Pipeline) Process(img *image.RGBA, opt Options) (Result, error) {
	var r Result
	if opt.Align == AlignDefault {
		opt.Align = cmp.Or(p.align, AlignMeanShape)
	}
	t0 := time.Now()
	f, assumed, err := p.findPoints(img, opt)
	r.Detect = time.Since(t0)
	if err != nil {
		return r, err
	}
	r.Face, r.Assumed = f, assumed
	t1 := time.Now()
	r.Points = append([]detect.Point(nil), p.points[:]...)
	idx, chip := align.MeanShapePoints()
	if opt.Align == AlignFivePoint {
		five := align.ChipFivePoints()
		idx, chip = align.FivePoints[:], five[:]
	}
	var frame [landmark.Points]detect.Point
	for i, k := range idx {
		frame[i] = p.points[k]
	}
	align.Chip(p.chip, img, align.FitTransform(chip, frame[:len(idx)]))
	r.Align = time.Since(t1)
	r.Quality = measure(f, p.chip)
	if err := opt.Limits.check(r.Quality); err != nil {
		return r, err
	}
	t2 := time.Now()
	if p.arcface {
		// The network's own chip: a least-squares similarity of the five
		// ArcFace points, as the network was trained.
		five, ref := align.ArcFaceFrame(p.points[:]), align.ArcFacePoints()
		align.Sample(p.in, p.side, img, align.FitTransform(ref[:], five[:]))
	}
	r.Embedding = make([]float32, p.dims)
	if err := p.net.Embed(r.Embedding, p.in); err != nil {
		return r, err
	}
	if p.flip {
		if err := p.addMirrored(r.Embedding); err != nil {
			return r, err
		}
	}
	r.Embed = time.Since(t2)
	return r, nil
}

// SetFlip makes the embedding the mean of the chip's and its mirror
// image's (template.Pack normalises it). It costs a second pass of the
// network; see README for what it gains.
func (p *Pipeline) SetFlip(on bool) {
	p.flip = on
	if on && p.mirror == nil {
		p.mirror = make([]float32, len(p.in))
		p.mirrorOut = make([]float32, p.dims)
	}
}

// addMirrored adds the embedding of the network's input mirrored left to
// right.
func (p *Pipeline) addMirrored(dst []float32) error {
	n := p.side
	for y := range n {
		row := p.in[y*n*3 : (y+1)*n*3]
		out := p.mirror[y*n*3 : (y+1)*n*3]
		for x := range n {
			copy(out[3*x:3*x+3], row[3*(n-1-x):3*(n-x)])
		}
	}
	if err := p.net.Embed(p.mirrorOut, p.mirror); err != nil {
		return err
	}
	for i, v := range p.mirrorOut {
		dst[i] = (dst[i] + v) / 2
	}
	return nil
}

// Chip returns the aligned crop of the last processed frame that the
// quality checks measure (dlib's 150 px chip, the dlib network's input),
// for the debug overlay and tests.
func (p *Pipeline) Chip() []float32 { return p.chip }

// findPadded looks with a border of half the image's size around it,
// the edge pixels repeated, because the face finder's window must fit
// inside the frame and a tight crop leaves it no room.
func (p *Pipeline) findPadded(g detect.Gray) []detect.Face {
	bw, bh := g.Width/2, g.Height/2
	pg := detect.Gray{Width: g.Width + 2*bw, Height: g.Height + 2*bh}
	pg.Pix = make([]uint8, pg.Width*pg.Height)
	for y := range pg.Height {
		sy := min(max(y-bh, 0), g.Height-1)
		for x := range pg.Width {
			sx := min(max(x-bw, 0), g.Width-1)
			pg.Pix[y*pg.Width+x] = g.Pix[sy*g.Width+sx]
		}
	}
	faces := p.det.Detect(pg, detect.Options{MinSize: min(g.Width, g.Height) / 3, MaxSize: min(pg.Width, pg.Height)})
	shift := func(q detect.Point) detect.Point { return detect.Point{X: q.X - float64(bw), Y: q.Y - float64(bh)} }
	for i := range faces {
		faces[i].Center = shift(faces[i].Center)
	}
	return faces
}

// contrast is the standard deviation of the grey levels.
func contrast(g detect.Gray) float64 {
	var s, s2 float64
	for _, v := range g.Pix {
		s, s2 = s+float64(v), s2+float64(v)*float64(v)
	}
	n := float64(len(g.Pix))
	return math.Sqrt(max(s2/n-(s/n)*(s/n), 0))
}

// measure computes the quality figures from the landmarks and the chip.
func measure(f detect.Face, chip []float32) Quality {
	q := Quality{EyeDistance: f.EyeDistance()}
	dx, dy := f.RightEye.X-f.LeftEye.X, f.RightEye.Y-f.LeftEye.Y
	q.Roll = math.Atan2(dy, dx) * 180 / math.Pi
	// The nose's offset from the eyes' midline, along the eye line.
	mid := detect.Point{X: (f.LeftEye.X + f.RightEye.X) / 2, Y: (f.LeftEye.Y + f.RightEye.Y) / 2}
	if d := q.EyeDistance; d > 0 {
		q.Yaw = ((f.Nose.X-mid.X)*dx + (f.Nose.Y-mid.Y)*dy) / (d * d)
	}
	// Brightness and sharpness over the chip's inner face (eyes to
	// mouth), where hair and background do not count.
	const x0, y0, side = 35, 35, 80
	var luma [side * side]float64
	var sum float64
	for y := range side {
		for x := range side {
			p := chip[((y+y0)*align.Size+x+x0)*3:]
			v := 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
			luma[y*side+x] = v
			sum += v
		}
	}
	q.Brightness = sum / (side * side)
	if coarse := laplacianVariance(luma[:], side, 2); coarse > 0 {
		q.Sharpness = laplacianVariance(luma[:], side, 1) / coarse
	}
	return q
}

// laplacianVariance is the variance of the Laplacian of a side x side
// image taken with the given pixel spacing.
func laplacianVariance(px []float64, side, step int) float64 {
	var s, s2 float64
	n := 0
	for y := step; y < side-step; y++ {
		for x := step; x < side-step; x++ {
			l := 4*px[y*side+x] - px[y*side+x-step] - px[y*side+x+step] - px[(y-step)*side+x] - px[(y+step)*side+x]
			s, s2 = s+l, s2+l*l
			n++
		}
	}
	m := s / float64(n)
	return s2/float64(n) - m*m
}

func (l Limits) check(q Quality) error {
	over := func(v, limit float64) bool { return limit > 0 && math.Abs(v) > limit }
	switch {
	case q.EyeDistance < l.MinEyeDistance:
		return fmt.Errorf("%w: eyes %.0f px apart, need %.0f", ErrTooSmall, q.EyeDistance, l.MinEyeDistance)
	case q.Brightness < l.MinBrightness:
		return fmt.Errorf("%w: brightness %.0f", ErrTooDark, q.Brightness)
	case over(q.Brightness, l.MaxBrightness):
		return fmt.Errorf("%w: brightness %.0f", ErrTooBright, q.Brightness)
	case over(q.Yaw, l.MaxYaw) || over(q.Roll, l.MaxRoll):
		return fmt.Errorf("%w: yaw %.2f, roll %.0f°", ErrTurned, q.Yaw, q.Roll)
	case q.Sharpness < l.MinSharpness:
		return fmt.Errorf("%w: sharpness %.3f", ErrBlurry, q.Sharpness)
	}
	return nil
}
