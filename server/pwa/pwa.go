// Package pwa serves the progressive web app: go-app's page shell,
// manifest and service worker (appworker.js, made to survive a flaky
// network and to cache the face model apart), and the files of the assets
// directory under /web/, text compressed for browsers that accept gzip.
package pwa

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
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
)

// Server serves the PWA: go-app's page shell, manifest and service
// worker, and the files of the assets directory under /web/.
type Server struct {
	dir      string
	wasmSize int64 // 0 when app.wasm is missing
	version  string
	model    *faceModel // nil when the model was not built
	logger   *slog.Logger
}

// faceModel is what the service worker is told of the face model: where it
// is, its SHA-256 (checked before the model is cached, and naming the
// cache, so a new model replaces the old) and its size (for progress).
type faceModel struct {
	URL    string `json:"url"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// modelURL is where the face model is served (wasm/main.go fetches it).
const modelURL = "/web/models/face.spm"

// New returns the PWA of the assets directory dir, built as the server's
// version (the service worker's cache is keyed by it and app.wasm's sum).
func New(dir, version string, logger *slog.Logger) (*Server, error) {
	w := &Server{dir: dir, logger: logger}
	sum, n, err := fileSHA256(filepath.Join(dir, "app.wasm"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Serve anyway: the health endpoint and sync work without the
		// PWA, and the log says how to fix it.
		logger.Error("the PWA is not built: run `make build` (or `make run`)", "missing", filepath.Join(dir, "app.wasm"))
		w.version = version
	case err != nil:
		return nil, err
	default:
		w.wasmSize = n
		// The service worker's cache is keyed by this version: it must
		// change exactly when the app does, not at every restart.
		w.version = version + "-" + sum[:12]
	}
	if sum, size, err := fileSHA256(filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(modelURL, "/web/")))); err == nil {
		w.model = &faceModel{URL: modelURL, SHA256: sum, Size: size}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, p := range route.All() {
		app.Route(p, func() app.Composer { return &shell{} })
	}
	return w, nil
}

// fileSHA256 returns the hex SHA-256 of the file and its size.
func fileSHA256(name string) (string, int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// shell is what the server renders into every page before the WebAssembly
// app takes over: a notice that it is loading, readable without scripts.
type shell struct{ app.Compo }

func (*shell) Render() app.UI {
	return app.Div().Class("shell").Text("スマートパスを読み込んでいます… / Loading Smart Pass…")
}

// Handler is the PWA, its text compressed for browsers that accept gzip.
// On a demo server (simulatedCard) every page also loads the navigator.usb
// shim, so the card flows run against the simulated reader and card
// without hardware.
func (w *Server) Handler(simulatedCard bool) http.Handler {
	// The app shell: what every device caches at install. The face model
	// is not in it: the worker caches it apart, and only on devices that
	// recognise faces (app/offline), so an HQ screen never downloads it.
	// The face worker's script is in it (1 KB): the worker runs the
	// app.wasm the shell holds, so an offline shelter still has it.
	cache := []string{"/web/icon.svg", "/web/icon-192.png", "/web/icon-512.png", "/web/faceworker.js"}
	for _, p := range route.All() {
		if p != "/" { // go-app caches / itself
			cache = append(cache, p)
		}
	}
	var scripts []string
	if simulatedCard {
		scripts = []string{"/web/usb-shim.js"}
	}
	return gzipText(&app.Handler{
		Name:        "Smart Pass",
		ShortName:   "スマートパス",
		Title:       "スマートパス Smart Pass",
		Description: "加賀市のスマートパス：顔とマイナンバーカードで使える市民パス",
		Lang:        "ja",
		Version:     w.version,
		// go-app declares the maskable icon 512×512 (its default is the
		// 192 px file): ours is 512 px, its figure inside the safe zone
		// a launcher's mask keeps (assets/icon-maskable.svg).
		Icon:                    app.Icon{Default: "/web/icon-192.png", Large: "/web/icon-512.png", Maskable: "/web/icon-maskable-512.png", SVG: "/web/icon.svg"},
		Styles:                  []string{"/web/app.css"},
		CacheableResources:      cache,
		ThemeColor:              "#0b5394",
		BackgroundColor:         "#ffffff",
		LoadingLabel:            "読み込み中 {progress}%",
		WasmContentLength:       strconv.FormatInt(w.wasmSize, 10),
		WasmContentLengthHeader: "X-Wasm-Content-Length",
		Resources:               w,
		Scripts:                 scripts,
		ServiceWorkerTemplate:   w.workerTemplate(),
	})
}

// appWorkerJS is our service worker (read its comment): go-app's, made to
// survive a flaky network and to cache the face model apart.
//
//go:embed appworker.js
var appWorkerJS string

// workerTemplate is appWorkerJS with the face model's place and checksum
// filled in; go-app fills in the version and the shell.
func (w *Server) workerTemplate() string {
	model, err := json.Marshal(w.model) // null without a model
	if err != nil {
		panic(fmt.Sprintf("web: encode the model's description: %v", err))
	}
	return strings.Replace(appWorkerJS, "{{.FaceModel}}", string(model), 1)
}

// Resolve implements app.ResourceResolver: resources stay at /web/...,
// served by ServeHTTP below.
func (w *Server) Resolve(location string) string {
	if location == "" {
		return "/"
	}
	return location
}

// contentTypes are the types of the files we serve, decided here rather
// than by the system's MIME table: Debian's calls .spm (our face model) an
// RPM source package.
var contentTypes = map[string]string{
	".wasm":        "application/wasm",
	".spm":         "application/octet-stream",
	".js":          "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".json":        "application/json",
	".webmanifest": "application/manifest+json",
	".html":        "text/html; charset=utf-8",
	".txt":         "text/plain; charset=utf-8",
}

// contentType is the Content-Type of the file name.
func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := contentTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// ServeHTTP serves /web/NAME from the assets directory, the precompressed
// NAME.gz where the browser accepts gzip and the build made one (app.wasm
// shrinks to a quarter, the face model by a quarter); text without one is
// compressed on the fly by gzipText.
func (w *Server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/web/")
	if name == "" || strings.HasPrefix(name, ".") || strings.Contains(name, "/.") {
		http.NotFound(rw, r)
		return
	}
	file := filepath.Join(w.dir, filepath.FromSlash(name))
	rw.Header().Set("Content-Type", contentType(name))
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

// Version is the app's version as the service worker knows it, and
// whether app.wasm is built.
func (w *Server) Version() (string, bool) { return w.version, w.wasmSize > 0 }

// LogErrors logs every response with an error status, so an unknown route
// or a missing file shows in the server log as well as in the browser.
func LogErrors(next http.Handler, logger *slog.Logger) http.Handler {
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
