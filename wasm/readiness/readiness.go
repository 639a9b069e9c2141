//go:build js && wasm

// Package readiness asks the service worker (server/appworker.js) to make
// this device ready to work offline, and keeps what the worker answers it
// holds (app/offline), for the status bar. The page asks again with
// backoff until the worker says everything is cached, and at once when
// the network comes back or the device's role changes: a tablet set up on
// a bad link heals by itself.
package readiness

import (
	"context"
	"sync"
	"time"

	"github.com/hack-pad/safejs"

	"smartpass.city/smartpass/app/offline"
	"smartpass.city/smartpass/wasm/promise"
)

// Backoff between asks while the device is not ready.
const (
	firstWait = 2 * time.Second
	maxWait   = time.Minute
	// readyWait is how often a ready device checks again: the browser
	// may evict a cache.
	readyWait = 5 * time.Minute
)

// Watcher is the page's side of the worker's readiness (ui.Offline).
type Watcher struct {
	sw   safejs.Value
	kick chan struct{}

	mu      sync.Mutex
	st      offline.Status
	model   bool
	watches map[int]func()
	next    int
}

// Start asks the worker to prepare the device, with the face model when
// model is true, and keeps asking until ctx ends.
func Start(ctx context.Context, model bool) *Watcher {
	w := &Watcher{kick: make(chan struct{}, 1), model: model, watches: map[int]func(){}}
	nav, _ := safejs.Global().Get("navigator")
	sw, err := nav.Get("serviceWorker")
	if err != nil || sw.IsUndefined() {
		w.st = offline.Status{Known: true, Unsupported: true}
		return w
	}
	w.sw = sw
	if f, err := safejs.FuncOf(w.onMessage); err == nil {
		sw.Call("addEventListener", "message", f.Value())
	}
	if f, err := safejs.FuncOf(func(safejs.Value, []safejs.Value) any { w.Kick(); return nil }); err == nil {
		sw.Call("addEventListener", "controllerchange", f.Value()) // a new version
		safejs.Global().Call("addEventListener", "online", f.Value())
	}
	sw.Call("startMessages")
	go w.loop(ctx)
	return w
}

// SetModel says whether this device needs the face model (its role
// changed) and asks the worker at once.
func (w *Watcher) SetModel(model bool) {
	w.mu.Lock()
	w.model = model
	w.mu.Unlock()
	w.Kick()
}

// Kick asks the worker now instead of at the end of the backoff.
func (w *Watcher) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Status implements ui.Offline.
func (w *Watcher) Status() offline.Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.st
}

// Watch implements ui.Offline: fn is called (on no particular goroutine)
// whenever the status changes.
func (w *Watcher) Watch(fn func()) (stop func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	id := w.next
	w.next++
	w.watches[id] = fn
	return func() {
		w.mu.Lock()
		delete(w.watches, id)
		w.mu.Unlock()
	}
}

func (w *Watcher) loop(ctx context.Context) {
	wait := firstWait
	for {
		w.ask(ctx)
		next := wait
		if w.Status().Ready {
			next, wait = readyWait, firstWait
		} else {
			wait = min(2*wait, maxWait)
		}
		select {
		case <-w.kick:
			wait = firstWait
		case <-time.After(next):
		case <-ctx.Done():
			return
		}
	}
}

// ask posts {smartpass: {type: "prepare", model}} to the active worker,
// once there is one (on a first visit, once it has installed).
func (w *Watcher) ask(ctx context.Context) {
	ready, err := w.sw.Get("ready")
	if err != nil {
		return
	}
	reg, err := promise.Await(ctx, ready)
	if err != nil {
		return
	}
	active, err := reg.Get("active")
	if err != nil || active.IsNull() || active.IsUndefined() {
		return
	}
	w.mu.Lock()
	model := w.model
	w.mu.Unlock()
	msg, err := safejs.ValueOf(map[string]any{"smartpass": map[string]any{"type": "prepare", "model": model}})
	if err != nil {
		return
	}
	active.Call("postMessage", msg)
}

// onMessage keeps a status the worker sent.
func (w *Watcher) onMessage(_ safejs.Value, args []safejs.Value) any {
	if len(args) == 0 {
		return nil
	}
	data, err := args[0].Get("data")
	if err != nil || data.IsNull() || data.IsUndefined() || data.Type() != safejs.TypeObject {
		return nil
	}
	sp, err := data.Get("smartpass")
	if err != nil || sp.IsUndefined() || sp.IsNull() {
		return nil // go-app's notifications use the same channel
	}
	j, _ := safejs.Global().Get("JSON")
	text, err := j.Call("stringify", sp)
	if err != nil {
		return nil
	}
	s, err := text.String()
	if err != nil {
		return nil
	}
	st, err := offline.Parse([]byte(s))
	if err != nil {
		println("readiness:", err.Error())
		return nil
	}
	w.mu.Lock()
	w.st = st
	fns := make([]func(), 0, len(w.watches))
	for _, fn := range w.watches {
		fns = append(fns, fn)
	}
	w.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
	return nil
}
