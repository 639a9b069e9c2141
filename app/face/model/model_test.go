package model

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"testing"
)

func sample(t testing.TB) []byte {
	t.Helper()
	b := NewBuilder(Header{Name: "test-net/1", Input: 4, Mean: [3]float32{1, 2, 3}, Scale: 255})
	if err := b.AddF16("w", []int{2, 3}, []float32{0, 0.5, -1, 2, 1e-3, 65504}); err != nil {
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

func TestAddF16ShapeMismatch(t *testing.T) {
	if err := NewBuilder(Header{}).AddF16("w", []int{2, 2}, make([]float32, 3)); err == nil {
		t.Fatal("3 values accepted for shape 2x2")
	}
}

func TestRefusesDamage(t *testing.T) {
	good := sample(t)
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)/2] ^= 1
	newer := append([]byte(nil), good...)
	binary.BigEndian.PutUint16(newer[len(magic):], FormatVersion+1)
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrFormat},
		{"not ours", []byte("GIF89a" + string(make([]byte, 64))), ErrFormat},
		{"one bit flipped", flipped, ErrChecksum},
		{"newer format", newer, ErrVersion},
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
			case KindF16:
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
