//go:build js && wasm

// Package fetch makes HTTP requests with the browser's own fetch, for the
// few JSON calls the PWA makes outside sync (device registration). Go's
// net/http client would do the same through fetch, but linking it adds
// more than 5 MB to app.wasm, which every tablet downloads.
package fetch

import (
	"context"
	"fmt"

	"github.com/hack-pad/safejs"

	"smartpass.city/smartpass/wasm/jsbytes"
	"smartpass.city/smartpass/wasm/promise"
)

// Do sends a request with an optional JSON body and returns the status and
// the response body.
func Do(ctx context.Context, method, url string, body []byte) (int, []byte, error) {
	init := map[string]any{"method": method, "cache": "no-store"}
	if body != nil {
		init["body"] = string(body)
		init["headers"] = map[string]any{"Content-Type": "application/json"}
	}
	fn, err := safejs.Global().Get("fetch")
	if err != nil {
		return 0, nil, err
	}
	p, err := fn.Invoke(url, init)
	if err != nil {
		return 0, nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	resp, err := promise.Await(ctx, p)
	if err != nil {
		return 0, nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	st, _ := resp.Get("status")
	status, _ := st.Int()
	p, err = resp.Call("arrayBuffer")
	if err != nil {
		return status, nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	buf, err := promise.Await(ctx, p)
	if err != nil {
		return status, nil, fmt.Errorf("fetch %s: read body: %w", url, err)
	}
	out, err := jsbytes.ToGo(buf)
	return status, out, err
}
