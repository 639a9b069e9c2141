package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"smartpass.city/smartpass/app/face/mobilefacenet"
	"smartpass.city/smartpass/app/face/model"
	"smartpass.city/smartpass/app/face/onnx"
	"smartpass.city/smartpass/app/face/tfjs"
)

// FeatureModel is the recognition network's file in the npm package
// faceplugin-face-recognition-js.
const FeatureModel = "model/fr_feature.onnx"

// addMobileFaceNet writes the network of fr_feature.onnx: its graph as
// mobilefacenet.Graph and its weights, published float32, as float16.
// Not 8-bit: with the batch norms folded into the filters each output
// channel has its own range, and one affine scale per tensor moved the
// embedding to cosine 0.873 of onnxruntime-web's float32 output, where
// float16 gives 0.99997 (TestMatchesONNXRuntime; the issue keeps 8 bits
// only within 1e-3). The file is 3.7 MB.
func addMobileFaceNet(b *model.Builder, dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, FeatureModel))
	if err != nil {
		return fmt.Errorf("modelconv: %w (run `make models`, which runs npm ci)", err)
	}
	m, err := onnx.Decode(data)
	if err != nil {
		return fmt.Errorf("modelconv: %s: %w", FeatureModel, err)
	}
	g, weights, err := graphOf(m)
	if err != nil {
		return fmt.Errorf("modelconv: %s: %w", FeatureModel, err)
	}
	enc, err := g.Encode()
	if err != nil {
		return err
	}
	b.AddRaw(mobilefacenet.GraphSection, enc)
	names := make([]string, 0, len(weights))
	for name := range weights {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := b.AddF16(name, weights[name].Shape, weights[name].Values); err != nil {
			return err
		}
	}
	return nil
}

// graphOf translates the ONNX graph into the operators package
// mobilefacenet runs, refusing any attribute it would not honour, and
// returns the weights it names.
func graphOf(m *onnx.Model) (mobilefacenet.Graph, map[string]tfjs.Tensor, error) {
	if len(m.Inputs) != 1 || len(m.Outputs) != 1 {
		return mobilefacenet.Graph{}, nil, fmt.Errorf("%d inputs and %d outputs, want one each", len(m.Inputs), len(m.Outputs))
	}
	g := mobilefacenet.Graph{Input: m.Inputs[0], Output: m.Outputs[0]}
	weights := map[string]tfjs.Tensor{}
	weight := func(name string) (string, error) {
		t, ok := m.Initializers[name]
		if !ok || t.Floats == nil {
			return "", fmt.Errorf("weight %q missing or not float32", name)
		}
		section := mobilefacenet.Prefix + name
		weights[section] = tfjs.Tensor{Shape: t.Dims, Values: t.Floats}
		return section, nil
	}
	for _, n := range m.Nodes {
		if len(n.Outputs) != 1 || len(n.Inputs) == 0 {
			return g, nil, fmt.Errorf("node %s (%s): %d outputs, %d inputs", n.Name, n.Op, len(n.Outputs), len(n.Inputs))
		}
		out := mobilefacenet.Node{In: n.Inputs[:1], Out: n.Outputs[0]}
		var err error
		switch n.Op {
		case "Conv":
			out.Op = mobilefacenet.OpConv
			if len(n.Inputs) != 3 {
				return g, nil, fmt.Errorf("conv %s without a bias", n.Name)
			}
			if out.Stride, out.Pad, out.Group, err = convAttrs(n); err != nil {
				return g, nil, err
			}
			if out.Weights, err = weight(n.Inputs[1]); err != nil {
				return g, nil, err
			}
			out.Bias, err = weight(n.Inputs[2])
		case "PRelu":
			out.Op = mobilefacenet.OpPRelu
			if len(n.Inputs) != 2 {
				return g, nil, fmt.Errorf("prelu %s: %d inputs", n.Name, len(n.Inputs))
			}
			out.Weights, err = weight(n.Inputs[1])
		case "Add":
			out.Op, out.In = mobilefacenet.OpAdd, n.Inputs
		case "Reshape", "Flatten":
			// The last node makes the 1x1x512 activation the 512 outputs;
			// mobilefacenet checks it is one pixel.
			out.Op = mobilefacenet.OpFlatten
		default:
			return g, nil, fmt.Errorf("operator %s (node %s) not supported", n.Op, n.Name)
		}
		if err != nil {
			return g, nil, err
		}
		g.Nodes = append(g.Nodes, out)
	}
	return g, weights, nil
}

// convAttrs reads a convolution's attributes, refusing what package
// mobilefacenet does not do: dilation, unequal strides or padding.
func convAttrs(n onnx.Node) (stride, pad, group int, err error) {
	same := func(name string, v []int64, want int) (int, error) {
		if len(v) == 0 {
			return 0, fmt.Errorf("conv %s: %s missing", n.Name, name)
		}
		for _, x := range v {
			if x != v[0] || (want >= 0 && int(x) != want) {
				return 0, fmt.Errorf("conv %s: %s %v not supported", n.Name, name, v)
			}
		}
		return int(v[0]), nil
	}
	if d, ok := n.Attrs["dilations"]; ok {
		if _, err := same("dilations", d.Ints, 1); err != nil {
			return 0, 0, 0, err
		}
	}
	if a, ok := n.Attrs["auto_pad"]; ok && a.String != "" && a.String != "NOTSET" {
		return 0, 0, 0, fmt.Errorf("conv %s: auto_pad %s not supported", n.Name, a.String)
	}
	if stride, err = same("strides", n.Attrs["strides"].Ints, -1); err != nil {
		return 0, 0, 0, err
	}
	pads := n.Attrs["pads"].Ints
	if len(pads) == 0 {
		pads = []int64{0}
	}
	if pad, err = same("pads", pads, -1); err != nil {
		return 0, 0, 0, err
	}
	group = 1
	if gr, ok := n.Attrs["group"]; ok {
		group = int(gr.Int)
	}
	return stride, pad, group, nil
}
