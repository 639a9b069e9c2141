//go:build js && wasm

package jsbytes

import (
	"bytes"
	"testing"

	"github.com/hack-pad/safejs"
)

func TestRoundTrip(t *testing.T) {
	want := []byte{0, 1, 2, 0xFE, 0xFF}
	arr, err := ToJS(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ToGo(arr)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("typed array: % X, %v", got, err)
	}
	buf, _ := arr.Get("buffer")
	if got, err := ToGo(buf); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("ArrayBuffer: % X, %v", got, err)
	}
	// A DataView over the middle of the buffer: only its bytes.
	ctor, _ := safejs.Global().Get("DataView")
	view, err := ctor.New(buf, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ToGo(view); err != nil || !bytes.Equal(got, want[1:4]) {
		t.Fatalf("DataView: % X, %v", got, err)
	}
}
