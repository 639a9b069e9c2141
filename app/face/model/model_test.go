package model

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

func sample(t testing.TB) []byte {
	t.Helper()
	b := NewBuilder(Header{Name: "test-net/1", Input: 4, Mean: [3]float32{1, 2, 3}, Scale: 255})
	if err := b.AddF16("w", []int{2, 3}, []float32{0, 0.5, -1, 2, 1e-3, 65504}); err != nil {
		t.Fatal(err)
	}
	if err := b.AddU8("q", []int{4}, []byte{0, 1, 128, 255}, 0.5, -2); err != nil {
		t.Fatal(err)
	}
	b.AddRaw("cascade", []byte("opaque"))
	data, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestRoundTrip(t *testing.T) {
	f, err := Decode(sample(t))
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "test-net/1" || f.Input != 4 || f.Mean != [3]float32{1, 2, 3} {
		t.Fatalf("header %+v", f.Header)
	}
	w, shape, err := f.Tensor("w")
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{0, 0.5, -1, 2, 1e-3, 65504}
	if len(shape) != 2 || shape[0] != 2 || shape[1] != 3 {
		t.Fatalf("shape %v", shape)
	}
	for i := range want {
		if d := w[i] - want[i]; d > 1e-6 || d < -1e-6 {
			t.Errorf("w[%d] = %g, want %g", i, w[i], want[i])
		}
	}
	q, shape, err := f.Tensor("q")
	if err != nil || len(shape) != 1 || shape[0] != 4 {
		t.Fatalf("u8 tensor: shape %v, %v", shape, err)
	}
	// Dequantised at load: q*scale + min.
	for i, want := range []float32{-2, -1.5, 62, 125.5} {
		if q[i] != want {
			t.Errorf("q[%d] = %g, want %g", i, q[i], want)
		}
	}
	raw, err := f.Raw("cascade")
	if err != nil || string(raw) != "opaque" {
		t.Fatalf("raw %q %v", raw, err)
	}
	if _, err := f.Raw("w"); !errors.Is(err, ErrSection) {
		t.Errorf("Raw of a tensor: %v", err)
	}
	if _, _, err := f.Tensor("missing"); !errors.Is(err, ErrSection) {
		t.Errorf("missing tensor: %v", err)
	}
}

func TestAddShapeMismatch(t *testing.T) {
	if err := NewBuilder(Header{}).AddF16("w", []int{2, 2}, make([]float32, 3)); err == nil {
		t.Fatal("3 values accepted for shape 2x2")
	}
	if err := NewBuilder(Header{}).AddU8("q", []int{2, 2}, make([]byte, 5), 1, 0); err == nil {
		t.Fatal("5 bytes accepted for shape 2x2")
	}
	if err := NewBuilder(Header{}).AddU8("q", []int{1}, make([]byte, 1), float32(math.NaN()), 0); err == nil {
		t.Fatal("NaN scale accepted")
	}
}

func TestRefusesDamage(t *testing.T) {
	good := sample(t)
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)/2] ^= 1
	newer := append([]byte(nil), good...)
	binary.BigEndian.PutUint16(newer[len(magic):], FormatVersion+1)
	// A file of the previous format (float16 only) with a valid checksum:
	// a terminal that kept one must fetch the new file, not read it.
	older := append([]byte(nil), good[:len(good)-sha256.Size]...)
	binary.BigEndian.PutUint16(older[len(magic):], FormatVersion-1)
	sum := sha256.Sum256(older)
	older = append(older, sum[:]...)
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrFormat},
		{"not ours", []byte("GIF89a" + string(make([]byte, 64))), ErrFormat},
		{"one bit flipped", flipped, ErrChecksum},
		{"newer format", newer, ErrVersion},
		{"older format", older, ErrVersion},
		{"checksum of other contents", append(good[:len(good)-sha256.Size:len(good)-sha256.Size], make([]byte, sha256.Size)...), ErrChecksum},
	}
	for _, c := range cases {
		if _, err := Decode(c.data); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// A download cut short anywhere is refused.
	for n := 0; n < len(good); n++ {
		if _, err := Decode(good[:n]); err == nil {
			t.Fatalf("prefix of %d of %d bytes accepted", n, len(good))
		}
	}
}

// FuzzDecode feeds arbitrary contents with a correct checksum appended,
// so the fuzzer explores the header and sections rather than the hash.
func FuzzDecode(f *testing.F) {
	good := sample(f)
	f.Add(good[:len(good)-sha256.Size])
	f.Fuzz(func(t *testing.T, content []byte) {
		sum := sha256.Sum256(content)
		m, err := Decode(append(content, sum[:]...))
		if err != nil {
			return
		}
		for _, s := range m.Sections {
			switch s.Kind {
			case KindF16, KindU8:
				if _, _, err := m.Tensor(s.Name); err != nil {
					t.Fatal(err)
				}
			case KindRaw:
				if _, err := m.Raw(s.Name); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}
