package mobilefacenet

import (
	"encoding/json"
	"fmt"
)

// Operators a Graph may use: the whole of what the published network is
// made of (its batch norms are folded into the convolutions).
const (
	OpConv    = "conv"    // convolution, dense (Group 1) or depthwise (Group = channels)
	OpPRelu   = "prelu"   // x if x > 0, else slope[c]*x
	OpAdd     = "add"     // element-wise sum of two values (a residual)
	OpFlatten = "flatten" // a 1x1xC value as the C outputs
)

// Graph is the network as the model file describes it: its operators in
// the order they run, each reading and writing named values. The file's
// checksum vouches for it; New checks that it is a network this package
// can run before it allocates anything.
type Graph struct {
	// Input names the network's input, Output its result.
	Input, Output string
	Nodes         []Node
}

// Node is one operator.
type Node struct {
	Op  string   `json:"op"`
	In  []string `json:"in"`
	Out string   `json:"out"`
	// Weights names the tensor section: a convolution's filters (shape
	// cout, cin/group, k, k, as ONNX lays them out) or a PRelu's slopes.
	Weights string `json:"weights,omitempty"`
	// Bias names a convolution's bias section (cout values).
	Bias string `json:"bias,omitempty"`
	// Stride, Pad (zeros on every side) and Group of a convolution.
	Stride int `json:"stride,omitempty"`
	Pad    int `json:"pad,omitempty"`
	Group  int `json:"group,omitempty"`
}

// Encode returns the graph as the model file's GraphSection holds it.
func (g Graph) Encode() ([]byte, error) {
	b, err := json.Marshal(g)
	if err != nil {
		return nil, fmt.Errorf("mobilefacenet: encode graph: %w", err)
	}
	return b, nil
}

func decodeGraph(b []byte) (Graph, error) {
	var g Graph
	if err := json.Unmarshal(b, &g); err != nil {
		return Graph{}, fmt.Errorf("%w: graph: %w", ErrModel, err)
	}
	return g, nil
}
