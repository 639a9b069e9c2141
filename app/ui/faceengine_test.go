package ui

import (
	"errors"
	"image"
	"os"
	"path/filepath"
	"testing"

	"smartpass.city/smartpass/app/face"
	"smartpass.city/smartpass/app/face/facemsg"
	"smartpass.city/smartpass/app/face/facetest"
)

// failing is a face worker that has failed: every frame ends in
// facemsg.ErrWorker.
type failing struct{ closed int }

func (w *failing) Load([]byte) (facemsg.Loaded, error) { return facemsg.Loaded{}, nil }
func (w *failing) Process(*image.RGBA, face.Options) (face.Result, error) {
	return face.Result{}, facemsg.ErrWorker
}
func (w *failing) Kernel() string { return "SIMD" }
func (w *failing) Close()         { w.closed++ }

// setRunner puts r in the tab's engine, as the worker, with the model
// file data, for one test.
func setRunner(t *testing.T, r FaceRunner, data []byte) {
	t.Helper()
	engine.mu.Lock()
	r0, m0, e0 := engine.r, engine.model, engine.err
	engine.r, engine.model, engine.err = r, data, nil
	engine.mu.Unlock()
	t.Cleanup(func() {
		engine.mu.Lock()
		engine.r, engine.model, engine.err = r0, m0, e0
		engine.mu.Unlock()
	})
}

// TestWorkerFailsOver: a face worker that fails is closed and the page
// runs the pipeline from the same model file, this frame included, and
// says so; when the page cannot load the file either, the model is
// unavailable (the screens close the camera) rather than retried each
// frame.
func TestWorkerFailsOver(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(facetest.Root(t), facetest.ModelPath))
	if err != nil {
		t.Fatal(err)
	}
	img := facetest.Identity(t, "penny", "penny1.png")

	w := &failing{}
	setRunner(t, w, data)
	if got := engine.where(); got != "SIMD worker" {
		t.Fatalf("before: %q", got)
	}
	r, err := engine.process(img, face.Options{Crops: true})
	if err != nil || len(r.Embedding) == 0 {
		t.Fatalf("the frame after the worker failed: %v", err)
	}
	if w.closed != 1 || engine.where() != "Go page" || engine.scanInterval() != scanInterval || !engine.ready() {
		t.Fatalf("after: worker closed %d times, where %q, ready %v", w.closed, engine.where(), engine.ready())
	}

	w2 := &failing{}
	setRunner(t, w2, []byte("not a model"))
	if _, err := engine.process(img, face.Options{Crops: true}); !errors.Is(err, errModel) {
		t.Fatalf("no file the page can load: %v, want the model unavailable", err)
	}
	if engine.ready() {
		t.Fatal("the engine says ready with no pipeline")
	}
	if _, failed := engine.progress(); !errors.Is(failed, errModel) {
		t.Fatalf("the screens are not told: %v", failed)
	}
	if _, err := engine.process(img, face.Options{}); !errors.Is(err, errModel) {
		t.Fatalf("a frame with no pipeline: %v", err)
	}
}
