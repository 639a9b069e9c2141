//go:build js && wasm

// Package browser is what the screens ask of the browser beyond drawing
// (ui.Browser): saving a file the tablet made, the print dialog, and full
// screen for a locked kiosk, through safejs.
package browser

import (
	"fmt"

	"github.com/hack-pad/safejs"

	"smartpass.city/smartpass/wasm/jsbytes"
)

// Browser implements ui.Browser over the page's window.
type Browser struct{}

// Save implements ui.Browser: data becomes a Blob of type mime behind a
// blob: URL, which a link with the download attribute saves at once as
// name; old, the URL made before for the same file, is released.
func (Browser) Save(name, mime string, data []byte, old string) (string, error) {
	arr, err := jsbytes.ToJS(data)
	if err != nil {
		return "", fmt.Errorf("browser: save %s: %w", name, err)
	}
	blobType, err := safejs.Global().Get("Blob")
	if err != nil {
		return "", fmt.Errorf("browser: save %s: %w", name, err)
	}
	blob, err := blobType.New([]any{arr}, map[string]any{"type": mime})
	if err != nil {
		return "", fmt.Errorf("browser: save %s: %w", name, err)
	}
	urls, err := safejs.Global().Get("URL")
	if err != nil {
		return "", fmt.Errorf("browser: save %s: %w", name, err)
	}
	if old != "" {
		urls.Call("revokeObjectURL", old)
	}
	u, err := urls.Call("createObjectURL", blob)
	if err != nil {
		return "", fmt.Errorf("browser: save %s: %w", name, err)
	}
	url, err := u.String()
	if err != nil {
		return "", fmt.Errorf("browser: save %s: %w", name, err)
	}
	doc, err := safejs.Global().Get("document")
	if err != nil {
		return url, fmt.Errorf("browser: save %s: %w", name, err)
	}
	a, err := doc.Call("createElement", "a")
	if err != nil {
		return url, fmt.Errorf("browser: save %s: %w", name, err)
	}
	a.Set("href", url)
	a.Set("download", name)
	if _, err := a.Call("click"); err != nil {
		return url, fmt.Errorf("browser: save %s: %w", name, err)
	}
	return url, nil
}

// Print implements ui.Browser: the browser's print dialog.
func (Browser) Print() {
	safejs.Global().Call("print")
}

// FullScreen implements ui.Browser. Entering needs a tap of the person's
// (a browser that refuses leaves the page as it is); leaving does
// nothing when the page is not full screen.
func (Browser) FullScreen(on bool) {
	doc, err := safejs.Global().Get("document")
	if err != nil {
		return
	}
	if on {
		el, err := doc.Get("documentElement")
		if err != nil {
			return
		}
		if fn, err := el.Get("requestFullscreen"); err == nil && truthy(fn) {
			el.Call("requestFullscreen")
		}
		return
	}
	if cur, err := doc.Get("fullscreenElement"); err == nil && truthy(cur) {
		doc.Call("exitFullscreen")
	}
}

func truthy(v safejs.Value) bool {
	ok, err := v.Truthy()
	return err == nil && ok
}
