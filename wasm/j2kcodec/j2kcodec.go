//go:build js && wasm

// Package j2kcodec decodes the card's JPEG 2000 face photo in the browser
// with OpenJPEG compiled to WebAssembly (the npm package
// @cornerstonejs/codec-openjpeg, pinned in npm/package-lock.json, its
// decode-only build served as /web/codec/ by `make codec`) into grey
// pixels for the Go face pipeline. OpenJPEG is the reference decoder; no
// Go module decodes JPEG 2000. The photo's header is read and bounded in
// Go (package j2k) before the codec sees a byte, and the codec's buffers
// are zeroed before they are freed: the photo is not kept anywhere.
package j2kcodec

import (
	"context"
	"errors"
	"fmt"
	"image"

	"github.com/hack-pad/safejs"

	"smartpass.city/smartpass/app/j2k"
	"smartpass.city/smartpass/wasm/jsbytes"
	"smartpass.city/smartpass/wasm/promise"
)

// Where the server serves the codec (assets/codec), and the global its
// script defines: a factory returning a promise of the module.
const (
	Dir       = "/web/codec/"
	Script    = Dir + "openjpegwasm_decode.js"
	factoryJS = "OpenJPEGWASM"
)

// ErrDecode is wrapped when the codec refuses the photo or gives
// something other than the header promised.
var ErrDecode = errors.New("j2kcodec: the photo could not be decoded")

// Decoder is an instantiated codec module.
type Decoder struct{ mod safejs.Value }

// Load adds the codec's script to the page (once per page) and
// instantiates its module, the WebAssembly fetched from Dir.
func Load(ctx context.Context) (*Decoder, error) {
	factory, err := safejs.Global().Get(factoryJS)
	if err != nil {
		return nil, err
	}
	if factory.IsUndefined() {
		if err := addScript(ctx, Script); err != nil {
			return nil, err
		}
		if factory, err = safejs.Global().Get(factoryJS); err != nil || factory.IsUndefined() {
			return nil, fmt.Errorf("j2kcodec: %s did not define %s: %v", Script, factoryJS, err)
		}
	}
	locate, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		name := ""
		if len(args) > 0 {
			name, _ = args[0].String()
		}
		return Dir + name
	})
	if err != nil {
		return nil, err
	}
	defer locate.Release()
	opts, err := object(map[string]any{"locateFile": locate.Value()})
	if err != nil {
		return nil, err
	}
	return instantiate(ctx, factory, opts)
}

// New instantiates the module from a factory already evaluated and the
// WebAssembly's bytes (tests, which cannot serve /web/codec/).
func New(ctx context.Context, factory safejs.Value, wasm []byte) (*Decoder, error) {
	bin, err := jsbytes.ToJS(wasm)
	if err != nil {
		return nil, err
	}
	opts, err := object(map[string]any{"wasmBinary": bin})
	if err != nil {
		return nil, err
	}
	return instantiate(ctx, factory, opts)
}

func instantiate(ctx context.Context, factory, opts safejs.Value) (*Decoder, error) {
	p, err := factory.Invoke(opts)
	if err != nil {
		return nil, fmt.Errorf("j2kcodec: instantiate: %w", err)
	}
	mod, err := promise.Await(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("j2kcodec: instantiate: %w", err)
	}
	return &Decoder{mod: mod}, nil
}

func object(fields map[string]any) (safejs.Value, error) {
	ctor, err := safejs.Global().Get("Object")
	if err != nil {
		return ctor, err
	}
	o, err := ctor.New()
	if err != nil {
		return o, err
	}
	for k, v := range fields {
		if err := o.Set(k, v); err != nil {
			return o, err
		}
	}
	return o, nil
}

// addScript appends <script src=src> and waits for it to load.
func addScript(ctx context.Context, src string) error {
	doc, err := safejs.Global().Get("document")
	if err != nil {
		return err
	}
	s, err := doc.Call("createElement", "script")
	if err != nil {
		return err
	}
	if err := s.Set("src", src); err != nil {
		return err
	}
	executor, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		_ = s.Set("onload", args[0])
		_ = s.Set("onerror", args[1])
		return nil
	})
	if err != nil {
		return err
	}
	defer executor.Release()
	ctor, err := safejs.Global().Get("Promise")
	if err != nil {
		return err
	}
	loaded, err := ctor.New(executor.Value())
	if err != nil {
		return err
	}
	head, err := doc.Get("head")
	if err != nil {
		return err
	}
	if _, err := head.Call("appendChild", s); err != nil {
		return err
	}
	if _, err := promise.Await(ctx, loaded); err != nil {
		return fmt.Errorf("j2kcodec: load %s: %w", src, err)
	}
	return nil
}

// Decode decodes a greyscale 8-bit JPEG 2000 photo (codestream or JP2
// file) within lim into grey pixels.
func (d *Decoder) Decode(ctx context.Context, data []byte, lim j2k.Limits) (*image.Gray, error) {
	h, err := j2k.ParseHeader(data, lim)
	if err != nil {
		return nil, err
	}
	if h.Components != 1 || h.Depth != 8 {
		return nil, fmt.Errorf("%w: %d components of %d bits, not 8-bit grey", ErrDecode, h.Components, h.Depth)
	}
	ctor, err := d.mod.Get("J2KDecoder")
	if err != nil {
		return nil, err
	}
	dec, err := ctor.New()
	if err != nil {
		return nil, fmt.Errorf("j2kcodec: %w", err)
	}
	defer dec.Call("delete") // embind objects live in the module's heap
	enc, err := dec.Call("getEncodedBuffer", len(h.Codestream))
	if err != nil {
		return nil, fmt.Errorf("j2kcodec: %w", err)
	}
	defer enc.Call("fill", 0)
	if _, err := safejs.CopyBytesToJS(enc, h.Codestream); err != nil {
		return nil, err
	}
	if _, err := dec.Call("decode"); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDecode, err)
	}
	fi, err := dec.Call("getFrameInfo")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDecode, err)
	}
	w, hgt, bits, comps := intField(fi, "width"), intField(fi, "height"), intField(fi, "bitsPerSample"), intField(fi, "componentCount")
	if w != h.Width || hgt != h.Height || bits != 8 || comps != 1 {
		return nil, fmt.Errorf("%w: the codec gave %d×%d, %d bits, %d components; the header said %d×%d grey", ErrDecode, w, hgt, bits, comps, h.Width, h.Height)
	}
	out, err := dec.Call("getDecodedBuffer")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDecode, err)
	}
	defer out.Call("fill", 0)
	px, err := jsbytes.ToGo(out)
	if err != nil {
		return nil, err
	}
	if len(px) != w*hgt {
		return nil, fmt.Errorf("%w: %d bytes for %d×%d", ErrDecode, len(px), w, hgt)
	}
	return &image.Gray{Pix: px, Stride: w, Rect: image.Rect(0, 0, w, hgt)}, nil
}

func intField(v safejs.Value, name string) int {
	f, err := v.Get(name)
	if err != nil {
		return -1
	}
	n, err := f.Int()
	if err != nil {
		return -1
	}
	return n
}
