//go:build js && wasm

// Package faceworker runs the face pipeline in a Web Worker, so a frame's
// 80 ms of networks leave the page's thread free to draw and answer taps,
// on the device's second core where it has one. The worker runs app.wasm
// itself: assets/faceworker.js loads the same program, whose main sees it
// is in a worker (InWorker) and calls Serve instead of drawing screens.
// So a terminal downloads and caches nothing more for it, offline too,
// than the 1 KB script. The messages are package facemsg's.
package faceworker

import (
	"errors"
	"fmt"

	"github.com/hack-pad/safejs"

	"smartpass.city/smartpass/app/face/facemsg"
	"smartpass.city/smartpass/wasm/jsbytes"
)

// ScriptURL is the worker's script.
const ScriptURL = "/web/faceworker.js"

// handlerName is the global through which the script hands the Go
// program the page's messages.
const handlerName = "smartpassFaceWorker"

// InWorker reports whether this program runs in a worker (no document).
func InWorker() bool {
	doc, err := safejs.Global().Get("document")
	return err == nil && doc.IsUndefined()
}

// Serve answers the page's requests until the worker is closed. Each
// request runs to its end before the next starts: the pipeline is one.
func Serve() error {
	var s facemsg.Server
	requests := make(chan []byte, 16)
	handler, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		if len(args) == 0 {
			return nil
		}
		b, err := jsbytes.ToGo(args[0])
		if err != nil {
			b = nil // Handle answers an unreadable request with its error
		}
		// A frame may be a card's photo: the script's copy goes now.
		_, _ = args[0].Call("fill", 0) // not a typed array: nothing to clear
		select {
		case requests <- b:
		default: // the page waits for each reply: 16 is never reached
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("faceworker: %w", err)
	}
	if err := safejs.Global().Set(handlerName, handler.Value()); err != nil {
		return fmt.Errorf("faceworker: %w", err)
	}
	for b := range requests {
		if err := post(safejs.Global(), s.Handle(b)); err != nil {
			return err
		}
	}
	return nil
}

// post posts b to the other side, transferring its buffer (no copy).
func post(to safejs.Value, b []byte) error {
	u8, err := jsbytes.ToJS(b)
	if err != nil {
		return fmt.Errorf("faceworker: %w", err)
	}
	buf, err := u8.Get("buffer")
	if err != nil {
		return fmt.Errorf("faceworker: %w", err)
	}
	if _, err := to.Call("postMessage", u8, []any{buf}); err != nil {
		return fmt.Errorf("faceworker: postMessage: %w", err)
	}
	return nil
}

// Worker is the page's handle on the Web Worker: the facemsg client that
// talks to it, and Close, which ends it.
type Worker struct {
	*facemsg.Client
	w     safejs.Value
	funcs []safejs.Func
}

// poster posts to the worker.
type poster struct{ w safejs.Value }

func (p poster) Post(b []byte) error { return post(p.w, b) }

// Start starts the worker and returns the page's handle on it. A worker
// that fails to start or dies later fails the client's requests with
// facemsg.ErrWorker; the caller then closes it.
func Start() (*Worker, error) {
	ctor, err := safejs.Global().Get("Worker")
	if err != nil || ctor.IsUndefined() {
		return nil, errors.New("faceworker: this browser has no Web Workers")
	}
	w, err := ctor.New(ScriptURL)
	if err != nil {
		return nil, fmt.Errorf("faceworker: new Worker: %w", err)
	}
	h := &Worker{Client: facemsg.NewClient(poster{w}), w: w}
	c := h.Client
	fail := func(what string) func(safejs.Value, []safejs.Value) any {
		return func(_ safejs.Value, args []safejs.Value) any {
			msg := what
			if len(args) > 0 {
				if m, err := args[0].Get("message"); err == nil && !m.IsUndefined() {
					if s, err := m.String(); err == nil && s != "" {
						msg += ": " + s
					}
				}
			}
			c.Fail(errors.New(msg))
			return nil
		}
	}
	handlers := []struct {
		event string
		fn    func(safejs.Value, []safejs.Value) any
	}{
		{"onmessage", func(_ safejs.Value, args []safejs.Value) any {
			data, err := args[0].Get("data")
			if err != nil {
				c.Fail(err)
				return nil
			}
			// The script says {failed} when app.wasm does not start
			// or its program ends.
			if failed, err := data.Get("failed"); err == nil && !failed.IsUndefined() {
				msg, _ := failed.String()
				c.Fail(fmt.Errorf("the worker stopped: %s", msg))
				return nil
			}
			b, err := jsbytes.ToGo(data)
			if err != nil {
				c.Fail(err)
				return nil
			}
			c.Deliver(b)
			return nil
		}},
		{"onerror", fail("an error in the worker")},
		{"onmessageerror", fail("a message from the worker could not be read")},
	}
	for _, hd := range handlers {
		f, err := safejs.FuncOf(hd.fn)
		if err != nil {
			h.Close()
			return nil, fmt.Errorf("faceworker: %w", err)
		}
		h.funcs = append(h.funcs, f)
		if err := w.Set(hd.event, f.Value()); err != nil {
			h.Close()
			return nil, fmt.Errorf("faceworker: %w", err)
		}
	}
	return h, nil
}

// Close ends the worker (its program, its model, its memory) and fails
// any request still waiting.
func (h *Worker) Close() {
	h.Client.Fail(errors.New("the worker was closed"))
	_, _ = h.w.Call("terminate") // a worker already gone needs nothing
	for _, f := range h.funcs {
		f.Release()
	}
	h.funcs = nil
}
