//go:build !js

package landmark

import (
	"math"
	"testing"

	"smartpass.city/smartpass/app/face/facetest"
)

// Tolerance is how far a point of the port may lie from face-api's, as a
// fraction of the crop: 1e-4 is a hundredth of a pixel of the 112 px
// crop, a thousandth of a pixel of a 150 px chip's eye distance's error
// budget; float32 sums in another order differ by about 1e-6.
const tolerance = 1e-4

// TestMatchesFaceAPI checks the port against face-api itself on the same
// inputs: a synthetic pattern and a face of the shared set.
func TestMatchesFaceAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	net, err := New(facetest.Model(t))
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string][]float32{"pattern": pattern(), "face": faceCrop(t)}
	for name, rgb := range inputs {
		ours := make([]float32, 2*Points)
		if err := net.Run(ours, rgb); err != nil {
			t.Fatal(err)
		}
		// face-api's FaceLandmark68Net, the package's uint8 weights. For an
		// input of the network's own size, forward's output is the
		// network's: each point's x and y as fractions of the crop.
		ref := facetest.RunFaceAPI(t, "faceLandmark68Net", InputSize, "faceapi.nets.faceLandmark68Net.forward(t)", rgb)
		if len(ref) != 2*Points {
			t.Fatalf("%s: face-api returned %d values", name, len(ref))
		}
		var worst float64
		for i := range ours {
			worst = max(worst, math.Abs(float64(ours[i]-ref[i])))
		}
		t.Logf("%s: largest difference from face-api %.2g of the crop (%.4f px at 112 px); point 30 ours %.4f,%.4f face-api %.4f,%.4f",
			name, worst, worst*InputSize, ours[60], ours[61], ref[60], ref[61])
		if worst > tolerance {
			t.Errorf("%s: a point differs from face-api's by %.3g of the crop", name, worst)
		}
	}
}
