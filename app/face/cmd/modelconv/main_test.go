package main

import (
	"testing"

	"smartpass.city/smartpass/app/face/tfjs"
)

// TestFold checks the folding identity on one output pixel:
// (Σ x·w + b)·s + t must equal Σ x·(w·s) + (b·s + t).
func TestFold(t *testing.T) {
	w := map[string]tfjs.Tensor{
		"l/conv/filters":  {Shape: []int{1, 1, 2, 2}, Values: []float32{1, 2, 3, 4}}, // [cin][cout]
		"l/conv/bias":     {Shape: []int{2}, Values: []float32{0.5, -1}},
		"l/scale/weights": {Shape: []int{2}, Values: []float32{2, 10}},
		"l/scale/biases":  {Shape: []int{2}, Values: []float32{1, 3}},
	}
	f, b, err := fold(w, "l")
	if err != nil {
		t.Fatal(err)
	}
	x := []float32{0.25, -2}
	for co := range 2 {
		want := (x[0]*w["l/conv/filters"].Values[co]+x[1]*w["l/conv/filters"].Values[2+co]+w["l/conv/bias"].Values[co])*w["l/scale/weights"].Values[co] + w["l/scale/biases"].Values[co]
		got := x[0]*f.Values[co] + x[1]*f.Values[2+co] + b.Values[co]
		if d := got - want; d > 1e-5 || d < -1e-5 {
			t.Errorf("output %d: folded %g, unfolded %g", co, got, want)
		}
	}
	delete(w, "l/scale/biases")
	if _, _, err := fold(w, "l"); err == nil {
		t.Error("missing scale biases accepted")
	}
}
