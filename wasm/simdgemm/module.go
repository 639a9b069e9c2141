// Package simdgemm runs the face networks' matrix product as a
// WebAssembly SIMD kernel beside Go's own module. Go compiles to
// WebAssembly without SIMD, so in a browser the product (gemm.Columns,
// about 70% of a frame's work) runs one float at a time; Chromium has had
// 128-bit SIMD since version 91, and the kernel here computes four
// columns in one instruction.
//
// The kernel is a small module this package assembles itself (Module),
// with its own memory: the weights are copied into it once per matrix,
// and each product copies its input rows in and its output rows back.
// The sums are the Go loops' sums in the same order with no fused
// multiply-add, so the results are bit for bit those of gemm's Go loops
// (the tests in Chromium check it), and a template does not depend on
// which computed it.
//
// Module is plain Go and builds anywhere; Kernel, the binding, exists
// only in the browser (js/wasm).
package simdgemm

// The kernel's exports.
const (
	// ExportColumns is the function computing column panels of a
	// product: columns(a, panels, bias, out, rows, k, n, relu, j0, j1),
	// a, panels, bias and out being byte offsets into the memory.
	ExportColumns = "columns"
	// ExportDepthwise is the function computing a depthwise convolution:
	// depthwise(x, weights, bias, out, h, w, c, k, stride, pad, oh, ow),
	// as gemm.Depthwise, with c a multiple of 4 and x, weights, bias and
	// out byte offsets.
	ExportDepthwise = "depthwise"
	// ExportMemory is the kernel's memory.
	ExportMemory = "mem"
)

// Instruction and type bytes of the WebAssembly binary format (core 2.0
// and its fixed-width SIMD). Each SIMD instruction is the 0xFD prefix
// and its opcode as unsigned LEB128.
const (
	opBlock    = 0x02
	opLoop     = 0x03
	opIf       = 0x04
	opEnd      = 0x0B
	opBr       = 0x0C
	opBrIf     = 0x0D
	opLocalGet = 0x20
	opLocalSet = 0x21
	opI32Const = 0x41
	opSelect   = 0x1B
	opI32LtS   = 0x48
	opI32GtS   = 0x4A
	opI32GeS   = 0x4E
	opI32GeU   = 0x4F
	opI32Add   = 0x6A
	opI32Sub   = 0x6B
	opI32Mul   = 0x6C
	opI32Shl   = 0x74
	blockVoid  = 0x40

	simdPrefix     = 0xFD
	simdLoad       = 0x00 // v128.load
	simdLoad32Spl  = 0x09 // v128.load32_splat
	simdStore      = 0x0B // v128.store
	simdF32x4Add   = 228  // f32x4.add
	simdF32x4Mul   = 230  // f32x4.mul
	simdF32x4Max   = 233  // f32x4.max
	typeI32        = 0x7F
	typeV128       = 0x7B
	typeFunc       = 0x60
	exportFunc     = 0x00
	exportMem      = 0x02
	sectionType    = 1
	sectionFunc    = 3
	sectionMemory  = 5
	sectionExport  = 7
	sectionCode    = 10
	alignV128      = 4 // log2 of 16 bytes
	alignF32       = 2 // log2 of 4 bytes
	initialPages   = 1
	columnsParams  = 10
	rowBlock       = 4 // rows the main loop computes at once
	panelBlock     = 2 // column panels it computes at once
	i32Locals      = 6 + rowBlock
	v128Locals     = rowBlock*panelBlock + panelBlock + 2
	firstI32Local  = columnsParams
	firstV128Local = columnsParams + i32Locals
)

// The columns function's parameters and locals, by index.
const (
	pA, pPanels, pBias, pOut, pRows, pK, pN, pRelu, pJ0, pJ1 = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9

	lI      = firstI32Local + 0 // first row of the block
	lJ      = firstI32Local + 1 // column panel
	lKB     = firstI32Local + 2 // byte offset along a row of a
	lPP     = firstI32Local + 3 // address of the panel's next four weights
	lK4     = firstI32Local + 4 // bytes in a row of a: 4k
	lStride = firstI32Local + 5 // bytes from one panel's weights to the next: 16k
	lA0     = firstI32Local + 6 // addresses of the block's rows of a (rowBlock of them)

	lC0   = firstV128Local + 0                   // the block's sums: row q, panel s at lC0 + q*panelBlock + s
	lW0   = firstV128Local + rowBlock*panelBlock // the panels' four weights at k
	lX    = lW0 + panelBlock                     // a_q[k] in every lane
	lZero = lX + 1                               // zero, for ReLU
)

// Module returns the kernel module's bytes. Its columns function computes,
// for the rows of a (rows x k float32s, row-major), the column panels
// [j0, j1) of a·W + bias into out (rows x n), W being packed as
// gemm.Matrix packs it (panels of four columns, each k rows of four),
// with ReLU when relu is not 0. Rows go four at a time, then one at a
// time, and within them panels two at a time, then one: a block of
// eight v128 sums, each four columns, kept in registers while k runs.
func Module() []byte {
	var cols asm
	// k4 = k * 4
	cols.get(pK).i32(2).op(opI32Shl).set(lK4)
	for _, r := range []int{rowBlock, 1} {
		cols.rowLoop(r)
	}
	cols.op(opEnd)
	var dw asm
	dw.depthwise()
	dw.op(opEnd)
	funcs := []struct {
		name         string
		params       int
		i32s, v128s  int
		instructions asm
	}{
		{ExportColumns, columnsParams, i32Locals, v128Locals, cols},
		{ExportDepthwise, dwParams, dwI32Locals, dwV128Locals, dw},
	}

	m := []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}
	var types, fns, exp, code []byte
	types = uleb(types, len(funcs))
	fns = uleb(fns, len(funcs))
	exp = uleb(exp, len(funcs)+1)
	code = uleb(code, len(funcs))
	for i, f := range funcs {
		types = uleb(append(types, typeFunc), f.params) // (i32 x params) -> ()
		for range f.params {
			types = append(types, typeI32)
		}
		types = append(types, 0)
		fns = uleb(fns, i)
		exp = uleb(append(name(exp, f.name), exportFunc), i)
		body := uleb(nil, 2) // two runs of locals
		body = append(uleb(body, f.i32s), typeI32)
		body = append(uleb(body, f.v128s), typeV128)
		body = append(body, f.instructions...)
		code = append(uleb(code, len(body)), body...)
	}
	exp = append(name(exp, ExportMemory), exportMem, 0)
	m = section(m, sectionType, types)
	m = section(m, sectionFunc, fns)
	m = section(m, sectionMemory, uleb([]byte{1, 0x00}, initialPages)) // min only: it grows
	m = section(m, sectionExport, exp)
	return section(m, sectionCode, code)
}

// The depthwise function's parameters and locals, by index.
const (
	dwParams     = 12
	dwI32Locals  = 14
	dwV128Locals = 1

	dX, dWeights, dBias, dOut, dH, dW, dC, dK, dStride, dPad, dOH, dOW = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11

	dC4   = dwParams + 0  // bytes per pixel: 4c
	dOY   = dwParams + 1  // output row
	dOX   = dwParams + 2  // output column
	dIY0  = dwParams + 3  // input row of tap 0: oy*stride - pad
	dIX0  = dwParams + 4  // input column of tap 0
	dKY0  = dwParams + 5  // the taps inside the image: rows [ky0, ky1)
	dKY1  = dwParams + 6  //
	dKX0  = dwParams + 7  // and columns [kx0, kx1)
	dKX1  = dwParams + 8  //
	dCB   = dwParams + 9  // byte offset of the four channels
	dKY   = dwParams + 10 // tap row
	dKX   = dwParams + 11 // tap column byte offset: kx*4c
	dRowX = dwParams + 12 // address of the tap row's first pixel, at cb
	dRowW = dwParams + 13 // address of the tap row's weights, at cb
	dAcc  = dwParams + 14 // four channels' sums
)

// depthwise appends the depthwise convolution: for each output pixel,
// the taps inside the image found once, then four channels at a time
// summed over those taps, rows then columns, in one v128, as
// gemm.GoDepthwise sums them one channel at a time. bias is the address
// of c zeros when the convolution has none.
func (c *asm) depthwise() {
	c.get(dC).i32(2).op(opI32Shl).set(dC4)
	// taps sets lo, hi to the taps t in [0, k) with 0 <= i0+t < size.
	taps := func(i0, size, lo, hi int) {
		c.i32(0).get(i0).op(opI32Sub).set(lo) // lo = max(-i0, 0)
		c.get(lo).i32(0).get(lo).i32(0).op(opI32GtS).op(opSelect).set(lo)
		c.get(size).get(i0).op(opI32Sub).set(hi) // hi = min(size-i0, k)
		c.get(dK).get(hi).get(dK).get(hi).op(opI32LtS).op(opSelect).set(hi)
	}
	c.i32(0).set(dOY)
	c.op(opBlock, blockVoid).op(opLoop, blockVoid)
	c.get(dOY).get(dOH).op(opI32GeS).op(opBrIf, 1)
	c.get(dOY).get(dStride).op(opI32Mul).get(dPad).op(opI32Sub).set(dIY0)
	taps(dIY0, dH, dKY0, dKY1)
	c.i32(0).set(dOX)
	c.op(opBlock, blockVoid).op(opLoop, blockVoid)
	c.get(dOX).get(dOW).op(opI32GeS).op(opBrIf, 1)
	c.get(dOX).get(dStride).op(opI32Mul).get(dPad).op(opI32Sub).set(dIX0)
	taps(dIX0, dW, dKX0, dKX1)
	c.i32(0).set(dCB)
	c.op(opBlock, blockVoid).op(opLoop, blockVoid)
	c.get(dCB).get(dC4).op(opI32GeS).op(opBrIf, 1)
	c.get(dBias).get(dCB).op(opI32Add).simd(simdLoad, alignV128).set(dAcc)
	c.get(dKY0).set(dKY)
	c.op(opBlock, blockVoid).op(opLoop, blockVoid)
	c.get(dKY).get(dKY1).op(opI32GeS).op(opBrIf, 1)
	// rowX = x + ((iy0+ky)*w + ix0)*4c + cb; ix0 may be negative, and
	// kx from kx0 brings the address back inside the image.
	c.get(dIY0).get(dKY).op(opI32Add).get(dW).op(opI32Mul).get(dIX0).op(opI32Add)
	c.get(dC4).op(opI32Mul).get(dX).op(opI32Add).get(dCB).op(opI32Add).set(dRowX)
	// rowW = weights + ky*k*4c + cb
	c.get(dKY).get(dK).op(opI32Mul).get(dC4).op(opI32Mul).get(dWeights).op(opI32Add).get(dCB).op(opI32Add).set(dRowW)
	c.get(dKX0).get(dC4).op(opI32Mul).set(dKX)
	c.op(opBlock, blockVoid).op(opLoop, blockVoid)
	c.get(dKX).get(dKX1).get(dC4).op(opI32Mul).op(opI32GeS).op(opBrIf, 1)
	c.get(dAcc)
	c.get(dRowX).get(dKX).op(opI32Add).simd(simdLoad, alignF32)
	c.get(dRowW).get(dKX).op(opI32Add).simd(simdLoad, alignF32)
	c.simdOp(simdF32x4Mul).simdOp(simdF32x4Add).set(dAcc)
	c.get(dKX).get(dC4).op(opI32Add).set(dKX)
	c.op(opBr, 0).op(opEnd, opEnd)
	c.get(dKY).i32(1).op(opI32Add).set(dKY)
	c.op(opBr, 0).op(opEnd, opEnd)
	// out[(oy*ow + ox)*4c + cb] = acc
	c.get(dOY).get(dOW).op(opI32Mul).get(dOX).op(opI32Add).get(dC4).op(opI32Mul)
	c.get(dOut).op(opI32Add).get(dCB).op(opI32Add).get(dAcc).simd(simdStore, alignV128)
	c.get(dCB).i32(16).op(opI32Add).set(dCB)
	c.op(opBr, 0).op(opEnd, opEnd)
	c.get(dOX).i32(1).op(opI32Add).set(dOX)
	c.op(opBr, 0).op(opEnd, opEnd)
	c.get(dOY).i32(1).op(opI32Add).set(dOY)
	c.op(opBr, 0).op(opEnd, opEnd)
}

// rowLoop appends the loop over blocks of r rows, from row i while a
// whole block remains.
func (c *asm) rowLoop(r int) {
	c.op(opBlock, blockVoid).op(opLoop, blockVoid)
	// if i + r > rows: done
	c.get(lI).i32(r).op(opI32Add).get(pRows).op(opI32GtS).op(opBrIf, 1)
	for q := range r { // a_q = a + (i+q)*k4
		c.get(lI).i32(q).op(opI32Add).get(lK4).op(opI32Mul).get(pA).op(opI32Add).set(lA0 + q)
	}
	c.get(pJ0).set(lJ)
	for _, p := range []int{panelBlock, 1} {
		c.panelLoop(r, p)
	}
	c.get(lI).i32(r).op(opI32Add).set(lI)
	c.op(opBr, 0).op(opEnd, opEnd)
}

// panelLoop appends the loop over blocks of p panels, from panel j while
// a whole block remains before j1, for the r rows at a_0…a_{r-1}: the
// sums of row q and panel s are local sum(q, s).
func (c *asm) panelLoop(r, p int) {
	sum := func(q, s int) int { return lC0 + q*panelBlock + s }
	c.op(opBlock, blockVoid).op(opLoop, blockVoid)
	c.get(lJ).i32(p).op(opI32Add).get(pJ1).op(opI32GtS).op(opBrIf, 1)
	for s := range p { // the sums start at bias[4(j+s) : +4]
		c.get(lJ).i32(s).op(opI32Add).i32(4).op(opI32Shl).get(pBias).op(opI32Add).simd(simdLoad, alignV128).set(sum(0, s))
		for q := 1; q < r; q++ {
			c.get(sum(0, s)).set(sum(q, s))
		}
	}
	// pp = panels + j*k*16 bytes; panel j+s's weights are s*k*16 further
	c.get(lJ).get(lK4).op(opI32Mul).i32(2).op(opI32Shl).get(pPanels).op(opI32Add).set(lPP)
	if p > 1 {
		c.get(lK4).i32(2).op(opI32Shl).set(lStride)
	}
	c.i32(0).set(lKB)
	c.op(opBlock, blockVoid).op(opLoop, blockVoid)
	c.get(lKB).get(lK4).op(opI32GeU).op(opBrIf, 1)
	for s := range p {
		c.get(lPP)
		if s > 0 {
			c.get(lStride)
			for range s - 1 {
				c.get(lStride).op(opI32Add)
			}
			c.op(opI32Add)
		}
		c.simd(simdLoad, alignV128).set(lW0 + s)
	}
	for q := range r { // sum(q, s) += splat(a_q[k]) * w_s
		c.get(lA0+q).get(lKB).op(opI32Add).simd(simdLoad32Spl, alignF32).set(lX)
		for s := range p {
			c.get(sum(q, s)).get(lX).get(lW0 + s).simdOp(simdF32x4Mul).simdOp(simdF32x4Add).set(sum(q, s))
		}
	}
	c.get(lPP).i32(16).op(opI32Add).set(lPP)
	c.get(lKB).i32(4).op(opI32Add).set(lKB)
	c.op(opBr, 0).op(opEnd, opEnd)
	c.get(pRelu).op(opIf, blockVoid)
	for q := range r {
		for s := range p {
			c.get(sum(q, s)).get(lZero).simdOp(simdF32x4Max).set(sum(q, s))
		}
	}
	c.op(opEnd)
	for q := range r { // out[(i+q)*n + 4(j+s) : +4] = sum(q, s)
		for s := range p {
			c.get(lI).i32(q).op(opI32Add).get(pN).op(opI32Mul)
			c.get(lJ).i32(s).op(opI32Add).i32(2).op(opI32Shl).op(opI32Add)
			c.i32(2).op(opI32Shl).get(pOut).op(opI32Add)
			c.get(sum(q, s)).simd(simdStore, alignV128)
		}
	}
	c.get(lJ).i32(p).op(opI32Add).set(lJ)
	c.op(opBr, 0).op(opEnd, opEnd)
}

// asm is a function body being written.
type asm []byte

func (c *asm) op(b ...byte) *asm { *c = append(*c, b...); return c }
func (c *asm) get(local int) *asm {
	*c = uleb(append(*c, opLocalGet), local)
	return c
}
func (c *asm) set(local int) *asm {
	*c = uleb(append(*c, opLocalSet), local)
	return c
}

// i32 pushes a small non-negative constant (signed LEB128: below 64 is
// one byte, below 8192 two).
func (c *asm) i32(v int) *asm {
	*c = sleb(append(*c, opI32Const), v)
	return c
}

// simdOp appends a SIMD instruction without immediates.
func (c *asm) simdOp(op int) *asm {
	*c = uleb(append(*c, simdPrefix), op)
	return c
}

// simd appends a SIMD memory instruction with its alignment hint and a
// zero offset.
func (c *asm) simd(op, align int) *asm {
	c.simdOp(op)
	*c = append(*c, byte(align), 0)
	return c
}

// uleb appends v as unsigned LEB128.
func uleb(b []byte, v int) []byte {
	for {
		x := byte(v & 0x7F)
		v >>= 7
		if v == 0 {
			return append(b, x)
		}
		b = append(b, x|0x80)
	}
}

// sleb appends v, not negative, as signed LEB128.
func sleb(b []byte, v int) []byte {
	for {
		x := byte(v & 0x7F)
		v >>= 7
		if v == 0 && x&0x40 == 0 {
			return append(b, x)
		}
		b = append(b, x|0x80)
	}
}

// section appends a section: its id, its size, its contents.
func section(m []byte, id byte, contents []byte) []byte {
	m = uleb(append(m, id), len(contents))
	return append(m, contents...)
}

// name appends a name: its length and its UTF-8 bytes.
func name(b []byte, s string) []byte {
	return append(uleb(b, len(s)), s...)
}
