//go:build js && wasm

// Package camera gives Go the frames of the tablet's camera: getUserMedia
// into a <video> element (shown as the preview), each frame drawn onto a
// canvas and its RGBA pixels copied into Go once, into a buffer the
// caller reuses.
package camera

import (
	"context"
	"errors"
	"fmt"
	"image"

	"github.com/hack-pad/safejs"

	"smartpass.city/smartpass/wasm/promise"
)

// ErrDenied is returned when the person or the browser refuses the
// camera, or there is none.
var ErrDenied = errors.New("camera: not available or not allowed")

// ErrNoFrame is returned before the video has a frame to give.
var ErrNoFrame = errors.New("camera: no frame yet")

// Camera is an open camera.
type Camera struct {
	stream safejs.Value
	video  safejs.Value
	canvas safejs.Value
	ctx2d  safejs.Value
	w, h   int
}

// Open asks for the front camera at about 640x480 and shows its preview in
// the element with id previewID (if there is one). The browser asks the
// person first; Open waits for their answer or ctx.
func Open(ctx context.Context, previewID string) (*Camera, error) {
	md, err := safejs.Global().Get("navigator")
	if err == nil {
		md, err = md.Get("mediaDevices")
	}
	if err != nil || md.IsUndefined() {
		return nil, fmt.Errorf("%w: no mediaDevices (the page must be served over https)", ErrDenied)
	}
	p, err := md.Call("getUserMedia", map[string]any{
		"audio": false,
		"video": map[string]any{"facingMode": "user", "width": map[string]any{"ideal": 640}, "height": map[string]any{"ideal": 480}},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDenied, err)
	}
	stream, err := promise.Await(ctx, p)
	if err != nil {
		if ctx.Err() != nil {
			stopWhenGranted(p)
		}
		return nil, fmt.Errorf("%w: %v", ErrDenied, err)
	}
	doc, _ := safejs.Global().Get("document")
	video, err := doc.Call("createElement", "video")
	if err != nil {
		return nil, err
	}
	for k, v := range map[string]any{"muted": true, "playsInline": true, "autoplay": true} {
		video.Set(k, v)
	}
	video.Set("srcObject", stream)
	video.Call("setAttribute", "class", "camera-preview")
	if previewID != "" {
		if host, err := doc.Call("getElementById", previewID); err == nil && !host.IsNull() {
			host.Call("replaceChildren", video)
		}
	}
	if p, err := video.Call("play"); err == nil {
		promise.Await(ctx, p)
	}
	canvas, err := doc.Call("createElement", "canvas")
	if err != nil {
		return nil, err
	}
	ctx2d, err := canvas.Call("getContext", "2d", map[string]any{"willReadFrequently": true})
	if err != nil {
		return nil, err
	}
	return &Camera{stream: stream, video: video, canvas: canvas, ctx2d: ctx2d}, nil
}

// Frame copies the current frame into dst, reallocating it only when the
// camera's size changes, and returns it.
func (c *Camera) Frame(dst *image.RGBA) (*image.RGBA, error) {
	wv, _ := c.video.Get("videoWidth")
	hv, _ := c.video.Get("videoHeight")
	w, _ := wv.Int()
	h, _ := hv.Int()
	if w == 0 || h == 0 {
		return dst, ErrNoFrame
	}
	if w != c.w || h != c.h {
		c.canvas.Set("width", w)
		c.canvas.Set("height", h)
		c.w, c.h = w, h
	}
	if dst == nil || dst.Rect.Dx() != w || dst.Rect.Dy() != h {
		dst = image.NewRGBA(image.Rect(0, 0, w, h))
	}
	if _, err := c.ctx2d.Call("drawImage", c.video, 0, 0, w, h); err != nil {
		return dst, fmt.Errorf("camera: draw frame: %w", err)
	}
	data, err := c.ctx2d.Call("getImageData", 0, 0, w, h)
	if err != nil {
		return dst, fmt.Errorf("camera: read frame: %w", err)
	}
	px, err := data.Get("data")
	if err != nil {
		return dst, err
	}
	if _, err := safejs.CopyBytesToGo(dst.Pix, px); err != nil {
		return dst, fmt.Errorf("camera: copy frame: %w", err)
	}
	return dst, nil
}

// Close stops the camera (its light goes off) and removes the preview.
func (c *Camera) Close() {
	stopTracks(c.stream)
	c.video.Call("remove")
}

// stopTracks stops every track of a media stream (the camera's light
// goes off).
func stopTracks(stream safejs.Value) {
	if tracks, err := stream.Call("getTracks"); err == nil {
		n, _ := tracks.Length()
		for i := range n {
			if t, err := tracks.Index(i); err == nil {
				t.Call("stop")
			}
		}
	}
}

// stopWhenGranted stops the stream of a camera request its page gave up
// on (the person left while the browser asked for permission): granted
// later, the camera would stay on with no one to close it.
func stopWhenGranted(request safejs.Value) {
	var fn safejs.Func
	fn, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		if len(args) > 0 {
			stopTracks(args[0]) // on a refusal, an error: no tracks
		}
		fn.Release() // allowed while it runs (syscall/js)
		return nil
	})
	if err != nil {
		return
	}
	request.Call("then", fn.Value(), fn.Value())
}
