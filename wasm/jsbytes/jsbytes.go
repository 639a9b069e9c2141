//go:build js && wasm

// Package jsbytes copies bytes between Go and JavaScript: every binding
// that hands bytes to a browser API (WebSocket, WebCrypto, WebUSB, fetch)
// or takes them back goes through these two functions.
package jsbytes

import (
	"github.com/hack-pad/safejs"
)

// ToJS returns a new Uint8Array holding a copy of b.
func ToJS(b []byte) (safejs.Value, error) {
	ctor, err := safejs.Global().Get("Uint8Array")
	if err != nil {
		return ctor, err
	}
	arr, err := ctor.New(len(b))
	if err != nil {
		return arr, err
	}
	_, err = safejs.CopyBytesToJS(arr, b)
	return arr, err
}

// ToGo copies the bytes of an ArrayBuffer, or of a view of one (a typed
// array, a DataView: only the bytes the view covers), into Go.
func ToGo(v safejs.Value) ([]byte, error) {
	ctor, err := safejs.Global().Get("Uint8Array")
	if err != nil {
		return nil, err
	}
	var arr safejs.Value
	if buf, err := v.Get("buffer"); err == nil && !buf.IsUndefined() {
		off, _ := v.Get("byteOffset")
		n, _ := v.Get("byteLength")
		arr, err = ctor.New(buf, off, n)
		if err != nil {
			return nil, err
		}
	} else if arr, err = ctor.New(v); err != nil {
		return nil, err
	}
	n, err := arr.Length()
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	_, err = safejs.CopyBytesToGo(b, arr)
	return b, err
}
