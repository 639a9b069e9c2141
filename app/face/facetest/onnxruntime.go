//go:build !js

package facetest

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ONNXRuntimeDir is where `make models` installs the npm package
// onnxruntime-web (the runtime faceplugin-face-recognition-js runs its
// networks with), relative to the module root.
const ONNXRuntimeDir = "bin/npm/node_modules/onnxruntime-web"

// onnxPage loads onnxruntime-web's script build from the npm package.
const onnxPage = `<!doctype html><script src="/ort/ort.min.js"></script>`

// onnxScript runs the network on its WebAssembly back end, single
// threaded (the page is not cross-origin isolated), with the input as a
// float32 tensor of the given shape under the given name, and returns its
// first output.
const onnxScript = `(async () => {
	ort.env.wasm.wasmPaths = '/ort/';
	ort.env.wasm.numThreads = 1;
	const session = await ort.InferenceSession.create('/model.onnx', {executionProviders: ['wasm']});
	const px = new Float32Array(await (await fetch('/input')).arrayBuffer());
	const out = await session.run({%q: new ort.Tensor('float32', px, [%s])});
	return Array.from(out[session.outputNames[0]].data);
})()`

// RunONNX runs the ONNX network in file (a path) with onnxruntime-web in
// headless Chromium, on input of the given shape fed as the graph input
// named input, and returns its output. It is how a Go port of an ONNX
// network proves it computes what the upstream runtime computes.
func RunONNX(t testing.TB, file, input string, shape []int, values []float32) []float32 {
	t.Helper()
	dir := filepath.Join(Root(t), ONNXRuntimeDir, "dist")
	if _, err := os.Stat(filepath.Join(dir, "ort.min.js")); err != nil {
		t.Fatalf("facetest: %v (run `make models`, which runs npm ci)", err)
	}
	onnx, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("facetest: %v (run `make models`, which runs npm ci)", err)
	}
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	mux := http.NewServeMux()
	mux.Handle("/ort/", http.StripPrefix("/ort/", http.FileServer(http.Dir(dir))))
	mux.HandleFunc("/model.onnx", func(w http.ResponseWriter, r *http.Request) { w.Write(onnx) })
	script := fmt.Sprintf(onnxScript, input, strings.Join(dims, ", "))
	return runPage(t, mux, onnxPage, "onnxruntime-web", script, values)
}
