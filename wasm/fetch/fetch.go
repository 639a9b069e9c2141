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

// Download GETs url and returns its body, calling progress after each
// chunk with the bytes read so far and the total (0 when the server did
// not say), so a screen can show a large download (the face model)
// advancing. The browser's HTTP cache may answer it.
func Download(ctx context.Context, url string, progress func(done, total int64)) ([]byte, error) {
	fn, err := safejs.Global().Get("fetch")
	if err != nil {
		return nil, err
	}
	p, err := fn.Invoke(url)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	resp, err := promise.Await(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	st, _ := resp.Get("status")
	if status, _ := st.Int(); status != 200 {
		return nil, fmt.Errorf("fetch %s: HTTP %d", url, status)
	}
	var total int64
	if h, err := resp.Get("headers"); err == nil {
		if v, err := h.Call("get", "Content-Length"); err == nil && !v.IsNull() {
			s, _ := v.String()
			fmt.Sscan(s, &total)
		}
	}
	body, err := resp.Get("body")
	if err != nil {
		return nil, err
	}
	reader, err := body.Call("getReader")
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	out := make([]byte, 0, total)
	for {
		p, err := reader.Call("read")
		if err != nil {
			return nil, err
		}
		chunk, err := promise.Await(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("fetch %s: read body: %w", url, err)
		}
		if done, _ := chunk.Get("done"); isTrue(done) {
			return out, nil
		}
		v, err := chunk.Get("value")
		if err != nil {
			return nil, err
		}
		b, err := jsbytes.ToGo(v)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
		if progress != nil {
			progress(int64(len(out)), total)
		}
	}
}

func isTrue(v safejs.Value) bool {
	b, err := v.Truthy()
	return err == nil && b
}
