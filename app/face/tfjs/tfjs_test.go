package tfjs

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

const manifest = `[{"paths":["m.bin"],"weights":[
 {"name":"a","shape":[2],"dtype":"float32"},
 {"name":"b","shape":[3],"dtype":"float32","quantization":{"dtype":"uint8","scale":0.5,"min":-1}},
 {"name":"c","shape":[1],"dtype":"float32","quantization":{"dtype":"uint16","scale":2,"min":1}},
 {"name":"d","shape":[1],"dtype":"float32","quantization":{"dtype":"float16"}}]}]`

func shard() []byte {
	b := binary.LittleEndian.AppendUint32(nil, math.Float32bits(1.5))
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(-2))
	b = append(b, 0, 2, 255)
	b = binary.LittleEndian.AppendUint16(b, 3)
	b = binary.LittleEndian.AppendUint16(b, 0x3c00) // 1.0 in float16
	return b
}

func TestDecode(t *testing.T) {
	m, err := ParseManifest([]byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	ts, err := m[0].Decode(shard())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]float32{"a": {1.5, -2}, "b": {-1, 0, 126.5}, "c": {7}, "d": {1}}
	for name, w := range want {
		got := ts[name].Values
		if len(got) != len(w) {
			t.Fatalf("%s: %v, want %v", name, got, w)
		}
		for i := range w {
			if got[i] != w[i] {
				t.Errorf("%s[%d] = %g, want %g", name, i, got[i], w[i])
			}
		}
	}
	// Only the uint8 weight keeps its stored form, bytes and all.
	if q := ts["b"].Quantized; q == nil || string(q.Q) != string([]byte{0, 2, 255}) || q.Scale != 0.5 || q.Min != -1 {
		t.Errorf("b stored as %+v", q)
	}
	for _, name := range []string{"a", "c", "d"} {
		if ts[name].Quantized != nil {
			t.Errorf("%s has a uint8 form", name)
		}
	}
}

func TestDecodeMismatch(t *testing.T) {
	m, _ := ParseManifest([]byte(manifest))
	full := shard()
	for _, data := range [][]byte{full[:len(full)-1], append(full, 0)} {
		if _, err := m[0].Decode(data); !errors.Is(err, ErrFormat) {
			t.Errorf("shard of %d bytes: %v", len(data), err)
		}
	}
	bad := []string{
		`[{"weights":[{"name":"x","shape":[1],"dtype":"int32"}]}]`,
		`[{"weights":[{"name":"x","shape":[-1],"dtype":"float32"}]}]`,
		`[{"weights":[{"name":"x","shape":[65536,65536],"dtype":"float32"}]}]`,
		`[{"weights":[{"name":"x","shape":[1],"dtype":"float32","quantization":{"dtype":"int4"}}]}]`,
	}
	for _, s := range bad {
		m, err := ParseManifest([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m[0].Decode(make([]byte, 4)); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v", s, err)
		}
	}
	if _, err := ParseManifest([]byte("{")); !errors.Is(err, ErrFormat) {
		t.Errorf("broken JSON: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(manifest), shard())
	f.Fuzz(func(t *testing.T, man, data []byte) {
		m, err := ParseManifest(man)
		if err != nil {
			return
		}
		for _, g := range m {
			ts, err := g.Decode(data)
			if err != nil {
				continue
			}
			for _, w := range g.Weights {
				if len(ts[w.Name].Values) == 0 && len(w.Shape) > 0 && w.Shape[0] != 0 {
					// An empty tensor is only right for a zero dimension.
					n := 1
					for _, d := range w.Shape {
						n *= d
					}
					if n != 0 {
						t.Fatalf("weight %s decoded empty", w.Name)
					}
				}
			}
		}
	})
}
