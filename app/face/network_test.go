package face

import (
	"testing"

	"smartpass.city/smartpass/app/face/align"
	"smartpass.city/smartpass/app/face/detect"
	"smartpass.city/smartpass/app/face/embed"
	"smartpass.city/smartpass/app/face/facetest"
	"smartpass.city/smartpass/app/face/gallery"
	"smartpass.city/smartpass/app/face/mobilefacenet"
	"smartpass.city/smartpass/app/template"
)

// TestNetworkOfTheModelFile checks that the pipeline runs the network
// its model file names, with that network's input and output, and that
// templates of the two networks never meet: a gallery of one refuses the
// other's (a change of network re-enrolls).
func TestNetworkOfTheModelFile(t *testing.T) {
	cases := []struct {
		net        string
		model      string
		dims, side int
	}{
		{"dlib", embed.ModelName, embed.Dims, align.Size},
		{"mobilefacenet", mobilefacenet.ModelName, mobilefacenet.Dims, align.ArcFaceSize},
	}
	vecs := map[string][]float32{}
	for _, c := range cases {
		p, err := New(facetest.NetModel(t, c.net), embed.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Model() != c.model || p.Dims() != c.dims || p.side != c.side || len(p.in) != c.side*c.side*3 {
			t.Fatalf("%s: model %s, %d values from a %d px chip", c.net, p.Model(), p.Dims(), p.side)
		}
		embedOf := func(im, want string) []float32 {
			r, err := p.Process(facetest.Identity(t, want, im), Options{Crops: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Embedding) != c.dims {
				t.Fatalf("%s: %d values", c.net, len(r.Embedding))
			}
			return r.Embedding
		}
		a, b, s := embedOf("penny1.png", "penny"), embedOf("penny2.png", "penny"), embedOf("sheldon1.png", "sheldon")
		mate, stranger := facetest.Cosine(a, b), facetest.Cosine(a, s)
		t.Logf("%s: penny1–penny2 %.3f, penny1–sheldon1 %.3f", c.net, mate, stranger)
		if mate <= stranger {
			t.Errorf("%s: the same person is no closer than another", c.net)
		}
		vecs[c.net] = a
	}
	dlib := template.Template{Resident: "R-1", Model: embed.ModelName, Facilities: []string{"p"}, Vec: template.Pack(vecs["dlib"])}
	mfn := template.Template{Resident: "R-2", Model: mobilefacenet.ModelName, Facilities: []string{"p"}, Vec: template.Pack(vecs["mobilefacenet"])}
	for _, c := range cases {
		g, skipped := gallery.FromTemplates(c.model, c.dims, map[string]template.Template{"R-1": dlib, "R-2": mfn})
		if g.Len() != 1 || skipped != 1 {
			t.Errorf("%s gallery took %d and skipped %d, want its own network's 1", c.net, g.Len(), skipped)
		}
	}
}

// TestArcFaceChip checks the ArcFace points are taken in the reference's
// order: a similarity (no mirror image) fits the reference to a real
// face's five points far better than to the same points with left and
// right swapped, which is what a mix-up of the landmarks would give.
func TestArcFaceChip(t *testing.T) {
	p, err := New(facetest.NetModel(t, "mobilefacenet"), embed.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.Process(facetest.Identity(t, "amy", "amy1.png"), Options{Crops: true})
	if err != nil {
		t.Fatal(err)
	}
	five, ref := align.ArcFaceFrame(r.Points), align.ArcFacePoints()
	residual := func(pts [5]detect.Point) float64 {
		tr := align.FitTransform(ref[:], pts[:])
		var sum float64
		for i, q := range ref {
			got := tr.Apply(q)
			sum += (got.X-pts[i].X)*(got.X-pts[i].X) + (got.Y-pts[i].Y)*(got.Y-pts[i].Y)
		}
		return sum
	}
	swapped := [5]detect.Point{five[1], five[0], five[2], five[4], five[3]}
	ok, bad := residual(five), residual(swapped)
	t.Logf("squared residual %.1f px², %.1f with left and right swapped", ok, bad)
	if ok*4 > bad {
		t.Errorf("the reference fits the face (%.1f) hardly better than its mirror image (%.1f)", ok, bad)
	}
}
