// Package onnx reads the parts of an ONNX model file (a protobuf
// ModelProto) that a converter needs: the graph's nodes in order, with
// their attributes, and its float32 initializers (the weights). It is
// used at build time by modelconv to turn a published network into the
// project's own model file, never on a terminal.
//
// Only what the face networks use is decoded; fields this package does
// not know are skipped, as protobuf allows. A tensor stored outside the
// file (external data) or of a type other than float32 and int64 is
// refused with ErrUnsupported rather than guessed at.
package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Model is the decoded graph.
type Model struct {
	Nodes []Node
	// Initializers are the graph's constant tensors by name.
	Initializers map[string]Tensor
	// Inputs and Outputs name the graph's inputs (initializers excluded)
	// and outputs.
	Inputs, Outputs []string
}

// Node is one operator.
type Node struct {
	Name    string
	Op      string
	Inputs  []string
	Outputs []string
	Attrs   map[string]Attr
}

// Attr is an attribute's value: the field its type uses is set.
type Attr struct {
	Int    int64
	Float  float32
	Ints   []int64
	Floats []float32
	Tensor *Tensor
	String string
}

// Tensor is a constant: float32 values in Floats, or int64 in Ints.
type Tensor struct {
	Name   string
	Dims   []int
	Floats []float32
	Ints   []int64
}

// ONNX tensor element types this package reads.
const (
	typeFloat = 1
	typeInt64 = 7
)

// Errors wrapped by Decode.
var (
	ErrFormat      = errors.New("onnx: malformed model")
	ErrUnsupported = errors.New("onnx: unsupported content")
)

// maxElements bounds a tensor's size so a corrupt shape cannot make the
// reader allocate without limit.
const maxElements = 1 << 28

// Decode parses an ONNX ModelProto.
func Decode(data []byte) (*Model, error) {
	m := &Model{Initializers: make(map[string]Tensor)}
	var graph []byte
	err := fields(data, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num == 7 && typ == protowire.BytesType { // ModelProto.graph
			graph = v
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if graph == nil {
		return nil, fmt.Errorf("%w: no graph", ErrFormat)
	}
	var inputs []string
	err = fields(graph, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1: // GraphProto.node
			n, err := decodeNode(v)
			if err != nil {
				return err
			}
			m.Nodes = append(m.Nodes, n)
		case 5: // GraphProto.initializer
			t, err := decodeTensor(v)
			if err != nil {
				return err
			}
			m.Initializers[t.Name] = t
		case 11, 12: // GraphProto.input, output (ValueInfoProto)
			name, err := valueName(v)
			if err != nil {
				return err
			}
			if num == 11 {
				inputs = append(inputs, name)
			} else {
				m.Outputs = append(m.Outputs, name)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, in := range inputs {
		if _, isWeight := m.Initializers[in]; !isWeight {
			m.Inputs = append(m.Inputs, in)
		}
	}
	return m, nil
}

// fields calls fn for each field of a message: v holds a bytes field's
// contents, x a varint or fixed field's value.
func fields(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%w: %w", ErrFormat, protowire.ParseError(n))
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var x32 uint32
			x32, n = protowire.ConsumeFixed32(b)
			x = uint64(x32)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("%w: field %d: %w", ErrFormat, num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

func valueName(b []byte) (string, error) {
	var name string
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num == 1 && typ == protowire.BytesType {
			name = string(v)
		}
		return nil
	})
	return name, err
}

func decodeNode(b []byte) (Node, error) {
	n := Node{Attrs: make(map[string]Attr)}
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1:
			n.Inputs = append(n.Inputs, string(v))
		case 2:
			n.Outputs = append(n.Outputs, string(v))
		case 3:
			n.Name = string(v)
		case 4:
			n.Op = string(v)
		case 5:
			name, a, err := decodeAttr(v)
			if err != nil {
				return err
			}
			n.Attrs[name] = a
		}
		return nil
	})
	if err != nil {
		return Node{}, err
	}
	if n.Op == "" {
		return Node{}, fmt.Errorf("%w: node %q without an operator", ErrFormat, n.Name)
	}
	return n, nil
}

func decodeAttr(b []byte) (string, Attr, error) {
	var name string
	var a Attr
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			name = string(v)
		case num == 2 && typ == protowire.Fixed32Type:
			a.Float = math.Float32frombits(uint32(x))
		case num == 3 && typ == protowire.VarintType:
			a.Int = int64(x)
		case num == 4 && typ == protowire.BytesType:
			a.String = string(v)
		case num == 5 && typ == protowire.BytesType:
			t, err := decodeTensor(v)
			if err != nil {
				return err
			}
			a.Tensor = &t
		case num == 7:
			fs, err := floats(typ, v, x)
			if err != nil {
				return err
			}
			a.Floats = append(a.Floats, fs...)
		case num == 8:
			is, err := varints(typ, v, x)
			if err != nil {
				return err
			}
			a.Ints = append(a.Ints, is...)
		}
		return nil
	})
	return name, a, err
}

// floats reads a repeated float field, packed or one value.
func floats(typ protowire.Type, v []byte, x uint64) ([]float32, error) {
	switch typ {
	case protowire.Fixed32Type:
		return []float32{math.Float32frombits(uint32(x))}, nil
	case protowire.BytesType:
		if len(v)%4 != 0 {
			return nil, fmt.Errorf("%w: packed floats of %d bytes", ErrFormat, len(v))
		}
		out := make([]float32, len(v)/4)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(v[4*i:]))
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: float field of wire type %d", ErrFormat, typ)
}

// varints reads a repeated int64 field, packed or one value.
func varints(typ protowire.Type, v []byte, x uint64) ([]int64, error) {
	switch typ {
	case protowire.VarintType:
		return []int64{int64(x)}, nil
	case protowire.BytesType:
		var out []int64
		for len(v) > 0 {
			x, n := protowire.ConsumeVarint(v)
			if n < 0 {
				return nil, fmt.Errorf("%w: packed ints: %w", ErrFormat, protowire.ParseError(n))
			}
			out = append(out, int64(x))
			v = v[n:]
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: int field of wire type %d", ErrFormat, typ)
}

func decodeTensor(b []byte) (Tensor, error) {
	var t Tensor
	var dtype uint64
	var raw []byte
	var external bool
	var fs []float32
	var is []int64
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1:
			ds, err := varints(typ, v, x)
			if err != nil {
				return err
			}
			for _, d := range ds {
				if d < 0 || d > maxElements {
					return fmt.Errorf("%w: dimension %d", ErrFormat, d)
				}
				t.Dims = append(t.Dims, int(d))
			}
		case 2:
			dtype = x
		case 4:
			f, err := floats(typ, v, x)
			if err != nil {
				return err
			}
			fs = append(fs, f...)
		case 7:
			i, err := varints(typ, v, x)
			if err != nil {
				return err
			}
			is = append(is, i...)
		case 8:
			t.Name = string(v)
		case 9:
			raw = v
		case 13:
			external = true
		case 14:
			external = external || x == 1
		}
		return nil
	})
	if err != nil {
		return Tensor{}, err
	}
	if external {
		return Tensor{}, fmt.Errorf("%w: tensor %q stored outside the file", ErrUnsupported, t.Name)
	}
	n := 1
	for _, d := range t.Dims {
		if d > 0 && n > maxElements/d {
			return Tensor{}, fmt.Errorf("%w: tensor %q of shape %v", ErrFormat, t.Name, t.Dims)
		}
		n *= d
	}
	switch dtype {
	case typeFloat:
		if raw != nil {
			if len(raw) != 4*n {
				return Tensor{}, fmt.Errorf("%w: tensor %q: %d bytes for shape %v", ErrFormat, t.Name, len(raw), t.Dims)
			}
			fs = make([]float32, n)
			for i := range fs {
				fs[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		}
		if len(fs) != n {
			return Tensor{}, fmt.Errorf("%w: tensor %q: %d values for shape %v", ErrFormat, t.Name, len(fs), t.Dims)
		}
		t.Floats = fs
	case typeInt64:
		if raw != nil {
			if len(raw) != 8*n {
				return Tensor{}, fmt.Errorf("%w: tensor %q: %d bytes for shape %v", ErrFormat, t.Name, len(raw), t.Dims)
			}
			is = make([]int64, n)
			for i := range is {
				is[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
			}
		}
		if len(is) != n {
			return Tensor{}, fmt.Errorf("%w: tensor %q: %d values for shape %v", ErrFormat, t.Name, len(is), t.Dims)
		}
		t.Ints = is
	default:
		return Tensor{}, fmt.Errorf("%w: tensor %q of element type %d", ErrUnsupported, t.Name, dtype)
	}
	return t, nil
}
