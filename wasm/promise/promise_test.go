//go:build js && wasm

package promise

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hack-pad/safejs"
)

// script runs body as a JavaScript function and returns its value.
func script(t *testing.T, body string) safejs.Value {
	t.Helper()
	fn, err := safejs.Global().Get("Function")
	if err == nil {
		fn, err = fn.New(body)
	}
	var v safejs.Value
	if err == nil {
		v, err = fn.Invoke()
	}
	if err != nil {
		t.Fatalf("script %q: %v", body, err)
	}
	return v
}

func TestAwait(t *testing.T) {
	v, err := Await(context.Background(), script(t, `return Promise.resolve(7)`))
	if n, _ := v.Int(); err != nil || n != 7 {
		t.Fatalf("resolved: %v, %v", n, err)
	}
	_, err = Await(context.Background(), script(t, `return Promise.reject(new DOMException("no camera", "NotFoundError"))`))
	if err == nil || err.Error() != "NotFoundError: no camera" {
		t.Fatalf("rejected: %v", err)
	}
}

// TestAwaitGivenUp: a screen that stops waiting (its context ends, as when
// the person leaves the page) must not free the handlers the promise will
// still call: the browser would log "call to released function" for each.
func TestAwaitGivenUp(t *testing.T) {
	script(t, `globalThis.releasedCalls = 0;
		const log = console.error;
		console.error = (...a) => { if (String(a[0]).includes("released function")) globalThis.releasedCalls++; log(...a); };`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := Await(ctx, script(t, `return new Promise(r => setTimeout(() => r(1), 50))`))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("given up: %v", err)
	}
	time.Sleep(200 * time.Millisecond) // the promise settles meanwhile
	n, _ := script(t, `return globalThis.releasedCalls`).Int()
	if n != 0 {
		t.Fatalf("%d calls to released handlers after the wait was given up", n)
	}
}
