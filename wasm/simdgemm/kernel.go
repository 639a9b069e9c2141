//go:build js && wasm

package simdgemm

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"
	"weak"

	"github.com/hack-pad/safejs"

	"smartpass.city/smartpass/app/face/gemm"
	"smartpass.city/smartpass/wasm/jsbytes"
)

// pageSize is a WebAssembly memory page.
const pageSize = 64 << 10

// Kernel is the SIMD kernel instantiated in this browser: a
// gemm.Accelerator. Its calls take turns (mu): Go's WebAssembly has one
// thread, but a goroutine may park inside a call (a JavaScript call
// allocates), and every call's scratch starts at the same offset.
type Kernel struct {
	mu        sync.Mutex
	columns   safejs.Value // the exported functions
	depthwise safejs.Value
	mem       safejs.Value // its WebAssembly.Memory
	view      safejs.Value // a Uint8Array over the memory's current buffer
	size      int          // the memory's bytes
	top       int          // where the copied weights end
	// copies holds the offset of each weight or bias slice copied, by
	// a weak key and its length, so a network's slice freed and another
	// allocated at its address is not taken for it. Copies stay for the
	// tab's life: a tab loads its networks once.
	copies map[copyKey]int
	// zeros is the offset of zeroBytes zero bytes: the bias of a
	// depthwise convolution without one.
	zeros, zeroBytes int
	// failed is the first error: the kernel then reports false and the
	// Go loops compute every product.
	failed error
}

// copyKey names a slice copied into the kernel's memory.
type copyKey struct {
	p weak.Pointer[float32]
	n int
}

var _ gemm.Accelerator = (*Kernel)(nil)

// ErrNoSIMD is returned by New in a browser that does not validate the
// kernel: its WebAssembly has no SIMD.
var ErrNoSIMD = errors.New("simdgemm: this browser does not validate the SIMD kernel (no WebAssembly SIMD)")

// New compiles and instantiates the kernel. It fails with ErrNoSIMD where
// the browser does not validate SIMD code; the caller keeps Go's loops.
func New() (*Kernel, error) {
	wa, err := safejs.Global().Get("WebAssembly")
	if err != nil {
		return nil, fmt.Errorf("simdgemm: %w", err)
	}
	bytes, err := jsbytes.ToJS(Module())
	if err != nil {
		return nil, fmt.Errorf("simdgemm: %w", err)
	}
	if ok, err := wa.Call("validate", bytes); err != nil {
		return nil, fmt.Errorf("simdgemm: %w", err)
	} else if valid, _ := ok.Bool(); !valid {
		return nil, ErrNoSIMD
	}
	mod, err := construct(wa, "Module", bytes)
	if err != nil {
		return nil, err
	}
	inst, err := construct(wa, "Instance", mod)
	if err != nil {
		return nil, err
	}
	exports, err := inst.Get("exports")
	if err != nil {
		return nil, fmt.Errorf("simdgemm: %w", err)
	}
	k := &Kernel{copies: map[copyKey]int{}}
	if k.columns, err = exports.Get(ExportColumns); err != nil {
		return nil, fmt.Errorf("simdgemm: %w", err)
	}
	if k.depthwise, err = exports.Get(ExportDepthwise); err != nil {
		return nil, fmt.Errorf("simdgemm: %w", err)
	}
	if k.mem, err = exports.Get(ExportMemory); err != nil {
		return nil, fmt.Errorf("simdgemm: %w", err)
	}
	if err := k.refresh(); err != nil {
		return nil, err
	}
	return k, nil
}

// construct calls new WebAssembly[ctor](arg) synchronously (a module of
// a few hundred bytes is under the browsers' limit for that).
func construct(wa safejs.Value, ctor string, arg any) (safejs.Value, error) {
	c, err := wa.Get(ctor)
	if err != nil {
		return c, fmt.Errorf("simdgemm: %w", err)
	}
	v, err := c.New(arg)
	if err != nil {
		return v, fmt.Errorf("simdgemm: WebAssembly.%s: %w", ctor, err)
	}
	return v, nil
}

// refresh takes a new view of the memory: growing it detaches the old
// buffer.
func (k *Kernel) refresh() error {
	buf, err := k.mem.Get("buffer")
	if err != nil {
		return fmt.Errorf("simdgemm: %w", err)
	}
	n, err := buf.Get("byteLength")
	if err != nil {
		return fmt.Errorf("simdgemm: %w", err)
	}
	if k.size, err = n.Int(); err != nil {
		return fmt.Errorf("simdgemm: %w", err)
	}
	u8, err := safejs.Global().Get("Uint8Array")
	if err != nil {
		return fmt.Errorf("simdgemm: %w", err)
	}
	if k.view, err = u8.New(buf); err != nil {
		return fmt.Errorf("simdgemm: %w", err)
	}
	return nil
}

// reserve makes the memory at least n bytes.
func (k *Kernel) reserve(n int) error {
	if n <= k.size {
		return nil
	}
	if _, err := k.mem.Call("grow", (n-k.size+pageSize-1)/pageSize); err != nil {
		return fmt.Errorf("simdgemm: growing the memory to %d bytes: %w", n, err)
	}
	return k.refresh()
}

// put copies b into the memory at off.
func (k *Kernel) put(off int, b []byte) error {
	dst, err := k.view.Call("subarray", off, off+len(b))
	if err != nil {
		return fmt.Errorf("simdgemm: %w", err)
	}
	if _, err := safejs.CopyBytesToJS(dst, b); err != nil {
		return fmt.Errorf("simdgemm: %w", err)
	}
	return nil
}

// get copies the memory at off into b.
func (k *Kernel) get(off int, b []byte) error {
	src, err := k.view.Call("subarray", off, off+len(b))
	if err != nil {
		return fmt.Errorf("simdgemm: %w", err)
	}
	if _, err := safejs.CopyBytesToGo(b, src); err != nil {
		return fmt.Errorf("simdgemm: %w", err)
	}
	return nil
}

// Err is the error that stopped the kernel, or nil while it runs.
func (k *Kernel) Err() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.failed
}

// Columns computes the product in the kernel, or reports false after an
// error (kept in Err), leaving the Go loops to compute it.
func (k *Kernel) Columns(m *gemm.Matrix, a []float32, rows int, out []float32, relu bool, j0, j1 int) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.failed != nil || rows == 0 || j0 >= j1 {
		return k.failed == nil
	}
	if err := k.columns1(m, a, rows, out, relu, j0, j1); err != nil {
		k.failed = err
		return false
	}
	return true
}

func (k *Kernel) columns1(m *gemm.Matrix, a []float32, rows int, out []float32, relu bool, j0, j1 int) error {
	panels, bias := m.Packed()
	pOff, err := k.copyOnce(panels)
	if err != nil {
		return err
	}
	bOff, err := k.copyOnce(bias)
	if err != nil {
		return err
	}
	in, res := bytesOf(a[:rows*m.K]), bytesOf(out[:rows*m.N])
	// Columns outside [j0, j1) must come back as they were.
	whole := j0 == 0 && j1 == m.Panels()
	aOff, outOff, err := k.scratch(in, res, !whole)
	if err != nil {
		return err
	}
	r := 0
	if relu {
		r = 1
	}
	if _, err := k.columns.Invoke(aOff, pOff, bOff, outOff, rows, m.K, m.N, r, j0, j1); err != nil {
		return fmt.Errorf("simdgemm: the kernel: %w", err)
	}
	return k.get(outOff, res)
}

// Depthwise computes the convolution in the kernel when c is a multiple
// of four (every layer of both networks), or reports false, after an
// error too (kept in Err), leaving it to the Go loops.
func (k *Kernel) Depthwise(x []float32, h, w, c, kk, stride, pad, oh, ow int, weights, bias, out []float32) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.failed != nil || c%4 != 0 || c == 0 || oh*ow == 0 {
		return false
	}
	if err := k.depthwise1(x[:h*w*c], h, w, c, kk, stride, pad, oh, ow, weights[:kk*kk*c], bias, out[:oh*ow*c]); err != nil {
		k.failed = err
		return false
	}
	return true
}

func (k *Kernel) depthwise1(x []float32, h, w, c, kk, stride, pad, oh, ow int, weights, bias, out []float32) error {
	wOff, err := k.copyOnce(weights)
	if err != nil {
		return err
	}
	var bOff int
	if bias != nil {
		bOff, err = k.copyOnce(bias[:c])
	} else {
		bOff, err = k.zeroed(4 * c)
	}
	if err != nil {
		return err
	}
	res := bytesOf(out)
	xOff, outOff, err := k.scratch(bytesOf(x), res, false)
	if err != nil {
		return err
	}
	if _, err := k.depthwise.Invoke(xOff, wOff, bOff, outOff, h, w, c, kk, stride, pad, oh, ow); err != nil {
		return fmt.Errorf("simdgemm: the kernel: %w", err)
	}
	return k.get(outOff, res)
}

// copyOnce returns the offset of vals' copy in the kernel's memory,
// copying them on first use: a network's weights do not change.
func (k *Kernel) copyOnce(vals []float32) (int, error) {
	key := copyKey{weak.Make(unsafe.SliceData(vals)), len(vals)}
	if off, ok := k.copies[key]; ok {
		return off, nil
	}
	b := bytesOf(vals)
	off := align16(k.top)
	if err := k.reserve(off + len(b)); err != nil {
		return 0, err
	}
	if err := k.put(off, b); err != nil {
		return 0, err
	}
	k.top = off + len(b)
	k.copies[key] = off
	return off, nil
}

// zeroed returns the offset of n zero bytes, written once (the memory
// past the weights has held earlier products' scratch).
func (k *Kernel) zeroed(n int) (int, error) {
	if n > k.zeroBytes {
		off := align16(k.top)
		if err := k.reserve(off + n); err != nil {
			return 0, err
		}
		if err := k.put(off, make([]byte, n)); err != nil {
			return 0, err
		}
		k.zeros, k.zeroBytes, k.top = off, n, off+n
	}
	return k.zeros, nil
}

// scratch copies in to the memory past the weights, and out after it
// when keep (the product writes part of it), and returns their offsets.
func (k *Kernel) scratch(in, out []byte, keep bool) (inOff, outOff int, err error) {
	inOff = align16(k.top)
	outOff = align16(inOff + len(in))
	if err := k.reserve(outOff + len(out)); err != nil {
		return 0, 0, err
	}
	if err := k.put(inOff, in); err != nil {
		return 0, 0, err
	}
	if keep {
		if err := k.put(outOff, out); err != nil {
			return 0, 0, err
		}
	}
	return inOff, outOff, nil
}

// bytesOf is the memory of f as bytes: WebAssembly and its JavaScript
// views are little-endian, like the float32s' bytes in Go's memory.
func bytesOf(f []float32) []byte {
	if len(f) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(f))), 4*len(f))
}

func align16(n int) int { return (n + 15) &^ 15 }
