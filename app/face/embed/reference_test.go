//go:build !js

package embed

import (
	"math"
	"testing"

	"smartpass.city/smartpass/app/face/facetest"
)

// referenceEmbedding computes the embedding of rgb with the upstream
// runtime in headless Chromium.
func referenceEmbedding(t *testing.T, rgb []float32) []float32 {
	t.Helper()
	// face-api's FaceRecognitionNet, the package's uint8 weights.
	got := facetest.RunFaceAPI(t, "faceRecognitionNet", InputSize, "faceapi.nets.faceRecognitionNet.computeFaceDescriptor(t)", rgb)
	if len(got) != Dims {
		t.Fatalf("face-api returned %d values", len(got))
	}
	return got
}

// TestMatchesFaceAPI checks the port against face-api itself: the same
// input through both must give embeddings whose cosine is within 1e-3 of
// 1 (the issue asks for 1e-2). The model file keeps face-api's 8-bit
// weights as they are and quantises the eight convolutions face-api
// publishes as float32 (measured: cosine 0.99997, distance 0.010; with
// those eight kept float16, 1.000000 and 0.0002).
func TestMatchesFaceAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	net, err := New(facetest.NetModel(t, "dlib"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string][]float32{"pattern": pattern()}
	for name, rgb := range inputs {
		ours := make([]float32, Dims)
		if err := net.Embed(ours, rgb); err != nil {
			t.Fatal(err)
		}
		ref := referenceEmbedding(t, rgb)
		cos := cosine(ours, ref)
		var dist float64
		for i := range ours {
			d := float64(ours[i] - ref[i])
			dist += d * d
		}
		t.Logf("%s: cosine %.6f, Euclidean distance %.5f (face-api's same-person threshold is 0.6)", name, cos, math.Sqrt(dist))
		if cos < 1-1e-3 {
			t.Errorf("%s: cosine to face-api %.6f", name, cos)
		}
	}
}
