//go:build !js

package landmark

import (
	"math"
	"testing"

	"smartpass.city/smartpass/app/face/facetest"
)

// referenceScript runs face-api's own FaceLandmark68Net (TensorFlow.js,
// CPU backend, the package's uint8 weights) on a 112x112 input. For an
// input of the network's own size, forward's output is the network's:
// each point's x and y as fractions of the crop.
const referenceScript = `(async () => {
	await faceapi.tf.setBackend('cpu');
	await faceapi.tf.ready();
	await faceapi.nets.faceLandmark68Net.loadFromUri('/face-api/model');
	const px = new Float32Array(await (await fetch('/input')).arrayBuffer());
	const t = faceapi.tf.tensor3d(px, [112, 112, 3]);
	const out = await faceapi.nets.faceLandmark68Net.forward(t);
	const d = await out.data();
	t.dispose(); out.dispose();
	return Array.from(d);
})()`

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
		ref := facetest.RunFaceAPI(t, referenceScript, rgb)
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
