// Package model is Smart Pass's own file format for the face models a
// terminal downloads: named sections of 8-bit affine-quantised or float16
// weights, or raw bytes (the detector's cascades), a JSON header that says which network the weights
// belong to and how its input is prepared, and a SHA-256 checksum over
// everything.
//
// The format exists so that a terminal never runs weights it cannot vouch
// for: a file whose checksum, format version or model name does not match
// is refused before a single weight is used, and the model name travels
// with every template made from it (see package template), so templates of
// two networks are never compared.
//
// Layout:
//
//	magic     8 bytes  "SPMODEL\n"
//	version   2 bytes  big-endian, FormatVersion
//	hlen      4 bytes  big-endian length of the header
//	header    hlen bytes of JSON (Header)
//	body      the sections, each at its Offset from the start of the body
//	checksum  32 bytes SHA-256 of everything before it
package model

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/x448/float16"
)

// FormatVersion is the layout version this package reads and writes.
// Version 2 added 8-bit sections (KindU8); a version 1 file is refused,
// so a terminal holding one downloads the new file.
const FormatVersion = 2

const magic = "SPMODEL\n"

// maxHeader bounds the JSON header so a corrupt length cannot make the
// reader allocate gigabytes.
const maxHeader = 1 << 20

// Section kinds.
const (
	// KindF16 is a tensor of float16 values, little-endian, in the
	// row-major order of its Shape.
	KindF16 = "f16"
	// KindU8 is a tensor of 8-bit values q, one byte each in the
	// row-major order of its Shape, standing for q*Scale + Min: the form
	// in which the network's publisher quantised it, kept as it is so the
	// file stays small and no precision is lost converting it.
	KindU8 = "u8"
	// KindRaw is opaque bytes, such as a detector cascade.
	KindRaw = "raw"
)

// Header describes a model file.
type Header struct {
	// Name identifies the network and its weights, such as
	// "dlib-resnet29/face-api-1.7.15". Templates carry it.
	Name string `json:"name"`
	// Source says where the weights came from, for people.
	Source string `json:"source,omitempty"`
	// Input is the side of the square input crop in pixels.
	Input int `json:"input"`
	// Mean is subtracted from each RGB channel (0–255 scale) and the
	// result divided by Scale before the first layer.
	Mean  [3]float32 `json:"mean"`
	Scale float32    `json:"scale"`
	// Sections lists the body's contents.
	Sections []Section `json:"sections"`
}

// Section is one named tensor or blob in the body.
type Section struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Shape  []int  `json:"shape,omitempty"`
	Offset int    `json:"offset"`
	Length int    `json:"length"`
	// Scale and Min dequantise a KindU8 section: value = q*Scale + Min.
	Scale float32 `json:"scale,omitempty"`
	Min   float32 `json:"min,omitempty"`
}

// File is a decoded, checked model file.
type File struct {
	Header
	body  []byte
	index map[string]int
}

// Errors wrapped by Decode and the accessors.
var (
	ErrFormat   = errors.New("not a Smart Pass model file")
	ErrVersion  = errors.New("model file format version not supported")
	ErrChecksum = errors.New("model file checksum mismatch (damaged or incomplete download)")
	ErrSection  = errors.New("model section missing or of the wrong kind")
)

// Builder assembles a model file.
type Builder struct {
	h    Header
	body bytes.Buffer
}

// NewBuilder starts a file with h's fields; its Sections are replaced by
// those added.
func NewBuilder(h Header) *Builder {
	h.Sections = nil
	return &Builder{h: h}
}

// AddF16 appends a float16 tensor of the given shape.
func (b *Builder) AddF16(name string, shape []int, values []float32) error {
	if n := elements(shape); n != len(values) {
		return fmt.Errorf("model: section %s: shape %v holds %d values, got %d", name, shape, n, len(values))
	}
	off := b.body.Len()
	var two [2]byte
	for _, v := range values {
		binary.LittleEndian.PutUint16(two[:], float16.Fromfloat32(v).Bits())
		b.body.Write(two[:])
	}
	b.h.Sections = append(b.h.Sections, Section{Name: name, Kind: KindF16, Shape: append([]int(nil), shape...), Offset: off, Length: 2 * len(values)})
	return nil
}

// AddU8 appends an 8-bit tensor of the given shape whose values are
// q*scale + min.
func (b *Builder) AddU8(name string, shape []int, q []byte, scale, min float32) error {
	if n := elements(shape); n != len(q) {
		return fmt.Errorf("model: section %s: shape %v holds %d values, got %d", name, shape, n, len(q))
	}
	if !finite(scale) || !finite(min) {
		return fmt.Errorf("model: section %s: scale %g or min %g not finite", name, scale, min)
	}
	b.h.Sections = append(b.h.Sections, Section{Name: name, Kind: KindU8, Shape: append([]int(nil), shape...), Offset: b.body.Len(), Length: len(q), Scale: scale, Min: min})
	b.body.Write(q)
	return nil
}

func finite(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }

// AddRaw appends opaque bytes.
func (b *Builder) AddRaw(name string, data []byte) {
	b.h.Sections = append(b.h.Sections, Section{Name: name, Kind: KindRaw, Offset: b.body.Len(), Length: len(data)})
	b.body.Write(data)
}

// Bytes returns the encoded file.
func (b *Builder) Bytes() ([]byte, error) {
	hdr, err := json.Marshal(b.h)
	if err != nil {
		return nil, fmt.Errorf("model: encode header: %w", err)
	}
	var out bytes.Buffer
	out.WriteString(magic)
	binary.Write(&out, binary.BigEndian, uint16(FormatVersion))
	binary.Write(&out, binary.BigEndian, uint32(len(hdr)))
	out.Write(hdr)
	out.Write(b.body.Bytes())
	sum := sha256.Sum256(out.Bytes())
	out.Write(sum[:])
	return out.Bytes(), nil
}

// Decode checks and parses a model file. The returned File refers to data
// and does not copy it.
func Decode(data []byte) (*File, error) {
	const fixed = len(magic) + 2 + 4
	if len(data) < fixed+sha256.Size || string(data[:len(magic)]) != magic {
		return nil, fmt.Errorf("model: decode: %w", ErrFormat)
	}
	if v := binary.BigEndian.Uint16(data[len(magic):]); v != FormatVersion {
		return nil, fmt.Errorf("model: decode: %w: file is version %d, this program reads %d", ErrVersion, v, FormatVersion)
	}
	end := len(data) - sha256.Size
	if sum := sha256.Sum256(data[:end]); !bytes.Equal(sum[:], data[end:]) {
		return nil, fmt.Errorf("model: decode: %w", ErrChecksum)
	}
	hlen := int(binary.BigEndian.Uint32(data[len(magic)+2:]))
	if hlen > maxHeader || hlen > end-fixed {
		return nil, fmt.Errorf("model: decode: %w: header of %d bytes", ErrFormat, hlen)
	}
	f := &File{body: data[fixed+hlen : end], index: make(map[string]int)}
	if err := json.Unmarshal(data[fixed:fixed+hlen], &f.Header); err != nil {
		return nil, fmt.Errorf("model: decode header: %w: %v", ErrFormat, err)
	}
	if f.Name == "" || f.Input <= 0 || f.Scale == 0 {
		return nil, fmt.Errorf("model: decode: %w: header lacks name, input size or scale", ErrFormat)
	}
	for i, s := range f.Sections {
		if err := s.check(len(f.body)); err != nil {
			return nil, fmt.Errorf("model: decode: %w", err)
		}
		if _, dup := f.index[s.Name]; dup {
			return nil, fmt.Errorf("model: decode: %w: section %q twice", ErrFormat, s.Name)
		}
		f.index[s.Name] = i
	}
	return f, nil
}

func (s Section) check(bodyLen int) error {
	if s.Offset < 0 || s.Length < 0 || s.Offset > bodyLen || s.Length > bodyLen-s.Offset {
		return fmt.Errorf("%w: section %q outside the body", ErrFormat, s.Name)
	}
	switch s.Kind {
	case KindRaw:
		return nil
	case KindF16, KindU8:
		width := 2
		if s.Kind == KindU8 {
			width = 1
			if !finite(s.Scale) || !finite(s.Min) {
				return fmt.Errorf("%w: section %q: scale or min not finite", ErrFormat, s.Name)
			}
		}
		if n := elements(s.Shape); n < 0 || width*n != s.Length {
			return fmt.Errorf("%w: section %q: shape %v does not fit %d bytes", ErrFormat, s.Name, s.Shape, s.Length)
		}
		return nil
	}
	return fmt.Errorf("%w: section %q of unknown kind %q", ErrFormat, s.Name, s.Kind)
}

// elements is the product of shape, or -1 if a dimension is negative or
// the product would overflow what a file can hold.
func elements(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 || (d > 0 && n > math.MaxInt32/d) {
			return -1
		}
		n *= d
	}
	return n
}

// Tensor returns the float32 values and shape of a float16 or 8-bit
// section; 8-bit values are dequantised here, once, at load.
func (f *File) Tensor(name string) ([]float32, []int, error) {
	i, ok := f.index[name]
	if !ok || (f.Sections[i].Kind != KindF16 && f.Sections[i].Kind != KindU8) {
		return nil, nil, fmt.Errorf("model %s: %w: %s (tensor)", f.Name, ErrSection, name)
	}
	s := f.Sections[i]
	raw := f.body[s.Offset : s.Offset+s.Length]
	if s.Kind == KindU8 {
		out := make([]float32, len(raw))
		for i, q := range raw {
			out[i] = float32(q)*s.Scale + s.Min
		}
		return out, s.Shape, nil
	}
	out := make([]float32, len(raw)/2)
	for i := range out {
		out[i] = float16.Frombits(binary.LittleEndian.Uint16(raw[2*i:])).Float32()
	}
	return out, s.Shape, nil
}

// Has reports whether the file holds a section of that name, for a
// reader whose layout has optional parts.
func (f *File) Has(name string) bool {
	_, ok := f.index[name]
	return ok
}

// Raw returns the bytes of a raw section.
func (f *File) Raw(name string) ([]byte, error) {
	i, ok := f.index[name]
	if !ok || f.Sections[i].Kind != KindRaw {
		return nil, fmt.Errorf("model %s: %w: %s (%s)", f.Name, ErrSection, name, KindRaw)
	}
	s := f.Sections[i]
	return f.body[s.Offset : s.Offset+s.Length], nil
}
