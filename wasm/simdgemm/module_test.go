package simdgemm

import (
	"bytes"
	"testing"
)

// TestLEB128 checks the two integer encodings against the format's
// examples: unsigned 624485 is E5 8E 26; signed, 63 fits one byte and 64
// needs two (its sign bit would read negative).
func TestLEB128(t *testing.T) {
	for _, c := range []struct {
		signed bool
		v      int
		want   []byte
	}{
		{false, 0, []byte{0x00}},
		{false, 127, []byte{0x7F}},
		{false, 128, []byte{0x80, 0x01}},
		{false, 228, []byte{0xE4, 0x01}}, // f32x4.add's opcode
		{false, 624485, []byte{0xE5, 0x8E, 0x26}},
		{true, 0, []byte{0x00}},
		{true, 63, []byte{0x3F}},
		{true, 64, []byte{0xC0, 0x00}},
		{true, 16, []byte{0x10}},
	} {
		enc := uleb
		if c.signed {
			enc = sleb
		}
		if got := enc(nil, c.v); !bytes.Equal(got, c.want) {
			t.Errorf("signed %v, %d: % X, want % X", c.signed, c.v, got, c.want)
		}
	}
}

// TestModuleHeader checks the module starts as every WebAssembly module
// must and names its exports; Chromium's validation and the kernel tests
// (kernel_test.go, make test-wasm) check the rest.
func TestModuleHeader(t *testing.T) {
	m := Module()
	if !bytes.HasPrefix(m, []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}) {
		t.Fatalf("header % X", m[:8])
	}
	for _, name := range []string{ExportColumns, ExportDepthwise, ExportMemory} {
		if !bytes.Contains(m, []byte(name)) {
			t.Errorf("no export %q", name)
		}
	}
}
