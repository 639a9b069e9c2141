package ui

import (
	"context"
	"errors"
	"fmt"
	"image"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/face"
	"smartpass.city/smartpass/app/face/embed"
	"smartpass.city/smartpass/app/face/facemsg"
	"smartpass.city/smartpass/app/face/gallery"
	"smartpass.city/smartpass/app/face/liveness"
	"smartpass.city/smartpass/app/face/risk"
	"smartpass.city/smartpass/app/qrcode"
)

// Faces is the tablet's camera and model download as the face screens use
// them (wired to getUserMedia and fetch in wasm/).
type Faces interface {
	// OpenCamera starts the camera, its preview shown in the element with
	// id previewID.
	OpenCamera(ctx context.Context, previewID string) (Frames, error)
	// FaceModel downloads the face model file, calling progress as bytes
	// arrive.
	FaceModel(ctx context.Context, progress func(done, total int64)) ([]byte, error)
}

// Frames is an open camera.
type Frames interface {
	// Frame copies the current frame into dst (reallocated when the size
	// differs) and returns it.
	Frame(dst *image.RGBA) (*image.RGBA, error)
	Close()
}

// FaceRunner runs the face pipeline: in a Web Worker (wasm/faceworker,
// a facemsg.Client), or on the page (pageRunner).
type FaceRunner interface {
	// Load loads the model file and describes the pipeline.
	Load(model []byte) (facemsg.Loaded, error)
	// Process runs the pipeline on one frame.
	Process(img *image.RGBA, opt face.Options) (face.Result, error)
	// Kernel says which loops ran the networks last (facemsg.KernelName).
	Kernel() string
	// Close ends the runner (a worker's thread and memory).
	Close()
}

// startWorker starts the runner the model loads into; nil, or one that
// fails (facemsg.ErrWorker), leaves the pipeline on the page.
var startWorker func() (FaceRunner, error)

// UseFaceWorker makes the face screens run the pipeline through the
// runner start returns, started when the first face screen loads the
// model (wasm/ starts a Web Worker), and on the page when it cannot
// start or fails later.
func UseFaceWorker(start func() (FaceRunner, error)) { startWorker = start }

// pageRunner runs the pipeline on the page's own thread.
type pageRunner struct{ p *face.Pipeline }

func (r *pageRunner) Load(data []byte) (facemsg.Loaded, error) {
	p, err := facemsg.Open(data)
	if err != nil {
		return facemsg.Loaded{}, err
	}
	r.p = p
	return facemsg.LoadedOf(p), nil
}

func (r *pageRunner) Process(img *image.RGBA, opt face.Options) (face.Result, error) {
	return r.p.Process(img, opt)
}

func (r *pageRunner) Kernel() string { return facemsg.KernelName() }
func (r *pageRunner) Close()         {}

// faceEngine is the face pipeline of this browser tab, loaded once: the
// model is 4 MB and every face screen shares it.
type faceEngine struct {
	once   sync.Once
	mu     sync.Mutex
	done   int64 // bytes downloaded
	size   int64 // bytes in all (0: not known yet)
	r      FaceRunner
	loaded facemsg.Loaded
	model  []byte // the file, for the page to load if the worker fails
	err    error
	run    sync.Mutex // held while the pipeline works

	waiters []waiter // pages waiting for the model
}

// waiter is a page waiting for the model, told of progress and then
// called.
type waiter struct {
	page  app.Context
	ready func()
}

var engine faceEngine

// errModel wraps every failure to load the model; the screens say "the
// face model could not be loaded" and keep card and manual entry open.
var errModel = errors.New("face model unavailable")

// load downloads and checks the model once, then calls ready on l's
// page (at once when the model is there already). The download belongs
// to the tab, not to the page that started it: staff moving to another
// face screen meanwhile must not abort it.
func (e *faceEngine) load(l *live, f Faces, ready func()) {
	e.mu.Lock()
	if e.r != nil {
		e.mu.Unlock()
		ready()
		return
	}
	e.waiters = append(e.waiters, waiter{l.page, ready})
	e.mu.Unlock()
	e.once.Do(func() {
		l.page.Async(func() {
			// The worker compiles its program while the model downloads.
			var w FaceRunner
			if startWorker != nil {
				var err error
				if w, err = startWorker(); err != nil {
					app.Log("smartpass: the face pipeline runs on the page:", err)
					w = nil
				}
			}
			data, err := f.FaceModel(context.Background(), func(done, total int64) {
				e.mu.Lock()
				e.done, e.size = done, total
				e.mu.Unlock()
				e.each(func(w waiter) { w.page.Dispatch(func(app.Context) {}) })
			})
			var r FaceRunner
			var loaded facemsg.Loaded
			if err == nil && w != nil {
				if loaded, err = w.Load(data); err == nil {
					r = w
				} else if errors.Is(err, facemsg.ErrWorker) {
					app.Log("smartpass: the face pipeline runs on the page:", err)
					err = nil
				}
			}
			if err == nil && r == nil {
				pr := &pageRunner{}
				if loaded, err = pr.Load(data); err == nil {
					r = pr
				}
			}
			if w != nil && r != w {
				w.Close() // not used: its thread and memory go
			}
			e.mu.Lock()
			if err != nil {
				e.err = errors.Join(errModel, err)
			} else {
				e.r, e.loaded, e.model = r, loaded, data
			}
			e.mu.Unlock()
			e.each(func(w waiter) {
				w.page.Dispatch(func(app.Context) {
					if r != nil {
						w.ready()
					}
				})
			})
			e.mu.Lock()
			e.waiters = nil
			e.mu.Unlock()
		})
	})
}

// each calls fn with every waiting page.
func (e *faceEngine) each(fn func(waiter)) {
	e.mu.Lock()
	ws := slices.Clone(e.waiters)
	e.mu.Unlock()
	for _, w := range ws {
		fn(w)
	}
}

// process runs the pipeline on one frame; pages share the pipeline, so
// one runs at a time. A worker that fails hands the pipeline to the page
// (the same network from the same file), which runs this frame again;
// if the page cannot load it either, the model is unavailable.
func (e *faceEngine) process(img *image.RGBA, opt face.Options) (face.Result, error) {
	e.run.Lock()
	defer e.run.Unlock()
	e.mu.Lock()
	r := e.r
	e.mu.Unlock()
	if r == nil {
		return face.Result{}, errModel
	}
	res, err := r.Process(img, opt)
	if !errors.Is(err, facemsg.ErrWorker) {
		return res, err
	}
	app.Log("smartpass: the face worker failed; the pipeline runs on the page:", err)
	r.Close()
	pr := &pageRunner{}
	loaded, lerr := pr.Load(e.model)
	if lerr != nil {
		lerr = errors.Join(errModel, lerr)
	}
	e.mu.Lock()
	if lerr != nil {
		e.r, e.err = nil, lerr
	} else {
		e.r, e.loaded = pr, loaded
	}
	e.mu.Unlock()
	if lerr != nil {
		return res, lerr
	}
	return pr.Process(img, opt)
}

// where says where the pipeline runs, for the staff's overlay: its
// kernel and thread, "SIMD worker" on a terminal as it should be.
func (e *faceEngine) where() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.r == nil {
		return ""
	}
	if e.inWorker() {
		return e.r.Kernel() + " worker"
	}
	return e.r.Kernel() + " page"
}

// inWorker reports whether the pipeline runs off the page (every runner
// but the page's own is a worker). The caller holds e.mu.
func (e *faceEngine) inWorker() bool {
	_, page := e.r.(*pageRunner)
	return e.r != nil && !page
}

// scanInterval is the pause between frames: with the pipeline in the
// worker, short, since the page's thread stays free to draw.
func (e *faceEngine) scanInterval() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.inWorker() {
		return workerScanInterval
	}
	return scanInterval
}

// network names the loaded pipeline's network and its embeddings'
// length, which templates carry and galleries check: the model file's,
// so a build with the other network (make models FACE_NET=…) enrolls and
// identifies with it. Before the model is loaded, dlib's: a placeholder,
// since no face is looked up before then and every screen builds its
// gallery again once the file's network is known.
func (e *faceEngine) network() (string, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.r == nil {
		return embed.ModelName, embed.Dims
	}
	return e.loaded.Network, e.loaded.Dims
}

// turnParams is base with the same-person floor of the loaded network's
// basis (package risk): a head-turn check compares its frames on the
// scale of the network that embeds them. A network without a basis gets
// a floor above every cosine, so no check passes on it: nobody is
// registered on a scale nobody measured (its faces decide nothing at a
// terminal either: risk.Closed).
func turnParams(base liveness.Params) liveness.Params {
	net, _ := engine.network()
	if b, err := risk.BasisOf(net); err == nil {
		return b.Liveness(base)
	}
	base.SamePerson = gallery.Unreachable
	return base
}

func (e *faceEngine) ready() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.r != nil
}

// progress is the download's share done, 0–100, for the progress bar.
func (e *faceEngine) progress() (percent int, failed error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.size > 0 {
		percent = int(100 * e.done / e.size)
	}
	return percent, e.err
}

// guidance returns the text key telling the person what to do about a
// refused frame.
func guidance(err error) string {
	for _, g := range []struct {
		err error
		key string
	}{
		{face.ErrNoFace, "face.g.noface"},
		{face.ErrMultipleFaces, "face.g.multiple"},
		{face.ErrTooSmall, "face.g.closer"},
		{face.ErrTooDark, "face.g.dark"},
		{face.ErrTooBright, "face.g.bright"},
		{face.ErrBlurry, "face.g.still"},
		{face.ErrTurned, "face.g.front"},
	} {
		if errors.Is(err, g.err) {
			return g.key
		}
	}
	return "face.g.error"
}

// cameraView is the scanner's camera preview with the staff's debug
// overlay: the detector's box, the eyes and nose, and under it the figures
// the quality check used. It carries how many frames the loop processed
// (data-frames), which the frame-rate measurement reads.
func (l *live) cameraView(s *scanner) app.UI {
	r, frame, overlay := s.last, s.bounds(), s.overlay
	show := overlay && r != nil && frame.Dx() > 0
	return app.Div().Body(
		app.Div().Class("camera").Attr("data-frames", s.frames).Body(
			app.Div().ID("camera-preview").Class("camera-host"),
			app.If(show, func() app.UI { return app.Raw(overlaySVG(frame, r)) }),
		),
		app.If(show, func() app.UI {
			q := r.Quality
			// Which loops computed the networks (the SIMD kernel, or
			// Go's where the browser has no WebAssembly SIMD) and on
			// which thread.
			return app.P().ID("face-figures").Class("hint").Text(fmt.Sprintf("eyes %.0f px · light %.0f · sharp %.3f · yaw %.2f · roll %.0f° · score %.0f · %s %s",
				q.EyeDistance, q.Brightness, q.Sharpness, q.Yaw, q.Roll, r.Face.Score, (r.Detect + r.Align + r.Embed).Round(time.Millisecond), engine.where()))
		}),
	)
}

// overlaySVG draws the box, the eyes and the nose in frame coordinates
// over the preview (both scale with the same width, both mirrored).
func overlaySVG(frame image.Rectangle, r *face.Result) string {
	box := r.Face.Box()
	return fmt.Sprintf(`<svg class="camera-overlay" id="face-overlay" viewBox="0 0 %d %d" preserveAspectRatio="xMidYMid meet" aria-hidden="true">`+
		`<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#f1c232" stroke-width="3"/>`+
		`<circle cx="%.0f" cy="%.0f" r="5" fill="#2ecc71"/><circle cx="%.0f" cy="%.0f" r="5" fill="#2ecc71"/>`+
		`<circle cx="%.0f" cy="%.0f" r="4" fill="#3498db"/></svg>`,
		frame.Dx(), frame.Dy(), box.Min.X, box.Min.Y, box.Dx(), box.Dy(),
		r.Face.LeftEye.X, r.Face.LeftEye.Y, r.Face.RightEye.X, r.Face.RightEye.Y, r.Face.Nose.X, r.Face.Nose.Y)
}

// scanner runs the camera and the pipeline for a face screen: it opens
// the camera (a page may start it before the model is loaded, so the two
// overlap), processes a frame every interval once the model is there,
// off the UI goroutine, and hands each result to the page.
type scanner struct {
	frame   *image.RGBA
	last    *face.Result
	lastErr error
	camErr  error
	// opened is set once the camera shows the person.
	opened  bool
	stop    context.CancelFunc
	overlay bool
	// qr, while set, has frames read for a QR code instead of a face,
	// each found handed to onQR (set before start) on the UI goroutine.
	// A page that never loads the face model sets it before start:
	// otherwise the loop waits for a model no one loads.
	qr   atomic.Bool
	onQR func(text string)
	// frames counts the frames handed to the page.
	frames int
}

// start opens the camera and loops until the page goes away, calling
// seen on the UI goroutine with each processed frame. Until the face
// model is loaded it only shows the camera (frames are processed once it
// is there); if the model fails, it closes the camera and returns.
func (s *scanner) start(l *live, f Faces, opt face.Options, seen func(r face.Result, err error)) {
	if s.stop != nil {
		return
	}
	ctx, cancel := context.WithCancel(l.page)
	s.stop = cancel
	l.page.Async(func() {
		frames, err := f.OpenCamera(ctx, "camera-preview")
		if err != nil {
			l.page.Dispatch(func(app.Context) { s.camErr = err })
			return
		}
		defer frames.Close()
		l.page.Dispatch(func(app.Context) { s.opened = true })
		var buf *image.RGBA
		for ctx.Err() == nil {
			if !s.qr.Load() && !engine.ready() {
				// Opened while the model loads, the camera already
				// shows the person (who can take position); frames are
				// processed once the model is there. A model that
				// failed closes the camera: nothing will look at it.
				if _, failed := engine.progress(); failed != nil {
					return
				}
				select {
				case <-ctx.Done():
				case <-time.After(modelPoll):
				}
				continue
			}
			buf, err = frames.Frame(buf)
			frame := buf
			if err == nil && s.qr.Load() {
				text, qerr := qrcode.Decode(frame)
				l.page.Dispatch(func(app.Context) {
					s.frame = frame
					s.frames++
					if qerr == nil && s.qr.Load() {
						s.onQR(text)
					}
				})
			} else {
				var r face.Result
				if err == nil {
					r, err = engine.process(frame, opt)
				}
				l.page.Dispatch(func(app.Context) {
					s.frame, s.lastErr = frame, err
					s.last = &r
					s.frames++
					seen(r, err)
				})
			}
			select {
			case <-ctx.Done():
			case <-time.After(engine.scanInterval()):
			}
		}
	})
}

// modelPoll is how often a scanner opened before the model loaded looks
// whether it has: short against the model's load, so the first frame is
// processed within a frame's time of it.
const modelPoll = 50 * time.Millisecond

// scanInterval leaves the UI time to draw between frames when the
// pipeline runs on the page's only thread; workerScanInterval is the
// pause when it runs in the worker (the page then draws meanwhile).
const (
	scanInterval       = 300 * time.Millisecond
	workerScanInterval = 60 * time.Millisecond
)

// close stops the camera; start may open it again.
func (s *scanner) close() {
	if s.stop != nil {
		s.stop()
		s.stop = nil
	}
}

// bounds is the last frame's rectangle, for the overlay.
func (s *scanner) bounds() image.Rectangle {
	if s.frame == nil {
		return image.Rectangle{}
	}
	return s.frame.Rect
}

// modelStatus shows the model download, or why it failed.
func (l *live) modelStatus() app.UI {
	pct, err := engine.progress()
	if err != nil {
		return app.P().ID("model-error").Class("notice warn").Attr("role", "alert").Text(l.tr("face.model.error"))
	}
	if engine.ready() {
		return app.Text("")
	}
	return app.Div().ID("model-progress").Class("notice").Attr("role", "status").Body(
		app.Text(l.tr("face.model.loading", pct)),
		app.Progress().Max(100).Value(pct),
	)
}
