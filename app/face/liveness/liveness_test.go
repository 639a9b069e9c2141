//go:debug randseednop=0

package liveness

import (
	"errors"
	"image"
	"math/rand"
	rand2 "math/rand/v2"
	"testing"
	"time"

	"smartpass.city/smartpass/app/face"
	"smartpass.city/smartpass/app/face/embed"
	"smartpass.city/smartpass/app/face/facetest"
)

// frames processes camera frames made from the shared photos.
type frames struct {
	t testing.TB
	p *face.Pipeline
}

// newFrames runs dlib's network, whose scale Default's SamePerson is
// on; the screens take each network's floor from its basis
// (risk.Basis.Liveness), and risk's TestHeadTurnOnEveryNetwork runs the
// turns on every network.
func newFrames(t testing.TB) frames {
	p, err := face.New(facetest.NetModel(t, "dlib"), embed.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return frames{t, p}
}

func (f frames) photo(identity, file string) *image.RGBA {
	return facetest.CameraFrame(facetest.Identity(f.t, identity, file), 2)
}

func (f frames) process(img *image.RGBA) (face.Result, bool) {
	rand.Seed(1)
	r, err := f.p.Process(img, face.Options{Limits: face.DefaultLimits})
	return r, err == nil
}

// run feeds images one every 200 ms and returns the last status.
func run(t *testing.T, f frames, c *Check, imgs []*image.RGBA) Status {
	t.Helper()
	now := time.Unix(1000, 0)
	var s Status
	for i, img := range imgs {
		r, ok := f.process(img)
		if !ok {
			continue // a frame without a usable face is skipped, as on screen
		}
		s = c.Observe(r, now)
		t.Logf("frame %d: yaw %+.3f aspect %.2f → step %d/%d want %d err %v", i, r.Quality.Yaw, aspectOf(r), s.Step, s.Steps, s.Want, s.Err)
		now = now.Add(200 * time.Millisecond)
	}
	return s
}

// TestHeadTurnsPass: three real photos of one person, frontal and turned
// either way (the test set's sheldon1, sheldon5 turned to his left,
// sheldon3 to his right), shown in the order the check asks, pass it in
// both orders; the stored embedding is the frontal one.
func TestHeadTurnsPass(t *testing.T) {
	f := newFrames(t)
	front, left, right := f.photo("sheldon", "sheldon1.png"), f.photo("sheldon", "sheldon5.png"), f.photo("sheldon", "sheldon3.png")
	cases := []struct {
		steps []Direction
		seq   []*image.RGBA
	}{
		{[]Direction{Left, Right, Left}, []*image.RGBA{front, front, left, front, right, right, front, left}},
		{[]Direction{Right, Left, Right}, []*image.RGBA{front, right, front, left, left, front, right}},
		// A wrong turn starts again; the turns made after it count.
		{[]Direction{Right, Left}, []*image.RGBA{front, left, front, right, front, left}},
	}
	for _, c := range cases {
		s := run(t, f, New(Default, c.steps), c.seq)
		if !s.Passed || s.Err != nil || len(s.Embedding) != embed.Dims {
			t.Errorf("steps %v: %+v", c.steps, s)
		}
	}
	// Turns in the wrong order, or without facing the camera between
	// them, do not pass.
	for _, seq := range [][]*image.RGBA{
		{front, right, front, left, front, right, front},
		{front, left, right, left},
	} {
		if s := run(t, f, New(Default, []Direction{Left, Right, Left}), seq); s.Passed {
			t.Errorf("passed with %d frames in the wrong order", len(seq))
		}
	}
}

// TestFlatPicturesFail: a print and a phone screen showing the frontal
// photo, held up and turned left and right the way the check asks, never
// pass: their nose stays between their eyes. Turning them is recognised as
// flat and ends the check.
func TestFlatPicturesFail(t *testing.T) {
	f := newFrames(t)
	front := f.photo("sheldon", "sheldon1.png")
	for name, pic := range map[string]*image.RGBA{"print": front, "phone screen": facetest.Screen(front)} {
		seq := []*image.RGBA{pic}
		for _, deg := range []float64{-35, 35, -45, 45, -30, 30, -40, 40} {
			seq = append(seq, facetest.Turned(pic, deg))
		}
		s := run(t, f, New(Default, []Direction{Left, Right, Left}), seq)
		if s.Passed {
			t.Errorf("%s passed the turns", name)
		}
		if !errors.Is(s.Err, ErrFlat) {
			t.Errorf("%s: %v, want ErrFlat", name, s.Err)
		}
	}
}

func TestOtherPersonFails(t *testing.T) {
	f := newFrames(t)
	seq := []*image.RGBA{f.photo("sheldon", "sheldon1.png"), f.photo("penny", "penny1.png")}
	if s := run(t, f, New(Default, []Direction{Left}), seq); !errors.Is(s.Err, ErrOtherPerson) {
		t.Fatalf("%+v, want ErrOtherPerson", s)
	}
}

func TestTimeout(t *testing.T) {
	f := newFrames(t)
	r, ok := f.process(f.photo("sheldon", "sheldon1.png"))
	if !ok {
		t.Fatal("no face")
	}
	c := New(Default, []Direction{Left})
	start := time.Unix(0, 0)
	c.Observe(r, start)
	if s := c.Observe(r, start.Add(Default.Timeout+time.Second)); !errors.Is(s.Err, ErrTimeout) {
		t.Fatalf("%+v", s)
	}
}

func TestRandomSteps(t *testing.T) {
	seen := map[Direction]bool{}
	r := rand2.New(rand2.NewPCG(1, 2))
	for range 20 {
		s := RandomSteps(r, 3)
		if len(s) != 3 || s[0] == s[1] || s[1] == s[2] {
			t.Fatalf("steps %v do not alternate", s)
		}
		seen[s[0]] = true
	}
	if !seen[Left] || !seen[Right] {
		t.Fatal("the first turn is always the same side")
	}
}
