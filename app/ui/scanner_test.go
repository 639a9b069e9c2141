package ui

import (
	"context"
	"image"
	"sync/atomic"
	"testing"
	"time"

	"smartpass.city/smartpass/app/face"
	"smartpass.city/smartpass/app/face/embed"
	"smartpass.city/smartpass/app/face/facemsg"
	"smartpass.city/smartpass/app/face/facetest"
)

// countingCamera is a camera whose openings, frames and closings are
// counted (its frames are blank).
type countingCamera struct {
	opened, frames, closed atomic.Int32
}

func (c *countingCamera) OpenCamera(context.Context, string) (Frames, error) {
	c.opened.Add(1)
	return c, nil
}
func (c *countingCamera) FaceModel(context.Context, func(done, total int64)) ([]byte, error) {
	select {} // the tests set the engine themselves
}
func (c *countingCamera) Frame(dst *image.RGBA) (*image.RGBA, error) {
	c.frames.Add(1)
	if dst == nil {
		dst = image.NewRGBA(image.Rect(0, 0, 64, 48))
	}
	return dst, nil
}
func (c *countingCamera) Close() { c.closed.Add(1) }

// setEngine sets the tab's face engine for one test and restores it.
func setEngine(t *testing.T, p *face.Pipeline, err error) {
	t.Helper()
	engine.mu.Lock()
	before, beforeLoaded, beforeErr := engine.r, engine.loaded, engine.err
	engine.r, engine.loaded, engine.err = nil, facemsg.Loaded{}, err
	if p != nil {
		engine.r, engine.loaded = &pageRunner{p}, facemsg.LoadedOf(p)
	}
	engine.mu.Unlock()
	t.Cleanup(func() {
		engine.mu.Lock()
		engine.r, engine.loaded, engine.err = before, beforeLoaded, beforeErr
		engine.mu.Unlock()
	})
}

// eventually waits up to 5 s for ok. (The page's dispatches are not
// consumed: go-app's test engine waits for every async goroutine to end
// first, and a scanner's loop ends only with the page.)
func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
	}
}

// openBeforeModel starts a scanner on a park page with no model loaded
// yet and waits for its camera to open.
func openBeforeModel(t *testing.T) (*scanner, *countingCamera) {
	t.Helper()
	p, _, _ := parkPage(t)
	setEngine(t, nil, nil)
	cam := &countingCamera{}
	s := &scanner{}
	s.start(&p.live, cam, face.Options{}, func(face.Result, error) {})
	t.Cleanup(s.close)
	eventually(t, "the camera open", func() bool { return cam.opened.Load() == 1 })
	return s, cam
}

// TestScannerBeforeTheModel: a scanner started before the face model is
// loaded opens the camera (the person sees themselves) and reads no
// frame; once the model is there it reads frames for the pipeline; when
// the model fails instead, it closes the camera.
func TestScannerBeforeTheModel(t *testing.T) {
	t.Run("loads", func(t *testing.T) {
		s, cam := openBeforeModel(t)
		time.Sleep(5 * modelPoll)
		if n := cam.frames.Load(); n != 0 {
			t.Fatalf("%d frames read before the model was loaded", n)
		}
		pl, err := face.New(facetest.NetModel(t, "dlib"), embed.Options{})
		if err != nil {
			t.Fatal(err)
		}
		setEngine(t, pl, nil)
		eventually(t, "frames read once the model is there", func() bool { return cam.frames.Load() >= 2 })
		if cam.closed.Load() != 0 {
			t.Fatal("the camera closed with the page open")
		}
		// Stopped, the loop closes the camera and ends, before the
		// cleanups put the engine back.
		s.close()
		eventually(t, "the camera closed with the scanner", func() bool { return cam.closed.Load() == 1 })
	})
	t.Run("fails", func(t *testing.T) {
		_, cam := openBeforeModel(t)
		setEngine(t, nil, errModel)
		eventually(t, "the camera closed", func() bool { return cam.closed.Load() == 1 })
		if n := cam.frames.Load(); n != 0 {
			t.Fatalf("%d frames read with no model", n)
		}
	})
}
