//go:build !js

package facetest

import (
	"encoding/binary"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"smartpass.city/smartpass/app/browsertest"
)

// faceAPIPage loads face-api (TensorFlow.js inside) from the npm package.
const faceAPIPage = `<!doctype html><script src="/face-api/dist/face-api.js"></script>`

// RunFaceAPI runs script in headless Chromium on a page that has loaded
// face-api from the npm package (served under /face-api/, its weights
// under /face-api/model) and serves input at /input as little-endian
// float32s; the script's value, a list of numbers, is returned. It is how
// the Go ports prove they compute what the upstream runtime computes.
func RunFaceAPI(t testing.TB, script string, input []float32) []float32 {
	t.Helper()
	raw := make([]byte, 4*len(input))
	for i, v := range input {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	mux := http.NewServeMux()
	mux.Handle("/face-api/", http.StripPrefix("/face-api/", http.FileServer(http.Dir(FaceAPI(t)))))
	mux.HandleFunc("/input", func(w http.ResponseWriter, r *http.Request) { w.Write(raw) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(faceAPIPage)) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx, stop := browsertest.Start(t, "")
	defer stop()
	browsertest.Get(t, ctx, "open the face-api page", 30*time.Second, chromedp.Navigate(srv.URL))
	return browsertest.Get(t, ctx, "run face-api", 2*time.Minute, browsertest.Eval[[]float32](script))
}
