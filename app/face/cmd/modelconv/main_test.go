package main

import (
	"testing"

	"smartpass.city/smartpass/app/face/model"
	"smartpass.city/smartpass/app/face/tfjs"
)

// TestAddWeightsKeepsPrecision checks that a weight published 8-bit is
// stored byte for byte with its scale and minimum, a small float32 one as
// float16, and a large float32 one quantised.
func TestAddWeightsKeepsPrecision(t *testing.T) {
	w := map[string]tfjs.Tensor{
		"q": {Shape: []int{3}, Values: []float32{-1, 0, 126.5}, Quantized: &tfjs.Quantized{Q: []byte{0, 2, 255}, Scale: 0.5, Min: -1}},
		"f": {Shape: []int{2}, Values: []float32{0.1, -3}},
	}
	b := model.NewBuilder(model.Header{Name: "t", Input: 1, Scale: 1})
	if err := addWeights(b, w, []string{"q", "f"}); err != nil {
		t.Fatal(err)
	}
	data, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	f, err := model.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, s := range f.Sections {
		kinds[s.Name] = s.Kind
	}
	if kinds["q"] != model.KindU8 || kinds["f"] != model.KindF16 {
		t.Fatalf("stored as %v", kinds)
	}
	for name, want := range map[string][]float32{"q": {-1, 0, 126.5}, "f": {0.1, -3}} {
		got, _, err := f.Tensor(name)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if d := got[i] - want[i]; d > 1e-4 || d < -1e-4 {
				t.Errorf("%s[%d] = %g, want %g", name, i, got[i], want[i])
			}
		}
	}
	// A large float32 weight is quantised here: 8-bit, each value within
	// half a step of the original.
	big := make([]float32, quantizeAbove)
	for i := range big {
		big[i] = float32(i%97)/10 - 3
	}
	w["big"] = tfjs.Tensor{Shape: []int{len(big)}, Values: big}
	b = model.NewBuilder(model.Header{Name: "t", Input: 1, Scale: 1})
	if err := addWeights(b, w, []string{"big"}); err != nil {
		t.Fatal(err)
	}
	data, _ = b.Bytes()
	f, err = model.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := f.Tensor("big")
	if err != nil || f.Sections[0].Kind != model.KindU8 {
		t.Fatalf("big weight stored as %s: %v", f.Sections[0].Kind, err)
	}
	step := f.Sections[0].Scale
	for i := range big {
		if d := got[i] - big[i]; d > step/2+1e-6 || d < -step/2-1e-6 {
			t.Fatalf("big[%d] = %g, want %g within %g", i, got[i], big[i], step/2)
		}
	}
	if err := addWeights(b, w, []string{"missing"}); err == nil {
		t.Error("missing weight accepted")
	}
}
