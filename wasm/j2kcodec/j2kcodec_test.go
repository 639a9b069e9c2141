//go:build js && wasm

package j2kcodec_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hack-pad/safejs"

	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/face/facetest"
	"smartpass.city/smartpass/app/j2k"
	"smartpass.city/smartpass/wasm/j2kcodec"
	"smartpass.city/smartpass/wasm/jsbytes"
	"smartpass.city/smartpass/wasm/promise"
)

// factory evaluates an Emscripten build's script (read from the file
// system, as wasmbrowsertest cannot serve /web/codec/) and returns its
// module factory.
func factory(t *testing.T, path, name string) safejs.Value {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `make codec`)", err)
	}
	fn, err := safejs.Global().Get("Function")
	if err != nil {
		t.Fatal(err)
	}
	f, err := fn.New(string(src) + "\nreturn " + name + ";")
	if err != nil {
		t.Fatal(err)
	}
	v, err := f.Invoke()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// encode makes a lossless JPEG 2000 codestream of a w×h grey image with
// the full build's encoder (the package's other build, not served), so
// the test has a photo without any tool outside the browser.
func encode(t *testing.T, dist string, w, h int, px []byte) []byte {
	t.Helper()
	ctx := context.Background()
	wasm, err := os.ReadFile(filepath.Join(dist, "openjpegwasm.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	bin, _ := jsbytes.ToJS(wasm)
	opts, _ := safejs.Global().Get("Object")
	o, _ := opts.New()
	_ = o.Set("wasmBinary", bin)
	p, err := factory(t, filepath.Join(dist, "openjpegwasm.js"), "OpenJPEGWASM").Invoke(o)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := promise.Await(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	ctor, _ := mod.Get("J2KEncoder")
	enc, err := ctor.New()
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Call("delete")
	fi, _ := opts.New()
	for k, v := range map[string]any{"width": w, "height": h, "bitsPerSample": 8, "componentCount": 1, "isSigned": false} {
		_ = fi.Set(k, v)
	}
	dst, err := enc.Call("getDecodedBuffer", fi)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := safejs.CopyBytesToJS(dst, px); err != nil {
		t.Fatal(err)
	}
	if _, err := enc.Call("encode"); err != nil {
		t.Fatal(err)
	}
	out, err := enc.Call("getEncodedBuffer")
	if err != nil {
		t.Fatal(err)
	}
	b, err := jsbytes.ToGo(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecode: the binding decodes a photo to exactly its pixels (lossless
// here), refuses one the header check refuses without calling the codec,
// and one whose coded data is cut away.
func TestDecode(t *testing.T) {
	ctx := context.Background()
	root := facetest.Root(t)
	codec := filepath.Join(root, "assets", "codec")
	wasm, err := os.ReadFile(filepath.Join(codec, "openjpegwasm_decode.wasm"))
	if err != nil {
		t.Fatalf("%v (run `make codec`)", err)
	}
	d, err := j2kcodec.New(ctx, factory(t, filepath.Join(codec, "openjpegwasm_decode.js"), "OpenJPEGWASM"), wasm)
	if err != nil {
		t.Fatal(err)
	}
	const w, h = 88, 110
	px := make([]byte, w*h)
	for i := range px {
		px[i] = byte(i%w*3 + i/w)
	}
	photo := encode(t, filepath.Join(root, "bin", "npm-codec", "node_modules", "@cornerstonejs", "codec-openjpeg", "dist"), w, h, px)
	g, err := d.Decode(ctx, photo, card.PhotoLimits)
	if err != nil {
		t.Fatal(err)
	}
	if g.Rect.Dx() != w || g.Rect.Dy() != h || string(g.Pix) != string(px) {
		t.Fatalf("decoded %v, pixels equal %v", g.Rect, string(g.Pix) == string(px))
	}
	if _, err := d.Decode(ctx, photo, j2k.Limits{MaxWidth: 64, MaxHeight: 64, MaxComponents: 1}); !errors.Is(err, j2k.ErrTooLarge) {
		t.Fatalf("a photo over the limits: %v", err)
	}
	if _, err := d.Decode(ctx, []byte("GIF89a"), card.PhotoLimits); !errors.Is(err, j2k.ErrNotJPEG2000) {
		t.Fatalf("not JPEG 2000: %v", err)
	}
	if g, err := d.Decode(ctx, photo[:len(photo)/3], card.PhotoLimits); err == nil && string(g.Pix) == string(px) {
		t.Fatal("a photo cut to a third decoded to the whole image")
	}
}
