package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/route"
	"smartpass.city/smartpass/server/hub"
	"smartpass.city/smartpass/server/oplog"
)

// web serves the PWA: go-app's page shell, manifest and service worker, and
// the files of the assets directory under /web/.
type web struct {
	dir      string
	wasmSize int64 // 0 when app.wasm is missing
	version  string
	logger   *slog.Logger
}

func newWeb(dir string, logger *slog.Logger) (*web, error) {
	w := &web{dir: dir, logger: logger}
	f, err := os.Open(filepath.Join(dir, "app.wasm"))
	if err != nil {
		// Serve anyway: the health endpoint and sync work without the
		// PWA, and the log says how to fix it.
		logger.Error("the PWA is not built: run `make build` (or `make run`)", "missing", filepath.Join(dir, "app.wasm"))
		w.version = version
	} else {
		defer f.Close()
		h := sha256.New()
		n, err := io.Copy(h, f)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f.Name(), err)
		}
		w.wasmSize = n
		// The service worker's cache is keyed by this version: it must
		// change exactly when the app does, not at every restart.
		w.version = version + "-" + hex.EncodeToString(h.Sum(nil))[:12]
	}
	for _, p := range route.All() {
		app.Route(p, func() app.Composer { return &shell{} })
	}
	return w, nil
}

// shell is what the server renders into every page before the WebAssembly
// app takes over: a notice that it is loading, readable without scripts.
type shell struct{ app.Compo }

func (*shell) Render() app.UI {
	return app.Div().Class("shell").Text("スマートパスを読み込んでいます… / Loading Smart Pass…")
}

// handler is the PWA. On a demo server (simulatedCard) every page also
// loads the navigator.usb shim, so the card flows run against the
// simulated reader and card without hardware.
func (w *web) handler(simulatedCard bool) http.Handler {
	cache := []string{"/web/icon.svg", "/web/icon-192.png", "/web/icon-512.png"}
	// The face model goes into the offline cache too, so a terminal
	// recognises faces after a restart without network; only when it was
	// built, since one missing file fails the service worker's install.
	if _, err := os.Stat(filepath.Join(w.dir, "models", "face.spm")); err == nil {
		cache = append(cache, "/web/models/face.spm")
	}
	for _, p := range route.All() {
		if p != "/" { // go-app caches / itself
			cache = append(cache, p)
		}
	}
	var scripts []string
	if simulatedCard {
		scripts = []string{"/web/usb-shim.js"}
	}
	return &app.Handler{
		Name:                    "Smart Pass",
		ShortName:               "スマートパス",
		Title:                   "スマートパス Smart Pass",
		Description:             "加賀市のスマートパス：顔とマイナンバーカードで使える市民パス",
		Lang:                    "ja",
		Version:                 w.version,
		Icon:                    app.Icon{Default: "/web/icon-192.png", Large: "/web/icon-512.png", SVG: "/web/icon.svg"},
		Styles:                  []string{"/web/app.css"},
		CacheableResources:      cache,
		ThemeColor:              "#0b5394",
		BackgroundColor:         "#ffffff",
		LoadingLabel:            "読み込み中 {progress}%",
		WasmContentLength:       strconv.FormatInt(w.wasmSize, 10),
		WasmContentLengthHeader: "X-Wasm-Content-Length",
		Resources:               w,
		Scripts:                 scripts,
		ServiceWorkerTemplate:   appWorker,
	}
}

// appWorker is go-app's service worker, cache first, except that a page
// is found in the cache whatever its query: a terminal cut off from the
// network that reloads /card?then=/identify (or opens a set-up link with
// ?code=) gets the app, not the browser's "no connection" page. Every
// page is the same shell; the query is read by the app.
var appWorker = func() string {
	const exact = "const cachedResponse = await caches.match(request);"
	if !strings.Contains(app.DefaultAppWorkerJS, exact) {
		panic("web: go-app's service worker changed: look again at appWorker")
	}
	return strings.Replace(app.DefaultAppWorkerJS, exact,
		`const cachedResponse = await caches.match(request, {ignoreSearch: request.mode === "navigate"});`, 1)
}()

// Resolve implements app.ResourceResolver: resources stay at /web/...,
// served by ServeHTTP below.
func (w *web) Resolve(location string) string {
	if location == "" {
		return "/"
	}
	return location
}

// ServeHTTP serves /web/NAME from the assets directory, the precompressed
// NAME.gz where the browser accepts gzip (app.wasm shrinks to a quarter).
func (w *web) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/web/")
	if name == "" || strings.HasPrefix(name, ".") || strings.Contains(name, "/.") {
		http.NotFound(rw, r)
		return
	}
	file := filepath.Join(w.dir, filepath.FromSlash(name))
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	rw.Header().Set("Content-Type", ctype)
	rw.Header().Set("Vary", "Accept-Encoding")
	if name == "app.wasm" {
		rw.Header().Set("X-Wasm-Content-Length", strconv.FormatInt(w.wasmSize, 10))
	}
	f, err := os.Open(file)
	if err != nil {
		http.NotFound(rw, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		http.NotFound(rw, r)
		return
	}
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		// Only a compressed copy at least as new as the file: a stale one
		// left by an earlier build would serve the old app.
		if gz, err := os.Open(file + ".gz"); err == nil {
			defer gz.Close()
			if gst, err := gz.Stat(); err == nil && !gst.ModTime().Before(st.ModTime()) {
				rw.Header().Set("Content-Encoding", "gzip")
				http.ServeContent(rw, r, name, gst.ModTime(), gz)
				return
			}
		}
	}
	http.ServeContent(rw, r, name, st.ModTime(), f)
}

// health answers GET /healthz with the server's version and the store's
// state, for monitoring and for the tests.
func health(log *oplog.Log, h *hub.Hub, w *web) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		json.NewEncoder(rw).Encode(map[string]any{
			"version": version,
			"app":     map[string]any{"version": w.version, "built": w.wasmSize > 0},
			"store":   map[string]any{"state": "open", "epoch": log.Epoch(), "head": log.Head()},
			"sync":    map[string]any{"connections": h.Conns()},
		})
	}
}

// logErrors logs every response with an error status, so an unknown route
// or a missing file shows in the server log as well as in the browser.
func logErrors(next http.Handler, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		sr := &statusRecorder{ResponseWriter: rw, status: http.StatusOK}
		next.ServeHTTP(sr, r)
		if sr.status >= 400 {
			logger.Warn("http request failed", "method", r.Method, "path", r.URL.Path, "status", sr.status)
		}
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
