// Package liveness is the active check at face registration: the person
// turns their head to the sides the screen asks for, facing the camera
// again between turns, and the check passes only when the nose moves
// across the line between the eyes as a head's does. A turn to the wrong
// side starts the turns again.
//
// The cue is parallax. A head is not flat: when it turns, the nose (in
// front of the eyes) shifts sideways relative to them. A printed photo or
// a phone screen is flat: tilted or turned in front of the camera, its
// eyes draw closer together (foreshortening) but its nose stays on their
// midline. So a flat picture can never complete the turns, and turning it
// is itself recognised and refused.
//
// Each accepted frame must also be the same person as the first, frontal
// one, so a second person cannot do the turning. What this does not stop:
// a 3D mask, or a video of the person that happens to turn in the drawn
// order (the turns alternate, so any video of a head turning both ways,
// played in a loop, passes); see README.
package liveness

import (
	"errors"
	"math"
	"math/rand/v2"
	"time"

	"smartpass.city/smartpass/app/face"
	"smartpass.city/smartpass/app/face/gallery"
)

// Direction is a turn the person is asked to make, as they see it in the
// mirrored preview.
type Direction int

// The turns. Their left moves the nose to the image's right (the camera
// sees the person unmirrored), which the pipeline measures as positive
// yaw.
const (
	Left Direction = iota + 1
	Right
)

// Errors ending a check.
var (
	// ErrFlat: the face was turned like a flat picture (eyes
	// foreshortened, nose still between them).
	ErrFlat = errors.New("liveness: the face moved like a flat picture")
	// ErrOtherPerson: a frame showed someone else than the first.
	ErrOtherPerson = errors.New("liveness: a different face appeared")
	// ErrTimeout: the turns were not made in time.
	ErrTimeout = errors.New("liveness: the turns were not made in time")
)

// Params tune the check; Default is what registration uses.
type Params struct {
	// Turn is the yaw a turn must reach (nose offset in eye distances;
	// a frontal face measures within ±0.1, a 25° turn about 0.15–0.2).
	Turn float64
	// Frontal is the largest yaw of the starting frame.
	Frontal float64
	// Shrink is how far the eye line may shorten, relative to the
	// eyes-to-nose height and to the frontal frame, before the frame is
	// judged on parallax: a flat picture turned by 25° shortens it by
	// about 10%.
	Shrink float64
	// Parallax is the least nose shift (yaw) per unit of shortening a
	// turning head shows; a flat picture shows less. A real head turned
	// by 25° shortens its eye line by about 10% and moves its nose by
	// 0.15–0.2 eye distances; flat pictures turned 30–45° in the tests
	// move it by 0.07–0.11 while shortening it by 10–27%.
	Parallax float64
	// FlatFrames is how many flat frames end the check.
	FlatFrames int
	// SamePerson is the least cosine between each frame and the first,
	// on the scale of the network that embeds the frames: Default's is
	// dlib's (the test set's same-person pairs with the head turned score
	// 0.96, different people up to 0.86); the screens take every
	// network's from its basis (risk.Basis.Liveness).
	SamePerson float32
	// Timeout bounds the whole check.
	Timeout time.Duration
}

// Default are the parameters registration uses.
var Default = Params{Turn: 0.12, Frontal: 0.1, Shrink: 0.1, Parallax: 0.8, FlatFrames: 3, SamePerson: 0.9, Timeout: 20 * time.Second}

// RandomSteps draws n turns, alternating, starting on a random side: a
// person turns left-right-left or right-left-right.
func RandomSteps(r *rand.Rand, n int) []Direction {
	first := Left
	if r.IntN(2) == 1 {
		first = Right
	}
	steps := make([]Direction, n)
	for i := range steps {
		steps[i] = first
		if i%2 == 1 {
			steps[i] = 3 - first
		}
	}
	return steps
}

// Check follows one person through the turns. Feed it every processed
// frame; it is not safe for concurrent use.
type Check struct {
	p      Params
	steps  []Direction
	done   int  // steps completed
	away   bool // turned, not yet back to the centre
	start  time.Time
	ref    []float32 // embedding of the frontal frame
	aspect float64   // eye distance over the nose's height, frontal
	flat   int
	err    error
}

// New starts a check of steps.
func New(p Params, steps []Direction) *Check {
	return &Check{p: p, steps: steps}
}

// Status is where a check stands.
type Status struct {
	// Want is the turn asked for now; 0 before the frontal frame.
	Want Direction
	// Step and Steps count the turns made and asked.
	Step, Steps int
	Passed      bool
	Err         error
	// Embedding is the frontal frame's, once Passed: the one to store.
	Embedding []float32
}

// Observe takes one processed frame and returns the status.
func (c *Check) Observe(r face.Result, now time.Time) Status {
	if c.err != nil || c.done == len(c.steps) {
		return c.status()
	}
	if c.start.IsZero() {
		c.start = now
	}
	if now.Sub(c.start) > c.p.Timeout {
		c.err = ErrTimeout
		return c.status()
	}
	q := r.Quality
	aspect := aspectOf(r)
	if c.ref == nil {
		if math.Abs(q.Yaw) <= c.p.Frontal && aspect > 0 {
			c.ref, c.aspect = r.Embedding, aspect
		}
		return c.status()
	}
	if s, _ := gallery.Verify(c.ref, r.Embedding, c.p.SamePerson); s < c.p.SamePerson {
		c.err = ErrOtherPerson
		return c.status()
	}
	if shrink := 1 - aspect/c.aspect; shrink > c.p.Shrink && math.Abs(q.Yaw) < c.p.Parallax*shrink {
		if c.flat++; c.flat >= c.p.FlatFrames {
			c.err = ErrFlat
		}
		return c.status()
	}
	var turn Direction
	switch {
	case q.Yaw >= c.p.Turn:
		turn = Left
	case q.Yaw <= -c.p.Turn:
		turn = Right
	case math.Abs(q.Yaw) <= c.p.Frontal:
		c.away = false
	}
	if turn == 0 || c.away {
		return c.status()
	}
	c.away = true
	if turn == c.steps[c.done] {
		c.done++
	} else {
		c.done = 0 // the wrong side: start the turns again
	}
	return c.status()
}

func (c *Check) status() Status {
	s := Status{Step: c.done, Steps: len(c.steps), Err: c.err}
	switch {
	case c.err != nil:
	case c.done == len(c.steps):
		s.Passed, s.Embedding = true, c.ref
	case c.ref != nil:
		s.Want = c.steps[c.done]
	}
	return s
}

// aspectOf is the eye distance over the nose's height below the eye line:
// turning about a vertical axis shortens the first and not the second;
// moving nearer or farther scales both.
func aspectOf(r face.Result) float64 {
	f := r.Face
	d := r.Quality.EyeDistance
	if d == 0 {
		return 0
	}
	// The nose's distance from the eye line (a cross product).
	ex, ey := (f.RightEye.X-f.LeftEye.X)/d, (f.RightEye.Y-f.LeftEye.Y)/d
	h := math.Abs((f.Nose.X-f.LeftEye.X)*ey - (f.Nose.Y-f.LeftEye.Y)*ex)
	if h == 0 {
		return 0
	}
	return d / h
}
