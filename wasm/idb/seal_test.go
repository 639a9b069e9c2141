package idb

import (
	"bytes"
	"errors"
	"testing"

	"smartpass.city/smartpass/syncproto"
)

func TestSeal(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	s, err := newSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	op := syncproto.Op{Device: "pwa-1", Seq: 3, HLC: 9, Kind: "shelter.evacuee.add", Body: []byte(`{"name":"加賀　花子"}`)}
	rec, err := s.seal(op)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(rec, []byte("加賀")) || bytes.Contains(rec, []byte("shelter")) {
		t.Fatal("the record holds the op in the clear")
	}
	got, err := s.open("pwa-1", 3, rec)
	if err != nil || got.Kind != op.Kind || string(got.Body) != string(op.Body) {
		t.Fatalf("open = %+v, %v", got, err)
	}
	other, _ := newSealer(bytes.Repeat([]byte{8}, 32))
	flipped := bytes.Clone(rec)
	flipped[len(flipped)-1] ^= 1
	for _, tt := range []struct {
		name   string
		s      sealer
		device string
		seq    uint64
		rec    []byte
	}{
		{"moved to another key", s, "pwa-1", 4, rec},
		{"another device's place", s, "pwa-2", 3, rec},
		{"another data key", other, "pwa-1", 3, rec},
		{"a bit flipped", s, "pwa-1", 3, flipped},
		{"truncated", s, "pwa-1", 3, rec[:10]},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.s.open(tt.device, tt.seq, tt.rec); !errors.Is(err, errDamaged) {
				t.Fatalf("open = %v, want errDamaged", err)
			}
		})
	}
}
