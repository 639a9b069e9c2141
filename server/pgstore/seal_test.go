package pgstore

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzOpenOp: what comes back from the database is outside bytes to the
// server: a value that does not open under its row's name is refused,
// never a panic, and a sealed op opens only in its own row.
func FuzzOpenOp(f *testing.F) {
	key := bytes.Repeat([]byte{9}, 32)
	sl, err := newSealer(key)
	if err != nil {
		f.Fatal(err)
	}
	s := &Store{seal: sl, tenant: 3}
	// A fixed nonce, so every fuzzing worker knows the same good value.
	nonce := make([]byte, sl.aead.NonceSize())
	good := sl.aead.Seal(nonce, nonce, []byte(`{"dev":"d","seq":1,"hlc":1,"kind":"test.op","g":7}`), opAAD(3, 7))
	f.Add(good, uint64(7))
	f.Add(good, uint64(8))
	f.Add([]byte{}, uint64(1))
	f.Add(bytes.Repeat([]byte{0}, 40), uint64(1))
	f.Fuzz(func(t *testing.T, sealed []byte, global uint64) {
		op, err := s.openOp(global, sealed)
		switch {
		case bytes.Equal(sealed, good) && global == 7:
			if err != nil || op.Global != 7 || op.Kind != "test.op" {
				t.Fatalf("the sealed op did not open in its row: %+v %v", op, err)
			}
		case err == nil:
			t.Fatalf("bytes that were never sealed for op %d opened: %+v", global, op)
		case !errors.Is(err, ErrSealed):
			t.Fatalf("refused with %v, want ErrSealed", err)
		}
	})
}

// TestSealerNames: values open only under the name they were sealed
// with (another tenant, kind, id or key refuses), and the key must be
// 32 bytes.
func TestSealerNames(t *testing.T) {
	a, _ := newSealer(bytes.Repeat([]byte{1}, 32))
	b, _ := newSealer(bytes.Repeat([]byte{2}, 32))
	v := a.seal(recordAAD(1, "device", "tab"), []byte("secret"))
	tests := []struct {
		name string
		s    *sealer
		aad  []byte
		ok   bool
	}{
		{"its own row", a, recordAAD(1, "device", "tab"), true},
		{"another tenant", a, recordAAD(2, "device", "tab"), false},
		{"another kind", a, recordAAD(1, "staff", "tab"), false},
		{"another id", a, recordAAD(1, "device", "tab2"), false},
		{"kind and id shifted", a, recordAAD(1, "devic", "etab"), false},
		{"another key", b, recordAAD(1, "device", "tab"), false},
	}
	for _, tt := range tests {
		got, err := tt.s.open(tt.aad, v)
		if ok := err == nil && string(got) == "secret"; ok != tt.ok {
			t.Errorf("%s: opened %v (%q, %v), want %v", tt.name, ok, got, err, tt.ok)
		}
	}
	if _, err := newSealer(make([]byte, 16)); err == nil {
		t.Error("a 16-byte key was taken")
	}
}
