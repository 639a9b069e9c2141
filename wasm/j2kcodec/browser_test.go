//go:build !js

package j2kcodec_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"smartpass.city/smartpass/app/browsertest"
	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/face/cardmatch"
	"smartpass.city/smartpass/app/face/facetest"
	"smartpass.city/smartpass/app/j2k"
	"smartpass.city/smartpass/app/j2k/opjtool"
	"smartpass.city/smartpass/server/pwa"
)

// decodeScript decodes /photo with the codec as package j2kcodec drives
// it (a J2KDecoder per photo, its buffers zeroed, then deleted) runs
// times, and returns the pixels of the last run and the times: the first
// includes instantiating the module (fetching and compiling the
// WebAssembly), the others are the decode alone.
const decodeScript = `(async () => {
	const t0 = performance.now();
	const m = await OpenJPEGWASM({locateFile: p => '/web/codec/' + p});
	const instantiate = performance.now() - t0;
	const bytes = new Uint8Array(await (await fetch('/photo')).arrayBuffer());
	const times = [];
	let px, fi;
	for (let i = 0; i < %d; i++) {
		const t = performance.now();
		const d = new m.J2KDecoder();
		const enc = d.getEncodedBuffer(bytes.length);
		enc.set(bytes);
		d.decode();
		fi = d.getFrameInfo();
		const out = d.getDecodedBuffer();
		px = out.slice();
		enc.fill(0); out.fill(0);
		d.delete();
		times.push(performance.now() - t);
	}
	let s = '';
	for (const b of px) s += String.fromCharCode(b);
	return {width: fi.width, height: fi.height, bits: fi.bitsPerSample, components: fi.componentCount,
		pixels: btoa(s), instantiate, times};
})()`

type decoded struct {
	Width, Height, Bits, Components int
	Pixels                          string
	Instantiate                     float64
	Times                           []float64
}

// TestCodecInChromium: the OpenJPEG WebAssembly build that `make codec`
// puts in assets/codec, served by our server under /web/codec/, decodes
// a card photo (a shared face made card-like and encoded as the card
// holds it) in headless Chromium to the same pixels as Debian's
// opj_decompress, and reports the time it takes.
func TestCodecInChromium(t *testing.T) {
	root := facetest.Root(t)
	assets := filepath.Join(root, "assets")
	if _, err := os.Stat(filepath.Join(assets, "codec", "openjpegwasm_decode.wasm")); err != nil {
		t.Fatalf("%v (run `make codec`)", err)
	}
	ctx := context.Background()
	photo, err := opjtool.Encode(ctx, cardmatch.CardLike(facetest.Identity(t, "amy", "amy1.png")), cardmatch.PhotoBytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j2k.ParseHeader(photo, card.PhotoLimits); err != nil {
		t.Fatal(err)
	}
	want, err := opjtool.Decode(ctx, photo)
	if err != nil {
		t.Fatal(err)
	}
	web, err := pwa.New(assets, "test", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/web/", web)
	mux.HandleFunc("/photo", func(w http.ResponseWriter, r *http.Request) { w.Write(photo) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><script src="/web/codec/openjpegwasm_decode.js"></script>`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	bctx, stop := browsertest.Start(t, "")
	defer stop()
	browsertest.Get(t, bctx, "open the page", 30*time.Second, chromedp.Navigate(srv.URL))
	const runs = 20
	got := browsertest.Get(t, bctx, "decode in Chromium", 2*time.Minute, browsertest.Eval[decoded](fmt.Sprintf(decodeScript, runs)))
	if got.Width != cardmatch.Width || got.Height != cardmatch.Height || got.Bits != 8 || got.Components != 1 {
		t.Fatalf("the codec gave %d×%d, %d bits, %d components", got.Width, got.Height, got.Bits, got.Components)
	}
	px, err := base64.StdEncoding.DecodeString(got.Pixels)
	if err != nil || len(px) != len(want.Pix) {
		t.Fatalf("%d pixels (%v), want %d", len(px), err, len(want.Pix))
	}
	differ := 0
	for i := range px {
		if px[i] != want.Pix[i] {
			differ++
		}
	}
	if differ > 0 {
		t.Errorf("%d of %d pixels differ from opj_decompress's", differ, len(px))
	}
	var sum float64
	for _, d := range got.Times[1:] {
		sum += d
	}
	t.Logf("card photo %d bytes, %d×%d: module instantiated in %.1f ms; first decode %.2f ms, then %.2f ms on average over %d; pixels equal to opj_decompress's: %v",
		len(photo), got.Width, got.Height, got.Instantiate, got.Times[0], sum/float64(len(got.Times)-1), len(got.Times)-1, differ == 0)
}
