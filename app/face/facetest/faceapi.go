//go:build !js

package facetest

import (
	"encoding/binary"
	"fmt"
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

// faceAPIScript loads one of face-api's nets (TensorFlow.js, CPU backend,
// the package's own weights), makes the side x side x 3 input a tensor t
// and returns the numbers expr (with t in scope) gives, a tensor's or an
// array's.
const faceAPIScript = `(async () => {
	await faceapi.tf.setBackend('cpu');
	await faceapi.tf.ready();
	await faceapi.nets.%[1]s.loadFromUri('/face-api/model');
	const px = new Float32Array(await (await fetch('/input')).arrayBuffer());
	const t = faceapi.tf.tensor3d(px, [%[2]d, %[2]d, 3]);
	let out = await (%[3]s);
	if (out instanceof faceapi.tf.Tensor) { const d = await out.data(); out.dispose(); out = d; }
	t.dispose();
	return Array.from(out);
})()`

// RunFaceAPI runs face-api's net (a name in faceapi.nets) in headless
// Chromium on input, a square RGB image of side pixels, and returns what
// expr gives, an expression over the net's input tensor t such as
// "faceapi.nets.faceLandmark68Net.forward(t)". face-api comes from the
// npm package `make models` installs. It is how the Go ports prove they
// compute what the upstream runtime computes.
func RunFaceAPI(t testing.TB, net string, side int, expr string, input []float32) []float32 {
	t.Helper()
	script := fmt.Sprintf(faceAPIScript, net, side, expr)
	mux := http.NewServeMux()
	mux.Handle("/face-api/", http.StripPrefix("/face-api/", http.FileServer(http.Dir(FaceAPI(t)))))
	return runPage(t, mux, faceAPIPage, "face-api", script, input)
}

// runPage serves page, mux's routes and the input as float32 bytes at
// /input to headless Chromium, and returns the numbers script gives.
func runPage(t testing.TB, mux *http.ServeMux, page, what, script string, input []float32) []float32 {
	t.Helper()
	raw := make([]byte, 4*len(input))
	for i, v := range input {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	mux.HandleFunc("/input", func(w http.ResponseWriter, r *http.Request) { w.Write(raw) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(page)) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx, stop := browsertest.Start(t, "")
	defer stop()
	browsertest.Get(t, ctx, "open the "+what+" page", 30*time.Second, chromedp.Navigate(srv.URL))
	return browsertest.Get(t, ctx, "run "+what, 2*time.Minute, browsertest.Eval[[]float32](script))
}
