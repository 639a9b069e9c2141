//go:build js && wasm

package browser

import (
	"strings"
	"testing"

	"github.com/hack-pad/safejs"
)

// TestSave: the file is a blob: URL holding the bytes, and a second save
// releases the first URL.
func TestSave(t *testing.T) {
	var b Browser
	first, err := b.Save("roster.csv", "text/csv;charset=utf-8", []byte("a,b\r\n"), "")
	if err != nil || !strings.HasPrefix(first, "blob:") {
		t.Fatalf("Save = %q, %v", first, err)
	}
	second, err := b.Save("roster.csv", "text/csv;charset=utf-8", []byte("c\r\n"), first)
	if err != nil || second == first {
		t.Fatalf("second Save = %q, %v", second, err)
	}
	// A released URL fails to load; the new one holds the bytes.
	xhr := func(url string) int {
		ctor, _ := safejs.Global().Get("XMLHttpRequest")
		r, _ := ctor.New()
		r.Call("open", "GET", url, false)
		defer func() { recover() }()
		if _, err := r.Call("send"); err != nil {
			return -1
		}
		s, _ := r.Get("status")
		n, _ := s.Int()
		return n
	}
	if got := xhr(second); got != 200 {
		t.Errorf("the saved file: status %d", got)
	}
	if got := xhr(first); got == 200 {
		t.Error("the first URL was not released")
	}
	b.FullScreen(false) // not full screen: nothing happens, nothing fails
}
