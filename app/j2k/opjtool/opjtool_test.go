package opjtool_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"testing"

	"smartpass.city/smartpass/app/j2k"
	"smartpass.city/smartpass/app/j2k/opjtool"
)

// TestRoundTrip: a grey image fits the byte budget, decodes to its size,
// and stays close to the original (lossy, so not equal).
func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	g := image.NewGray(image.Rect(0, 0, 80, 100))
	for i := range g.Pix {
		g.Pix[i] = uint8(i % 80 * 3)
	}
	for _, budget := range []int{1500, 4000} {
		b, err := opjtool.Encode(ctx, g, budget)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > budget {
			t.Fatalf("%d bytes for a budget of %d", len(b), budget)
		}
		if h, err := j2k.ParseHeader(b, j2k.Limits{MaxWidth: 80, MaxHeight: 100, MaxComponents: 1}); err != nil || h.Width != 80 || h.Height != 100 {
			t.Fatalf("header %+v, %v", h, err)
		}
		out, err := opjtool.Decode(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		var diff int
		for i := range g.Pix {
			d := int(g.Pix[i]) - int(out.Pix[i])
			diff += d * d
		}
		if mse := float64(diff) / float64(len(g.Pix)); mse > 100 {
			t.Errorf("budget %d: mean squared error %.1f", budget, mse)
		}
	}
	if _, err := opjtool.Decode(ctx, []byte("not JPEG 2000")); !errors.Is(err, opjtool.ErrTool) {
		t.Fatalf("decoding junk: %v", err)
	}
}

func TestParsePGM(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		ok   bool
	}{
		{"plain", append([]byte("P5\n2 2\n255\n"), 1, 2, 3, 4), true},
		{"comment as opj_decompress writes", append([]byte("P5\n#OpenJPEG-2.5.0\n2 2\n255\n"), 1, 2, 3, 4), true},
		{"pixels missing", append([]byte("P5\n2 2\n255\n"), 1, 2), false},
		{"16-bit", append([]byte("P5\n2 2\n65535\n"), 1, 2, 3, 4), false},
		{"ASCII PGM", []byte("P2\n2 2\n255\n1 2 3 4"), false},
		{"huge", []byte("P5\n99999999 99999999\n255\n"), false},
	} {
		g, err := opjtool.ParsePGM(tc.b)
		if tc.ok != (err == nil) || tc.ok && !bytes.Equal(g.Pix, []byte{1, 2, 3, 4}) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// FuzzParsePGM: what is accepted has the pixels its header promises.
func FuzzParsePGM(f *testing.F) {
	f.Add(append([]byte("P5\n#OpenJPEG-2.5.0\n2 2\n255\n"), 1, 2, 3, 4))
	f.Add([]byte("P5 1 1 255 x"))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := opjtool.ParsePGM(b)
		if err == nil && (g.Rect.Dx()*g.Rect.Dy() != len(g.Pix) || len(g.Pix) > len(b)) {
			t.Fatalf("accepted %v from %d bytes", g.Rect, len(b))
		}
	})
}
