//go:build !js

package risk_test

import (
	"errors"
	"image"
	"math/rand"
	"testing"
	"time"

	"smartpass.city/smartpass/app/face"
	"smartpass.city/smartpass/app/face/embed"
	"smartpass.city/smartpass/app/face/facetest"
	"smartpass.city/smartpass/app/face/liveness"
	"smartpass.city/smartpass/app/face/risk"
)

// TestHeadTurnOnEveryNetwork: with each network's same-person floor
// (Basis.Liveness), the real turned photos of one person pass the
// head-turn check and a second person stepping in ends it, whichever
// network embeds the frames: a floor on another network's scale would
// refuse everyone (or let anyone in).
func TestHeadTurnOnEveryNetwork(t *testing.T) {
	for _, b := range risk.Bases() {
		t.Run(b.Net, func(t *testing.T) {
			p, err := face.New(facetest.NetModel(t, b.Net), embed.Options{})
			if err != nil {
				t.Fatal(err)
			}
			photo := func(who, file string) *image.RGBA {
				return facetest.CameraFrame(facetest.Identity(t, who, file), 2)
			}
			run := func(c *liveness.Check, seq []*image.RGBA) liveness.Status {
				now := time.Unix(1000, 0)
				var s liveness.Status
				for _, img := range seq {
					// The finder's sampling, as the liveness tests fix it
					// (rand.Seed works: basis_test.go, of this test
					// binary, sets randseednop=0).
					rand.Seed(1)
					r, err := p.Process(img, face.Options{Limits: face.DefaultLimits})
					if err != nil {
						continue
					}
					s = c.Observe(r, now)
					now = now.Add(200 * time.Millisecond)
				}
				return s
			}
			params := b.Liveness(liveness.Default)
			front, left, right := photo("sheldon", "sheldon1.png"), photo("sheldon", "sheldon5.png"), photo("sheldon", "sheldon3.png")
			s := run(liveness.New(params, []liveness.Direction{liveness.Left, liveness.Right, liveness.Left}),
				[]*image.RGBA{front, front, left, front, right, right, front, left})
			if !s.Passed || s.Err != nil || len(s.Embedding) != p.Dims() {
				t.Errorf("the turns of one person: %+v", s)
			}
			s = run(liveness.New(params, []liveness.Direction{liveness.Left}), []*image.RGBA{front, photo("penny", "penny1.png")})
			if !errors.Is(s.Err, liveness.ErrOtherPerson) {
				t.Errorf("another person stepped in: %+v, want ErrOtherPerson", s)
			}
		})
	}
}
