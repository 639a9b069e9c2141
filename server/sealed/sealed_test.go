package sealed

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"strings"
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
	hdr := len(magic) + saltSize + 8

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
	f.Add([]byte(magic + strings.Repeat("s", saltSize) + "12345678\x00\x00\x00\x20"))
	f.Add([]byte(magic1 + "12345678\x00\x00\x00\x20"))
	if v1, err := os.ReadFile("testdata/v1.sealed"); err == nil {
		f.Add(v1)
	}
	f.Fuzz(func(t *testing.T, file []byte) {
		got, err := open(key, file)
		if err == nil && len(got) > len(file) {
			t.Fatalf("opened %d bytes out of a %d-byte file", len(got), len(file))
		}
	})
}

// TestFormats (issue 16, finding 9c): a file is sealed with a key of its
// own, derived from the key given, never with that key itself (the
// store's master key, which Badger uses); a file of format 1, sealed with
// the key itself by the writer before, still opens.
func TestFormats(t *testing.T) {
	key := bytes.Repeat([]byte{0x5a}, 32)
	v1, err := os.ReadFile("testdata/v1.sealed")
	if err != nil {
		t.Fatal(err)
	}
	got, err := open(key, v1)
	if err != nil || !bytes.HasPrefix(got, []byte("a backup sealed by the format-1 writer")) || len(got) != 75000 {
		t.Fatalf("a format-1 file: %d bytes, %v", len(got), err)
	}
	if _, err := open(bytes.Repeat([]byte{1}, 32), v1); !errors.Is(err, ErrAuth) {
		t.Fatalf("a format-1 file with another key: %v, want ErrAuth", err)
	}
	plain := []byte("a backup")
	v2 := seal(t, key, plain)
	if string(v2[:len(magic)]) != magic {
		t.Fatalf("written as %q, want format 2", v2[:len(magic)])
	}
	// Read as format 1, with the key itself: the chunks do not open, so
	// the key itself sealed nothing.
	asV1 := append([]byte(magic1), v2[len(magic)+saltSize:]...)
	if _, err := open(key, asV1); !errors.Is(err, ErrAuth) {
		t.Fatalf("format 2's chunks opened with the key given itself: %v", err)
	}
	// Two files of the same plaintext and key have different keys.
	other := seal(t, key, plain)
	if bytes.Equal(v2[len(magic):len(magic)+saltSize], other[len(magic):len(magic)+saltSize]) {
		t.Fatal("two files share a salt")
	}
	if got, err := open(key, v2); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("format 2 round trip: %q, %v", got, err)
	}
}
