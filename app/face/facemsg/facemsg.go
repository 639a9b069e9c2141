// Package facemsg carries the face pipeline's work between a page and the
// Web Worker that runs it (wasm/faceworker): a request (load this model
// file; process this frame) and its reply (the network loaded; the
// frame's result or why it was refused), each one byte string a
// postMessage carries. The refusals keep their identity across the thread
// boundary, so errors.Is(err, face.ErrTooDark) at the page still picks
// the guidance the person reads.
//
// The encoding is gob: it carries the float fields a refused frame may
// leave NaN, which JSON cannot. Both ends are the same program
// (app.wasm), so the types never differ between them.
package facemsg

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"image"

	"smartpass.city/smartpass/app/face"
	"smartpass.city/smartpass/app/face/gemm"
)

// Kinds of request.
const (
	// KindLoad asks the worker to load the model file in Request.Model.
	KindLoad = "load"
	// KindProcess asks it to process the frame in Request.Frame.
	KindProcess = "process"
)

// Request is one piece of work for the worker.
type Request struct {
	// ID pairs the reply with its request.
	ID   uint64
	Kind string
	// Model is the model file (KindLoad).
	Model []byte
	// Frame is the camera frame and how to read it (KindProcess).
	Frame   Frame
	Options face.Options
}

// Frame is an RGBA image as bytes: its size and pixels, rows of 4*Width.
type Frame struct {
	Width, Height int
	Pix           []byte
}

// FrameOf returns img's pixels as a Frame, without its margins.
func FrameOf(img *image.RGBA) Frame {
	b := img.Rect
	f := Frame{Width: b.Dx(), Height: b.Dy()}
	if img.Stride == 4*f.Width { // the rows are contiguous
		start := img.PixOffset(b.Min.X, b.Min.Y)
		f.Pix = img.Pix[start : start+4*f.Width*f.Height]
		return f
	}
	f.Pix = make([]byte, 0, 4*f.Width*f.Height)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		start := img.PixOffset(b.Min.X, y)
		f.Pix = append(f.Pix, img.Pix[start:start+4*f.Width]...)
	}
	return f
}

// Image returns the frame as an image, or an error when its pixels do not
// match its size.
func (f Frame) Image() (*image.RGBA, error) {
	if f.Width <= 0 || f.Height <= 0 || f.Width > 1<<14 || f.Height > 1<<14 || len(f.Pix) != 4*f.Width*f.Height {
		return nil, fmt.Errorf("facemsg: a frame of %d x %d pixels with %d bytes", f.Width, f.Height, len(f.Pix))
	}
	return &image.RGBA{Pix: f.Pix, Stride: 4 * f.Width, Rect: image.Rect(0, 0, f.Width, f.Height)}, nil
}

// Reply is the worker's answer to one request.
type Reply struct {
	ID uint64
	// Loaded describes the pipeline a load request made (KindLoad).
	Loaded Loaded
	// Result is the frame's result (KindProcess, when Refusal and Failure
	// are empty).
	Result face.Result
	// Refusal names the face package's reason a frame was refused
	// (refusals), with the error's text in Failure.
	Refusal string
	// Failure is the error's text: a refusal's, or any other failure's
	// (a model that does not load, a frame that is not one).
	Failure string
	// Fault says the failure is the worker's (ErrWorker: a frame before
	// the model, a request it cannot read): the page then runs the
	// pipeline itself.
	Fault bool
	// Kernel is which loops ran the networks for this request (see
	// KernelName).
	Kernel string
}

// Loaded describes a loaded pipeline.
type Loaded struct {
	// Network and Dims name the network and its embeddings' length,
	// which templates carry and galleries check.
	Network string
	Dims    int
}

// LoadedOf describes p.
func LoadedOf(p *face.Pipeline) Loaded {
	return Loaded{Network: p.Model(), Dims: p.Dims()}
}

// KernelName says which loops this thread's networks run on: "SIMD"
// (wasm/simdgemm, while it has not failed) or "Go".
func KernelName() string {
	if gemm.Accelerated() {
		return "SIMD"
	}
	return "Go"
}

// refusals are the reasons a frame is refused, by the name a reply
// carries: the guidance the page shows depends on which.
var refusals = map[string]error{
	"no-face":        face.ErrNoFace,
	"multiple-faces": face.ErrMultipleFaces,
	"too-small":      face.ErrTooSmall,
	"too-dark":       face.ErrTooDark,
	"too-bright":     face.ErrTooBright,
	"blurry":         face.ErrBlurry,
	"turned":         face.ErrTurned,
}

// SetErr records err (nil: success) in the reply.
func (r *Reply) SetErr(err error) {
	if err == nil {
		return
	}
	r.Failure = err.Error()
	if errors.Is(err, ErrWorker) {
		r.Fault = true
		return
	}
	for name, e := range refusals {
		if errors.Is(err, e) {
			r.Refusal = name
			return
		}
	}
}

// Err is the error the reply carries, nil for success: a refusal wraps
// the face package's error of its name.
func (r *Reply) Err() error {
	switch {
	case r.Refusal != "":
		e, ok := refusals[r.Refusal]
		if !ok {
			return fmt.Errorf("%w: the worker refused the frame for a reason this page does not know: %s", ErrWorker, r.Failure)
		}
		return &refusal{e, r.Failure}
	case r.Fault:
		return fmt.Errorf("%w: %s", ErrWorker, r.Failure)
	case r.Failure != "":
		return errors.New(r.Failure)
	}
	return nil
}

// refusal is a refusal as the page receives it: the worker's text, and
// the face package's error for errors.Is.
type refusal struct {
	err  error
	text string
}

func (r *refusal) Error() string { return r.text }
func (r *refusal) Unwrap() error { return r.err }

// ErrWorker is a worker that failed: it did not start, died, or answered
// what no request asked. The page then runs the pipeline itself.
var ErrWorker = errors.New("face worker failed")

// Encode returns v (a *Request or *Reply) as bytes.
func Encode(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(v); err != nil {
		return nil, fmt.Errorf("facemsg: %w", err)
	}
	return b.Bytes(), nil
}

// DecodeRequest reads a request.
func DecodeRequest(b []byte) (*Request, error) {
	var r Request
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&r); err != nil {
		return nil, fmt.Errorf("%w: an unreadable request: %w", ErrWorker, err)
	}
	if r.Kind != KindLoad && r.Kind != KindProcess {
		return nil, fmt.Errorf("%w: a request of kind %q", ErrWorker, r.Kind)
	}
	return &r, nil
}

// DecodeReply reads a reply.
func DecodeReply(b []byte) (*Reply, error) {
	var r Reply
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&r); err != nil {
		return nil, fmt.Errorf("%w: an unreadable reply: %w", ErrWorker, err)
	}
	return &r, nil
}
