// Package e2e holds the end-to-end tests: the real server binary on a real
// Badger directory, the real PWA (WebAssembly, service worker, IndexedDB)
// in headless Chromium, talking over real websockets on loopback.
//
// The tests build the server and the wasm themselves, so `go test ./...`
// on a fresh clone runs them; they need Debian's chromium installed.
package e2e
