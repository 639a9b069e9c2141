//go:build js && wasm

package j2kcodec_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hack-pad/safejs"

	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/face"
	"smartpass.city/smartpass/app/face/cardmatch"
	"smartpass.city/smartpass/app/face/embed"
	"smartpass.city/smartpass/app/face/facetest"
	"smartpass.city/smartpass/app/face/photo"
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

// TestDecisionTime measures the 1:1 check as a terminal makes it in the
// browser: the card photo (a shared face made card-like, encoded here
// with the package's encoder) decoded by the codec, through the Go face
// pipeline, and compared with a live image's template made before.
func TestDecisionTime(t *testing.T) {
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
	cardImg := cardmatch.CardLike(facetest.Identity(t, "amy", "amy1.png"))
	j2kPhoto := encode(t, filepath.Join(root, "bin", "npm-codec", "node_modules", "@cornerstonejs", "codec-openjpeg", "dist"), cardmatch.Width, cardmatch.Height, cardImg.Pix)
	p, err := face.New(facetest.Model(t), embed.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		live string
		want bool
	}{{"amy2.png", true}, {"amy3.png", true}} {
		live, err := p.Process(facetest.Identity(t, "amy", tc.live), face.Options{Crops: true})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		g, err := d.Decode(ctx, j2kPhoto, card.PhotoLimits)
		if err != nil {
			t.Fatal(err)
		}
		decoded := time.Since(start)
		res, err := p.Process(photo.RGBA(g), face.Options{Crops: true})
		if err != nil {
			t.Fatal(err)
		}
		out := cardmatch.Check(p.Model(), live.Embedding, res.Embedding)
		t.Logf("card photo against %s: decode %v, decision %v in all (score %.4f, accepted %v)", tc.live, decoded, time.Since(start), out.Score, out.Accepted)
		if out.Accepted != tc.want {
			t.Errorf("%s: %+v", tc.live, out)
		}
	}
}
