// Package tfjs reads TensorFlow.js weight manifests and their binary
// shards, the form in which face models are published on npm, and returns
// the weights as float32 tensors. It is used at build time by modelconv,
// never on a terminal.
//
// A manifest is a JSON list of groups, each naming its shard files and the
// weights stored in them back to back. A weight may be quantised: uint8 or
// uint16 with a per-tensor scale and minimum (value = q*scale + min), or
// float16.
package tfjs

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/x448/float16"
)

// Manifest is a weights manifest.
type Manifest []Group

// Group is one group of weights stored across Paths, concatenated.
type Group struct {
	Paths   []string `json:"paths"`
	Weights []Weight `json:"weights"`
}

// Weight describes one tensor in a group's bytes.
type Weight struct {
	Name         string        `json:"name"`
	Shape        []int         `json:"shape"`
	DType        string        `json:"dtype"`
	Quantization *Quantization `json:"quantization,omitempty"`
}

// Quantization describes how a weight's values were stored.
type Quantization struct {
	DType string  `json:"dtype"`
	Scale float64 `json:"scale"`
	Min   float64 `json:"min"`
}

// Tensor is a decoded weight.
type Tensor struct {
	Shape  []int
	Values []float32
	// Quantized is the stored form of a weight published as uint8: its
	// bytes and their scale and minimum (Values[i] = Q[i]*Scale + Min),
	// so a converter can keep it 8-bit. Nil for any other storage.
	Quantized *Quantized
}

// Quantized is a uint8 weight as stored.
type Quantized struct {
	Q          []byte
	Scale, Min float32
}

// ErrFormat is wrapped by every error about malformed input.
var ErrFormat = errors.New("tfjs: malformed weights")

// maxElements bounds one tensor (far above any face network's largest).
const maxElements = 1 << 28

// ParseManifest parses a manifest file.
func ParseManifest(data []byte) (Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("tfjs: parse manifest: %w: %v", ErrFormat, err)
	}
	return m, nil
}

// Decode returns the tensors of g, whose shards concatenated are data.
// Every byte of data must belong to a weight: a shard that is too short
// or too long means the manifest and the shards do not match.
func (g Group) Decode(data []byte) (map[string]Tensor, error) {
	out := make(map[string]Tensor, len(g.Weights))
	off := 0
	for _, w := range g.Weights {
		n, size, err := w.layout()
		if err != nil {
			return nil, err
		}
		if size > len(data)-off {
			return nil, fmt.Errorf("tfjs: decode %s: %w: needs %d bytes at %d, shards hold %d", w.Name, ErrFormat, size, off, len(data))
		}
		if _, dup := out[w.Name]; dup {
			return nil, fmt.Errorf("tfjs: decode: %w: weight %s twice", ErrFormat, w.Name)
		}
		t := Tensor{Shape: append([]int(nil), w.Shape...), Values: w.values(data[off:off+size], n)}
		if q := w.Quantization; q != nil && q.DType == "uint8" {
			t.Quantized = &Quantized{Q: append([]byte(nil), data[off:off+size]...), Scale: float32(q.Scale), Min: float32(q.Min)}
		}
		out[w.Name] = t
		off += size
	}
	if off != len(data) {
		return nil, fmt.Errorf("tfjs: decode: %w: %d bytes left over after the last weight", ErrFormat, len(data)-off)
	}
	return out, nil
}

// layout returns the element count and the stored size in bytes.
func (w Weight) layout() (n, size int, err error) {
	if w.DType != "float32" {
		return 0, 0, fmt.Errorf("tfjs: weight %s: %w: dtype %q (only float32 weights are used)", w.Name, ErrFormat, w.DType)
	}
	n = 1
	for _, d := range w.Shape {
		if d < 0 || (d > 0 && n > maxElements/d) {
			return 0, 0, fmt.Errorf("tfjs: weight %s: %w: shape %v", w.Name, ErrFormat, w.Shape)
		}
		n *= d
	}
	width := 4
	if q := w.Quantization; q != nil {
		switch q.DType {
		case "uint8":
			width = 1
		case "uint16", "float16":
			width = 2
		default:
			return 0, 0, fmt.Errorf("tfjs: weight %s: %w: quantization %q", w.Name, ErrFormat, q.DType)
		}
		if math.IsNaN(q.Scale) || math.IsInf(q.Scale, 0) || math.IsNaN(q.Min) || math.IsInf(q.Min, 0) {
			return 0, 0, fmt.Errorf("tfjs: weight %s: %w: quantization scale or min not finite", w.Name, ErrFormat)
		}
	}
	return n, n * width, nil
}

func (w Weight) values(b []byte, n int) []float32 {
	out := make([]float32, n)
	q := w.Quantization
	switch {
	case q == nil:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case q.DType == "uint8":
		for i := range out {
			out[i] = float32(float64(b[i])*q.Scale + q.Min)
		}
	case q.DType == "uint16":
		for i := range out {
			out[i] = float32(float64(binary.LittleEndian.Uint16(b[2*i:]))*q.Scale + q.Min)
		}
	case q.DType == "float16":
		for i := range out {
			out[i] = float16.Frombits(binary.LittleEndian.Uint16(b[2*i:])).Float32()
		}
	}
	return out
}

// Load reads the manifest dir/name-weights_manifest.json and its shards
// and decodes every group's weights.
func Load(dir, name string) (map[string]Tensor, error) {
	data, err := os.ReadFile(filepath.Join(dir, name+"-weights_manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("tfjs: %w", err)
	}
	m, err := ParseManifest(data)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Tensor)
	for _, g := range m {
		var shards []byte
		for _, p := range g.Paths {
			// Shard names come from the package: keep them inside dir.
			b, err := os.ReadFile(filepath.Join(dir, filepath.Base(p)))
			if err != nil {
				return nil, fmt.Errorf("tfjs: %w", err)
			}
			shards = append(shards, b...)
		}
		ts, err := g.Decode(shards)
		if err != nil {
			return nil, err
		}
		for k, v := range ts {
			out[k] = v
		}
	}
	return out, nil
}
