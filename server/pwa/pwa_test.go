package pwa

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestContentType(t *testing.T) {
	tests := []struct{ name, want string }{
		{"models/face.spm", "application/octet-stream"}, // not application/x-source-rpm
		{"app.wasm", "application/wasm"},
		{"usb-shim.js", "text/javascript; charset=utf-8"},
		{"app.css", "text/css; charset=utf-8"},
		{"icon.svg", "image/svg+xml"},
		{"icon-512.png", "image/png"},
		{"ICON.PNG", "image/png"},
		{"noext", "application/octet-stream"},
	}
	for _, tc := range tests {
		if got := contentType(tc.name); got != tc.want {
			t.Errorf("contentType(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"gzip, deflate, br, zstd", true},
		{"br;q=1.0, gzip;q=0.8", true},
		{"GZIP", true},
		{"gzip;q=0", false},
		{"gzip; q=0.0", false},
		{"deflate, br", false},
		{"", false},
		{"x-gzip", false},
	}
	for _, tc := range tests {
		if got := acceptsGzip(tc.header); got != tc.want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", tc.header, got, tc.want)
		}
	}
}

// testWeb builds an assets directory with an app.wasm, a face model (its
// .gz made fresh or stale) and the repository's icons and text assets.
func testWeb(t *testing.T, staleModelGz bool) (*Server, string, []byte) {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"icon.svg", "icon-192.png", "icon-512.png", "icon-maskable-512.png", "app.css", "usb-shim.js"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "assets", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "app.wasm"), []byte("\x00asm not really"), 0o644); err != nil {
		t.Fatal(err)
	}
	model := bytes.Repeat([]byte("a face model, compressible "), 4096)
	os.MkdirAll(filepath.Join(dir, "models"), 0o755)
	spm := filepath.Join(dir, "models", "face.spm")
	if err := os.WriteFile(spm, model, 0o644); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(model)
	zw.Close()
	if err := os.WriteFile(spm+".gz", gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if staleModelGz {
		old := time.Now().Add(-time.Hour)
		os.Chtimes(spm+".gz", old, old)
	}
	w, err := New(dir, "dev", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return w, dir, model
}

func get(t *testing.T, h http.Handler, path, acceptEncoding string) *http.Response {
	t.Helper()
	r := httptest.NewRequest("GET", path, nil)
	if acceptEncoding != "" {
		r.Header.Set("Accept-Encoding", acceptEncoding)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec.Result()
}

// body reads a response, ungzipping it when it says it is compressed.
func body(t *testing.T, res *http.Response) []byte {
	t.Helper()
	var r io.Reader = res.Body
	if res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(res.Body)
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Every text asset, ours or go-app's, is compressed for a browser that
// accepts gzip and not for one that does not; the model comes as its
// precompressed .gz with its own type, unless the .gz is older than the
// model; images and app.wasm without a .gz are not compressed on the fly.
func TestWebCompression(t *testing.T) {
	w, _, model := testWeb(t, false)
	h := w.Handler(true)
	tests := []struct {
		path, ctype string
		gzip        bool
	}{
		{"/app.js", "javascript", true},
		{"/wasm_exec.js", "javascript", true},
		{"/app.css", "text/css", true},
		{"/app-worker.js", "javascript", true},
		{"/manifest.webmanifest", "application/manifest+json", true},
		{"/", "text/html", true},
		{"/shelter?x=1", "text/html", true},
		{"/web/app.css", "text/css", true},
		{"/web/usb-shim.js", "text/javascript", true},
		{"/web/icon.svg", "image/svg+xml", true},
		{"/web/models/face.spm", "application/octet-stream", true},
		{"/web/icon-512.png", "image/png", false},
		{"/web/app.wasm", "application/wasm", false},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			plain := get(t, h, tc.path, "")
			if plain.StatusCode != 200 || plain.Header.Get("Content-Encoding") != "" {
				t.Fatalf("without gzip: status %d, encoding %q", plain.StatusCode, plain.Header.Get("Content-Encoding"))
			}
			want := body(t, plain)
			res := get(t, h, tc.path, "gzip, deflate, br")
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			if ct := res.Header.Get("Content-Type"); !strings.Contains(ct, tc.ctype) {
				t.Errorf("Content-Type %q, want %q", ct, tc.ctype)
			}
			if got := res.Header.Get("Content-Encoding") == "gzip"; got != tc.gzip {
				t.Errorf("gzip %v, want %v", got, tc.gzip)
			}
			if !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") && tc.gzip {
				t.Errorf("no Vary: Accept-Encoding")
			}
			got := body(t, res)
			if strings.Contains(res.Header.Get("Content-Type"), "text/html") {
				// Each rendering of a page differs a little: compare what
				// can be.
				if len(got) != len(want) || !bytes.Contains(got, []byte("</html>")) {
					t.Errorf("the page: %d bytes, want %d", len(got), len(want))
				}
			} else if !bytes.Equal(got, want) {
				t.Errorf("the body differs from the uncompressed one (%d vs %d bytes)", len(got), len(want))
			}
		})
	}
	if got := body(t, get(t, h, "/web/models/face.spm", "gzip")); !bytes.Equal(got, model) {
		t.Errorf("the model served is not the file")
	}
}

// A model whose .gz is older than the model (an earlier build's) is served
// from the model itself.
func TestWebStaleModelGz(t *testing.T) {
	w, _, model := testWeb(t, true)
	res := get(t, w.Handler(false), "/web/models/face.spm", "gzip")
	if res.Header.Get("Content-Encoding") != "" {
		t.Fatalf("a stale .gz was served")
	}
	if got := body(t, res); !bytes.Equal(got, model) {
		t.Errorf("the model served is not the file")
	}
}

// The worker is told the model's place, size and SHA-256, and does not
// cache the model with the app shell.
func TestWebWorkerModel(t *testing.T) {
	w, _, model := testWeb(t, false)
	js := string(body(t, get(t, w.Handler(false), "/app-worker.js", "")))
	sum := sha256.Sum256(model)
	want, _ := json.Marshal(faceModel{URL: modelURL, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(model))})
	if !strings.Contains(js, "const faceModel = "+string(want)+";") {
		t.Errorf("the worker does not carry the model %s", want)
	}
	if strings.Contains(js, "{{") {
		t.Errorf("a placeholder is left in the worker")
	}
	i := strings.Index(js, "const resourcesToCache = ")
	line := js[i : i+strings.Index(js[i:], "\n")]
	if strings.Contains(line, "face.spm") || !strings.Contains(line, `"/web/app.wasm"`) || !strings.Contains(line, `"/shelter"`) {
		t.Errorf("the shell: %s", line)
	}
}

// Every PNG icon the manifest declares is the size it declares.
func TestManifestIconSizes(t *testing.T) {
	w, dir, _ := testWeb(t, false)
	var m struct {
		Icons []struct{ Src, Type, Sizes, Purpose string }
	}
	if err := json.Unmarshal(body(t, get(t, w.Handler(false), "/manifest.webmanifest", "")), &m); err != nil {
		t.Fatal(err)
	}
	pngs := 0
	for _, ic := range m.Icons {
		if ic.Type != "image/png" {
			continue
		}
		pngs++
		f, err := os.Open(filepath.Join(dir, strings.TrimPrefix(ic.Src, "/web/")))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", ic.Src, err)
		}
		b := img.Bounds()
		if got := strconv.Itoa(b.Dx()) + "x" + strconv.Itoa(b.Dy()); got != ic.Sizes {
			t.Errorf("%s (%s) is %s, declared %s", ic.Src, ic.Purpose, got, ic.Sizes)
		}
		if ic.Purpose == "maskable" {
			maskableSafe(t, ic.Src, img)
		}
	}
	if pngs < 3 {
		t.Errorf("%d PNG icons in the manifest, want the maskable, large and default", pngs)
	}
}

// maskableSafe checks that every pixel of a maskable icon's figure (any
// pixel unlike the corner's background) lies within the safe zone, the
// centred circle of 40% of the width that every launcher's mask keeps.
func maskableSafe(t *testing.T, name string, img image.Image) {
	t.Helper()
	b := img.Bounds()
	bg := img.At(b.Min.X, b.Min.Y)
	cx, cy, r := float64(b.Min.X+b.Max.X)/2, float64(b.Min.Y+b.Max.Y)/2, 0.4*float64(b.Dx())
	outside := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if img.At(x, y) == bg {
				continue
			}
			if dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy; dx*dx+dy*dy > r*r {
				outside++
			}
		}
	}
	if outside > 0 {
		t.Errorf("%s: %d pixels of the figure outside the maskable safe zone", name, outside)
	}
}

// A text file's precompressed copy older than the file (left by an earlier
// build) is not served: the browser would get the old app. The file itself
// is, compressed on the fly.
func TestStaleTextGzNotServed(t *testing.T) {
	assets := t.TempDir()
	os.WriteFile(filepath.Join(assets, "app.css"), []byte("new"), 0o644)
	os.WriteFile(filepath.Join(assets, "app.css.gz"), []byte("old"), 0o644)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(assets, "app.css.gz"), old, old)
	w, err := New(assets, "test", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(body(t, get(t, w.Handler(false), "/web/app.css", "gzip"))); got != "new" {
		t.Fatalf("served %q, want the current file", got)
	}
}
