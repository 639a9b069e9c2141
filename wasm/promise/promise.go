//go:build js && wasm

// Package promise waits for JavaScript promises from Go. The Go side must
// wait on a goroutine of its own: blocking inside a JavaScript callback
// would stop the event loop that settles the promise.
package promise

import (
	"context"
	"errors"

	"github.com/hack-pad/safejs"
)

// Await waits for p and returns its value, or its rejection as an error
// naming the DOMException ("NotSupportedError: ...").
func Await(ctx context.Context, p safejs.Value) (safejs.Value, error) {
	type result struct {
		v   safejs.Value
		err error
	}
	done := make(chan result, 1)
	ok, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		v := safejs.Undefined()
		if len(args) > 0 {
			v = args[0]
		}
		done <- result{v: v}
		return nil
	})
	if err != nil {
		return safejs.Value{}, err
	}
	fail, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		msg := "rejected"
		if len(args) > 0 {
			name, _ := args[0].Get("name")
			m, _ := args[0].Get("message")
			n, _ := name.String()
			s, _ := m.String()
			msg = n + ": " + s
		}
		done <- result{err: errors.New(msg)}
		return nil
	})
	if err != nil {
		ok.Release()
		return safejs.Value{}, err
	}
	release := func() { ok.Release(); fail.Release() }
	if _, err := p.Call("then", ok.Value(), fail.Value()); err != nil {
		release()
		return safejs.Value{}, err
	}
	select {
	case r := <-done:
		release()
		return r.v, r.err
	case <-ctx.Done():
		// The promise still holds the handlers: freeing them now would
		// make its settling call a released function. They are freed
		// when it settles (never, for a promise that never does).
		go func() {
			<-done
			release()
		}()
		return safejs.Value{}, ctx.Err()
	}
}
