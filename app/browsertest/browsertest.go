//go:build !js

// Package browsertest starts headless Chromium for tests that need the
// real browser (IndexedDB, WebUSB, WebAssembly, camera, a reference
// implementation in JavaScript) and evaluates JavaScript in it.
package browsertest

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Find returns the path of Debian's Chromium (or another Chromium on
// PATH).
func Find() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Chromium found: install Debian's chromium (apt-get install -y chromium); .ci/run does")
}

// Start starts headless Chromium on the profile directory (a new one
// when profile is empty), so a test can close the browser and open it
// again on the same storage. extra adds command-line flags. The page's
// console goes to the test's log. Calling close ends the browser; the
// test's cleanup does too.
func Start(t testing.TB, profile string, extra ...chromedp.ExecAllocatorOption) (ctx context.Context, close func()) {
	t.Helper()
	path, err := Find()
	if err != nil {
		t.Fatal(err)
	}
	if profile == "" {
		profile = t.TempDir()
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1024, 1100),
	)
	opts = append(opts, extra...)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc, chromedp.WithLogf(t.Logf))
	close = func() { cancel(); cancelAlloc() }
	t.Cleanup(close)
	chromedp.Listen(ctx, func(ev any) {
		if c, ok := ev.(*cdpruntime.EventConsoleAPICalled); ok {
			var parts []string
			for _, a := range c.Args {
				parts = append(parts, string(a.Value))
			}
			t.Logf("console.%s: %s", c.Type, strings.Join(parts, " "))
		}
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx, close
}

// Eval evaluates JavaScript, awaiting a returned promise.
func Eval[T any](expr string) chromedp.Action[T] {
	return chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise)
}

// Get runs one action that returns a value, failing the test with what
// was being done.
func Get[T any](t testing.TB, ctx context.Context, what string, d time.Duration, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}
