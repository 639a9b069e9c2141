package onnx

import (
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// message builds protobuf bytes field by field, as an ONNX exporter
// writes them.
type message []byte

func (m message) bytes(num protowire.Number, v []byte) message {
	b := protowire.AppendTag(m, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func (m message) str(num protowire.Number, s string) message { return m.bytes(num, []byte(s)) }

func (m message) varint(num protowire.Number, v uint64) message {
	b := protowire.AppendTag(m, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func (m message) fixed32(num protowire.Number, v uint32) message {
	b := protowire.AppendTag(m, num, protowire.Fixed32Type)
	return protowire.AppendFixed32(b, v)
}

// packed encodes int64 values as a packed repeated field's contents.
func packed(vs ...int64) []byte {
	var b []byte
	for _, v := range vs {
		b = protowire.AppendVarint(b, uint64(v))
	}
	return b
}

func rawFloats(vs ...float32) []byte {
	b := make([]byte, 4*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// sample is a two-node graph: a 1x1 convolution (its weights raw bytes,
// its bias packed float_data, its attributes packed and unpacked) and a
// Reshape whose shape is an int64 initializer; an unknown field in every
// message, which a reader must skip.
func sample() []byte {
	conv := message{}.str(1, "x").str(1, "w").str(1, "b").str(2, "y").str(3, "conv0").str(4, "Conv").
		bytes(5, message{}.str(1, "strides").bytes(8, packed(2, 2)).varint(20, 7)).
		bytes(5, message{}.str(1, "pads").varint(8, 1).varint(8, 1).varint(8, 1).varint(8, 1)).
		bytes(5, message{}.str(1, "group").varint(3, 1)).
		bytes(5, message{}.str(1, "alpha").fixed32(2, math.Float32bits(0.25))).
		varint(99, 1)
	reshape := message{}.str(1, "y").str(1, "shape").str(2, "out").str(4, "Reshape")
	w := message{}.bytes(1, packed(2, 1, 1, 1)).varint(2, typeFloat).str(8, "w").bytes(9, rawFloats(1.5, -2))
	b := message{}.varint(1, 2).varint(2, typeFloat).str(8, "b").bytes(4, rawFloats(0.5, 0.25))
	shape := message{}.varint(1, 2).varint(2, typeInt64).str(8, "shape").bytes(7, packed(1, 2))
	graph := message{}.bytes(1, conv).bytes(1, reshape).str(2, "g").
		bytes(5, w).bytes(5, b).bytes(5, shape).
		bytes(11, message{}.str(1, "x")).bytes(11, message{}.str(1, "w")).
		bytes(12, message{}.str(1, "out")).varint(99, 3)
	return message{}.varint(1, 8).str(2, "exporter").bytes(7, graph)
}

func TestDecode(t *testing.T) {
	m, err := Decode(sample())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.Inputs, []string{"x"}) || !reflect.DeepEqual(m.Outputs, []string{"out"}) {
		t.Errorf("inputs %v, outputs %v (initializers are not inputs)", m.Inputs, m.Outputs)
	}
	if len(m.Nodes) != 2 || m.Nodes[0].Op != "Conv" || m.Nodes[1].Op != "Reshape" {
		t.Fatalf("nodes %+v", m.Nodes)
	}
	conv := m.Nodes[0]
	if !reflect.DeepEqual(conv.Inputs, []string{"x", "w", "b"}) || !reflect.DeepEqual(conv.Outputs, []string{"y"}) || conv.Name != "conv0" {
		t.Errorf("conv %+v", conv)
	}
	attrs := []struct {
		name string
		want Attr
	}{
		{"strides", Attr{Ints: []int64{2, 2}}},
		{"pads", Attr{Ints: []int64{1, 1, 1, 1}}},
		{"group", Attr{Int: 1}},
		{"alpha", Attr{Float: 0.25}},
	}
	for _, a := range attrs {
		if got := conv.Attrs[a.name]; !reflect.DeepEqual(got, a.want) {
			t.Errorf("attribute %s = %+v, want %+v", a.name, got, a.want)
		}
	}
	tensors := []struct {
		name string
		want Tensor
	}{
		{"w", Tensor{Name: "w", Dims: []int{2, 1, 1, 1}, Floats: []float32{1.5, -2}}},
		{"b", Tensor{Name: "b", Dims: []int{2}, Floats: []float32{0.5, 0.25}}},
		{"shape", Tensor{Name: "shape", Dims: []int{2}, Ints: []int64{1, 2}}},
	}
	for _, c := range tensors {
		if got := m.Initializers[c.name]; !reflect.DeepEqual(got, c.want) {
			t.Errorf("initializer %s = %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	tensorModel := func(t message) []byte {
		return message{}.bytes(7, message{}.bytes(5, t))
	}
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrFormat},
		{"no graph", message{}.varint(1, 8), ErrFormat},
		{"truncated", sample()[:len(sample())-3], ErrFormat},
		{"not protobuf", []byte{0xff, 0xff, 0xff}, ErrFormat},
		{"node without operator", message{}.bytes(7, message{}.bytes(1, message{}.str(1, "x"))), ErrFormat},
		{"raw data of the wrong size", tensorModel(message{}.varint(1, 3).varint(2, typeFloat).bytes(9, rawFloats(1, 2))), ErrFormat},
		{"too few values", tensorModel(message{}.varint(1, 3).varint(2, typeFloat).bytes(4, rawFloats(1))), ErrFormat},
		{"huge shape", tensorModel(message{}.varint(1, 1<<27).varint(1, 1<<27).varint(2, typeFloat)), ErrFormat},
		{"negative dimension", tensorModel(message{}.varint(1, math.MaxUint64).varint(2, typeFloat)), ErrFormat},
		{"float64 tensor", tensorModel(message{}.varint(1, 1).varint(2, 11).bytes(9, make([]byte, 8))), ErrUnsupported},
		{"external data", tensorModel(message{}.varint(1, 1).varint(2, typeFloat).varint(14, 1)), ErrUnsupported},
	}
	for _, c := range cases {
		if _, err := Decode(c.data); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

// FuzzDecode checks that no input makes the reader panic or return a
// tensor whose values do not fill its shape.
func FuzzDecode(f *testing.F) {
	f.Add(sample())
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err != nil {
			return
		}
		for name, ts := range m.Initializers {
			n := 1
			for _, d := range ts.Dims {
				n *= d
			}
			if len(ts.Floats) != n && len(ts.Ints) != n {
				t.Fatalf("initializer %s: shape %v, %d floats, %d ints", name, ts.Dims, len(ts.Floats), len(ts.Ints))
			}
		}
	})
}
