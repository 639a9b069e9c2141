package facemsg

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"testing"
	"time"

	"smartpass.city/smartpass/app/face"
	"smartpass.city/smartpass/app/face/embed"
	"smartpass.city/smartpass/app/face/facetest"
)

// loopback is a worker in a goroutine: what a Web Worker is to the page,
// without the browser.
type loopback struct {
	c    *Client
	s    *Server
	fail error               // Post's error, when set
	mute bool                // the worker never answers
	hook func([]byte) []byte // rewrites a reply, when set
}

func (l *loopback) Post(b []byte) error {
	if l.fail != nil {
		return l.fail
	}
	b = bytes.Clone(b) // as postMessage copies: the client clears its own
	go func() {
		out := l.s.Handle(b)
		if l.mute {
			return
		}
		if l.hook != nil {
			out = l.hook(out)
		}
		l.c.Deliver(out)
	}()
	return nil
}

func newLoopback() *loopback {
	l := &loopback{s: &Server{}}
	l.c = NewClient(l)
	return l
}

// TestWorkerGivesThePipelinesResults loads the model through the
// messages and processes frames: the embedding is the one the pipeline
// gives on the page, a frame without a face is refused with the face
// package's own error (the guidance depends on it), and a model that is
// not one fails with the model's error.
func TestWorkerGivesThePipelinesResults(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(facetest.Root(t), facetest.ModelPath))
	if err != nil {
		t.Fatal(err)
	}
	f := facetest.Model(t)
	l := newLoopback()
	if _, err := l.c.Process(image.NewRGBA(image.Rect(0, 0, 8, 8)), face.Options{}); err == nil {
		t.Fatal("a frame before the model was processed")
	}
	loaded, err := l.c.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	p, err := face.New(f, embed.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if loaded != LoadedOf(p) {
		t.Fatalf("the worker loaded %+v, the page %+v", loaded, LoadedOf(p))
	}
	img := facetest.Identity(t, "penny", "penny1.png")
	// A frame that is part of a larger image: its margins stay behind.
	big := image.NewRGBA(image.Rect(0, 0, img.Rect.Dx()+20, img.Rect.Dy()+10))
	for y := range img.Rect.Dy() {
		copy(big.Pix[big.PixOffset(20, y+10):], img.Pix[img.PixOffset(0, y):][:4*img.Rect.Dx()])
	}
	sub := big.SubImage(image.Rect(20, 10, big.Rect.Dx(), big.Rect.Dy())).(*image.RGBA)
	for _, frame := range []*image.RGBA{img, sub} {
		want, err := p.Process(img, face.Options{Crops: true})
		if err != nil {
			t.Fatal(err)
		}
		got, err := l.c.Process(frame, face.Options{Crops: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Embedding) != len(want.Embedding) || got.Quality != want.Quality || got.Face != want.Face {
			t.Fatalf("the worker's result differs: %+v, want %+v", got.Quality, want.Quality)
		}
		for i := range want.Embedding {
			if got.Embedding[i] != want.Embedding[i] {
				t.Fatalf("embedding value %d: %g, want %g", i, got.Embedding[i], want.Embedding[i])
			}
		}
	}
	if k := l.c.Kernel(); k != "Go" { // no accelerator natively
		t.Fatalf("the worker says its networks ran on %q", k)
	}
	grey := image.NewRGBA(image.Rect(0, 0, 160, 120))
	for i := range grey.Pix {
		grey.Pix[i] = 128
	}
	if _, err := l.c.Process(grey, face.Options{}); !errors.Is(err, face.ErrNoFace) || err.Error() != face.ErrNoFace.Error() {
		t.Fatalf("grey frame: %v, want the face package's ErrNoFace", err)
	}
	if _, err := l.c.Load([]byte("not a model")); err == nil || errors.Is(err, ErrWorker) {
		t.Fatalf("a file that is not a model: %v, want the model's own error", err)
	}
}

// TestEveryRefusalCrosses checks each of the face package's refusals
// reaches the page as itself, wrapped or not.
func TestEveryRefusalCrosses(t *testing.T) {
	for name, e := range refusals {
		for _, err := range []error{e, errors.Join(errors.New("detail"), e)} {
			var r Reply
			r.SetErr(err)
			b, err2 := Encode(&r)
			if err2 != nil {
				t.Fatal(err2)
			}
			back, err2 := DecodeReply(b)
			if err2 != nil {
				t.Fatal(err2)
			}
			if got := back.Err(); !errors.Is(got, e) || got.Error() != err.Error() {
				t.Errorf("%s: %v arrived as %v", name, err, got)
			}
		}
	}
	var fault Reply
	fault.SetErr(fmt.Errorf("%w: a frame before the model", ErrWorker))
	if err := fault.Err(); !errors.Is(err, ErrWorker) {
		t.Errorf("a worker's fault arrived as %v, not ErrWorker (the page would not take over)", err)
	}
	var ok Reply
	ok.SetErr(nil)
	if ok.Err() != nil {
		t.Fatal("a success carried an error")
	}
}

// TestWorkerFailures: a worker the page cannot post to, one that never
// answers, and one that answers what nobody asked each end in ErrWorker,
// for the request waiting and for every later one (the page then runs
// the pipeline itself).
func TestWorkerFailures(t *testing.T) {
	frame := image.NewRGBA(image.Rect(0, 0, 8, 8))
	cases := []struct {
		name string
		set  func(*loopback)
	}{
		{"cannot post", func(l *loopback) { l.fail = errors.New("worker terminated") }},
		{"never answers", func(l *loopback) { l.mute = true; l.c.ProcessTimeout = 50 * time.Millisecond }},
		{"answers another id", func(l *loopback) {
			l.hook = func(b []byte) []byte {
				r, _ := DecodeReply(b)
				r.ID += 1000
				out, _ := Encode(r)
				return out
			}
		}},
		{"answers garbage", func(l *loopback) { l.hook = func([]byte) []byte { return []byte{0xff, 0x01} } }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newLoopback()
			c.set(l)
			for i := range 2 {
				if _, err := l.c.Process(frame, face.Options{}); !errors.Is(err, ErrWorker) {
					t.Fatalf("request %d: %v, want ErrWorker", i+1, err)
				}
			}
			if l.c.Err() == nil {
				t.Fatal("the client does not say the worker failed")
			}
		})
	}
}

// TestFrameImage refuses frames whose pixels do not match their size.
func TestFrameImage(t *testing.T) {
	for _, f := range []Frame{
		{Width: 2, Height: 2, Pix: make([]byte, 15)},
		{Width: 0, Height: 2},
		{Width: -1, Height: -4, Pix: make([]byte, 16)},
		{Width: 1 << 15, Height: 1, Pix: make([]byte, 4<<15)},
	} {
		if _, err := f.Image(); err == nil {
			t.Errorf("%d x %d with %d bytes accepted", f.Width, f.Height, len(f.Pix))
		}
	}
	if img, err := (Frame{Width: 2, Height: 1, Pix: make([]byte, 8)}).Image(); err != nil || img.Rect.Dx() != 2 {
		t.Fatalf("a good frame: %v", err)
	}
}

// FuzzDecode feeds both decoders arbitrary bytes: an error, never a
// panic; a frame request that decodes goes to a loaded pipeline, which
// refuses a frame that is not one in words and processes the rest.
func FuzzDecode(f *testing.F) {
	req, _ := Encode(&Request{Kind: KindProcess, Frame: Frame{Width: 1, Height: 1, Pix: []byte{1, 2, 3, 4}}})
	rep, _ := Encode(&Reply{ID: 3, Refusal: "too-dark", Failure: "dark"})
	f.Add(req)
	f.Add(rep)
	f.Add([]byte{})
	p, err := face.New(facetest.Model(f), embed.Options{})
	if err != nil {
		f.Fatal(err)
	}
	s := &Server{p: p} // a request that decodes reaches the pipeline
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := DecodeReply(b); err == nil {
			_ = r.Err()
		}
		if r, err := DecodeRequest(b); err == nil && r.Kind == KindProcess {
			out, err := DecodeReply(s.Handle(bytes.Clone(b)))
			if err != nil {
				t.Fatalf("the server's reply does not decode: %v", err)
			}
			if _, ierr := r.Frame.Image(); ierr != nil && out.Failure == "" {
				t.Fatalf("a frame that is not one (%v) was processed", ierr)
			}
		}
	})
}
