package main

import (
	"reflect"
	"testing"

	"smartpass.city/smartpass/app/face/mobilefacenet"
	"smartpass.city/smartpass/app/face/onnx"
)

// tiny is a two-layer ONNX graph as onnx.Decode returns one: a 3x3
// depthwise convolution with its bias, a PRelu and the final Reshape.
func tiny() *onnx.Model {
	ints := func(v ...int64) onnx.Attr { return onnx.Attr{Ints: v} }
	return &onnx.Model{
		Inputs: []string{"input"}, Outputs: []string{"output"},
		Initializers: map[string]onnx.Tensor{
			"w":     {Name: "w", Dims: []int{4, 1, 3, 3}, Floats: make([]float32, 36)},
			"b":     {Name: "b", Dims: []int{4}, Floats: make([]float32, 4)},
			"slope": {Name: "slope", Dims: []int{4, 1, 1}, Floats: make([]float32, 4)},
			"shape": {Name: "shape", Dims: []int{2}, Ints: []int64{1, 4}},
		},
		Nodes: []onnx.Node{
			{Name: "c", Op: "Conv", Inputs: []string{"input", "w", "b"}, Outputs: []string{"x"}, Attrs: map[string]onnx.Attr{
				"group": {Int: 4}, "strides": ints(2, 2), "pads": ints(1, 1, 1, 1), "dilations": ints(1, 1), "kernel_shape": ints(3, 3)}},
			{Name: "p", Op: "PRelu", Inputs: []string{"x", "slope"}, Outputs: []string{"y"}},
			{Name: "r", Op: "Reshape", Inputs: []string{"y", "shape"}, Outputs: []string{"output"}},
		},
	}
}

func TestGraphOf(t *testing.T) {
	g, w, err := graphOf(tiny())
	if err != nil {
		t.Fatal(err)
	}
	want := mobilefacenet.Graph{Input: "input", Output: "output", Nodes: []mobilefacenet.Node{
		{Op: mobilefacenet.OpConv, In: []string{"input"}, Out: "x", Weights: "mobilefacenet/w", Bias: "mobilefacenet/b", Stride: 2, Pad: 1, Group: 4},
		{Op: mobilefacenet.OpPRelu, In: []string{"x"}, Out: "y", Weights: "mobilefacenet/slope"},
		{Op: mobilefacenet.OpFlatten, In: []string{"y"}, Out: "output"},
	}}
	if !reflect.DeepEqual(g, want) {
		t.Errorf("graph\n%+v\nwant\n%+v", g, want)
	}
	if len(w) != 3 || !reflect.DeepEqual(w["mobilefacenet/w"].Shape, []int{4, 1, 3, 3}) {
		t.Errorf("weights %v", w)
	}
}

// TestGraphOfRefuses checks that what the Go port would compute
// differently is refused at conversion rather than converted wrong.
func TestGraphOfRefuses(t *testing.T) {
	cases := []struct {
		name string
		edit func(m *onnx.Model)
	}{
		{"dilation", func(m *onnx.Model) { m.Nodes[0].Attrs["dilations"] = onnx.Attr{Ints: []int64{2, 2}} }},
		{"unequal strides", func(m *onnx.Model) { m.Nodes[0].Attrs["strides"] = onnx.Attr{Ints: []int64{1, 2}} }},
		{"asymmetric padding", func(m *onnx.Model) { m.Nodes[0].Attrs["pads"] = onnx.Attr{Ints: []int64{0, 0, 1, 1}} }},
		{"auto padding", func(m *onnx.Model) { m.Nodes[0].Attrs["auto_pad"] = onnx.Attr{String: "SAME_UPPER"} }},
		{"no strides", func(m *onnx.Model) { delete(m.Nodes[0].Attrs, "strides") }},
		{"no bias", func(m *onnx.Model) { m.Nodes[0].Inputs = m.Nodes[0].Inputs[:2] }},
		{"weights missing", func(m *onnx.Model) { delete(m.Initializers, "slope") }},
		{"int64 weights", func(m *onnx.Model) { m.Nodes[1].Inputs[1] = "shape" }},
		{"unknown operator", func(m *onnx.Model) { m.Nodes[1].Op = "Sigmoid" }},
		{"two inputs", func(m *onnx.Model) { m.Inputs = append(m.Inputs, "other") }},
	}
	for _, c := range cases {
		m := tiny()
		c.edit(m)
		if _, _, err := graphOf(m); err == nil {
			t.Errorf("%s accepted", c.name)
		}
	}
}
