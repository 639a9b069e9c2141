package sealed

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"testing"
)

func seal(t testing.TB, key, plain []byte) []byte {
	var b bytes.Buffer
	w, err := NewWriter(&b, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(plain); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func open(key, file []byte) ([]byte, error) {
	r, err := NewReader(bytes.NewReader(file), key)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func TestRoundTrip(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	for _, n := range []int{0, 1, ChunkSize - 1, ChunkSize, ChunkSize + 1, 3*ChunkSize + 17} {
		plain := make([]byte, n)
		rand.Read(plain)
		got, err := open(key, seal(t, key, plain))
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("%d bytes: round trip failed: %v", n, err)
		}
	}
}

func TestDetectsDamage(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	plain := make([]byte, 2*ChunkSize+100)
	rand.Read(plain)
	file := seal(t, key, plain)
	chunk := 4 + ChunkSize + 16
	hdr := len(magic) + 8

	other := make([]byte, 32)
	rand.Read(other)
	flipped := bytes.Clone(file)
	flipped[hdr+10] ^= 1
	tests := []struct {
		name string
		key  []byte
		file []byte
		want error
	}{
		{"wrong key", other, file, ErrAuth},
		{"flipped bit", key, flipped, ErrAuth},
		{"cut inside a chunk", key, file[:hdr+chunk+100], ErrTruncated},
		{"cut at a chunk boundary", key, file[:hdr+2*chunk], ErrTruncated},
		{"chunks swapped", key, bytes.Join([][]byte{file[:hdr], file[hdr+chunk : hdr+2*chunk], file[hdr : hdr+chunk], file[hdr+2*chunk:]}, nil), ErrAuth},
		{"trailing bytes", key, append(bytes.Clone(file), 0), ErrAuth},
		{"not sealed", key, []byte("plain backup"), ErrNotSealed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := open(tt.key, tt.file)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func FuzzReader(f *testing.F) {
	key := bytes.Repeat([]byte{7}, 32)
	f.Add(seal(f, key, []byte("hello")))
	f.Add([]byte(magic + "12345678\x00\x00\x00\x20"))
	f.Fuzz(func(t *testing.T, file []byte) {
		got, err := open(key, file)
		if err == nil && len(got) > len(file) {
			t.Fatalf("opened %d bytes out of a %d-byte file", len(got), len(file))
		}
	})
}
