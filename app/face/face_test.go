//go:debug randseednop=0

package face

import (
	"errors"
	"image"
	"math"
	"math/rand"
	"path/filepath"
	"runtime"
	"testing"

	"smartpass.city/smartpass/app/face/embed"
	"smartpass.city/smartpass/app/face/facetest"
	"smartpass.city/smartpass/app/face/gallery"
	"smartpass.city/smartpass/app/template"
)

func pipeline(t testing.TB) *Pipeline {
	t.Helper()
	p, err := New(facetest.Model(t), embed.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// firstImages returns the first image of each identity in the shared set.
func firstImages(t testing.TB) map[string]*image.RGBA {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(facetest.Faces(t), "identities", "*", "*1.png"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no identity images: %v", err)
	}
	out := make(map[string]*image.RGBA)
	for _, f := range files {
		out[filepath.Base(f)] = facetest.Image(t, f)
	}
	return out
}

// transform returns a copy of img with f applied to each colour value.
func transform(img *image.RGBA, f func(v uint8) uint8) *image.RGBA {
	out := image.NewRGBA(img.Rect)
	for i, v := range img.Pix {
		if i%4 == 3 {
			out.Pix[i] = v
		} else {
			out.Pix[i] = f(v)
		}
	}
	return out
}

// blur returns img box-blurred with the given radius.
func blur(img *image.RGBA, r int) *image.RGBA {
	out := image.NewRGBA(img.Rect)
	w, h := img.Rect.Dx(), img.Rect.Dy()
	for y := range h {
		for x := range w {
			for c := range 3 {
				sum, n := 0, 0
				for dy := -r; dy <= r; dy++ {
					for dx := -r; dx <= r; dx++ {
						xx, yy := x+dx, y+dy
						if xx >= 0 && yy >= 0 && xx < w && yy < h {
							sum += int(img.Pix[yy*img.Stride+4*xx+c])
							n++
						}
					}
				}
				out.Pix[y*out.Stride+4*x+c] = uint8(sum / n)
			}
			out.Pix[y*out.Stride+4*x+3] = 255
		}
	}
	return out
}

// shrink returns img scaled down by an integer factor, centred in a
// frame of the original size filled with grey: a person far from the
// camera.
func shrink(img *image.RGBA, k int) *image.RGBA {
	out := image.NewRGBA(img.Rect)
	for i := range out.Pix {
		out.Pix[i] = 128
	}
	w, h := img.Rect.Dx()/k, img.Rect.Dy()/k
	ox, oy := (img.Rect.Dx()-w)/2, (img.Rect.Dy()-h)/2
	for y := range h {
		for x := range w {
			copy(out.Pix[(oy+y)*out.Stride+4*(ox+x):][:4], img.Pix[(k*y)*img.Stride+4*(k*x):][:4])
		}
	}
	return out
}

func TestQualityGate(t *testing.T) {
	p := pipeline(t)
	for name, img := range firstImages(t) {
		cases := []struct {
			what string
			img  *image.RGBA
			want error
		}{
			{"as taken", img, nil},
			{"in the dark", transform(img, func(v uint8) uint8 { return v / 6 }), ErrTooDark},
			{"against the light", transform(img, func(v uint8) uint8 { return uint8(min(255, 160+int(v)/2)) }), ErrTooBright},
			{"moving", blur(img, 2), ErrBlurry},
			{"far away", shrink(img, 4), nil}, // ErrTooSmall or ErrNoFace
		}
		for _, c := range cases {
			rand.Seed(1)
			// The far-away frame is a camera frame, not a crop.
			r, err := p.Process(c.img, Options{Limits: DefaultLimits, Crops: c.what != "far away"})
			switch {
			case c.what == "far away":
				if !errors.Is(err, ErrTooSmall) && !errors.Is(err, ErrNoFace) {
					t.Errorf("%s %s: %v (quality %+v)", name, c.what, err, r.Quality)
				}
			case !errors.Is(err, c.want) || (c.want == nil && err != nil):
				t.Errorf("%s %s: %v, want %v (quality %+v)", name, c.what, err, c.want, r.Quality)
			}
			if err == nil && len(r.Embedding) != p.Dims() {
				t.Errorf("%s %s: embedding of %d values", name, c.what, len(r.Embedding))
			}
		}
	}
}

func TestLimits(t *testing.T) {
	good := Quality{EyeDistance: 50, Brightness: 120, Sharpness: 0.2}
	cases := []struct {
		name string
		q    func(q *Quality)
		want error
	}{
		{"good", func(q *Quality) {}, nil},
		{"small", func(q *Quality) { q.EyeDistance = 20 }, ErrTooSmall},
		{"dark", func(q *Quality) { q.Brightness = 20 }, ErrTooDark},
		{"bright", func(q *Quality) { q.Brightness = 240 }, ErrTooBright},
		{"turned left", func(q *Quality) { q.Yaw = -0.5 }, ErrTurned},
		{"turned right", func(q *Quality) { q.Yaw = 0.5 }, ErrTurned},
		{"tilted", func(q *Quality) { q.Roll = 40 }, ErrTurned},
		{"blurred", func(q *Quality) { q.Sharpness = 0.05 }, ErrBlurry},
	}
	for _, c := range cases {
		q := good
		c.q(&q)
		err := DefaultLimits.check(q)
		if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		// The zero Limits accept everything.
		if err := (Limits{}).check(q); err != nil {
			t.Errorf("%s: zero limits: %v", c.name, err)
		}
	}
}

func TestNoFace(t *testing.T) {
	p := pipeline(t)
	grey := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for i := range grey.Pix {
		grey.Pix[i] = 128
	}
	if _, err := p.Process(grey, Options{Limits: DefaultLimits, Crops: true}); !errors.Is(err, ErrNoFace) {
		t.Fatalf("grey frame: %v", err)
	}
}

// BenchmarkProcess is the whole path for one face in a camera-sized
// frame (a group photo of 710x473 whose largest face is taken): detect
// with landmarks, align, quality, embed.
func BenchmarkProcess(b *testing.B) {
	p := pipeline(b)
	img := facetest.Image(b, filepath.Join(facetest.Faces(b), "groups", "bbt4.jpg"))
	var det, al, emb float64
	for b.Loop() {
		r, err := p.Process(img, Options{})
		if err != nil {
			b.Fatal(err)
		}
		det += float64(r.Detect.Microseconds()) / 1000
		al += float64(r.Align.Microseconds()) / 1000
		emb += float64(r.Embed.Microseconds()) / 1000
	}
	n := float64(b.N)
	// What the process holds from the system: the model, the network's
	// buffers, the frame. In WASM this is the linear memory's size.
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.Sys)/(1<<20), "sys-MiB")
	b.ReportMetric(det/n, "detect-ms")
	b.ReportMetric(al/n, "align-ms")
	b.ReportMetric(emb/n, "embed-ms")
	b.ReportMetric((det+al+emb)/n, "ms/face")
}

// TestTemplateOfOtherModelVersion checks that a terminal's gallery, built
// for the model this program runs, refuses a template made with the
// float16 file of the same network: a change of model file re-enrolls,
// never mixes templates of two versions.
func TestTemplateOfOtherModelVersion(t *testing.T) {
	const float16Model = "dlib-resnet29/face-api-1.7.15/f16"
	if embed.ModelName == float16Model {
		t.Fatal("the model name did not change with the weights' storage")
	}
	vec := make([]float32, embed.Dims)
	vec[0] = 1
	old := template.Template{Resident: "R-1", Model: float16Model, Facilities: []string{"p"}, Vec: template.Pack(vec)}
	cur := template.Template{Resident: "R-2", Model: embed.ModelName, Facilities: []string{"p"}, Vec: template.Pack(vec)}
	g, skipped := gallery.FromTemplates(embed.ModelName, embed.Dims, map[string]template.Template{"R-1": old, "R-2": cur})
	if skipped != 1 || g.Len() != 1 {
		t.Fatalf("gallery took %d and skipped %d, want the current model's 1 and the old one skipped", g.Len(), skipped)
	}
	if err := g.PutTemplate(old); !errors.Is(err, gallery.ErrModel) {
		t.Fatalf("old model's template: %v", err)
	}
}

// TestFlip checks the flip-averaged embedding is the mean of the chip's
// and its mirror image's, and that it makes a face and its mirror image
// closer than the plain embedding does.
func TestFlip(t *testing.T) {
	p := pipeline(t)
	img := facetest.Identity(t, "penny", "penny1.png")
	mirror := image.NewRGBA(img.Rect)
	w := img.Rect.Dx()
	for y := range img.Rect.Dy() {
		for x := range w {
			copy(mirror.Pix[y*mirror.Stride+4*x:][:4], img.Pix[y*img.Stride+4*(w-1-x):][:4])
		}
	}
	embedOf := func(im *image.RGBA, flip bool) []float32 {
		p.SetFlip(flip)
		rand.Seed(1)
		r, err := p.Process(im, Options{Crops: true})
		if err != nil {
			t.Fatal(err)
		}
		return r.Embedding
	}
	plain, flipped := embedOf(img, false), embedOf(img, true)
	// The mirrored chip's own embedding, by hand.
	chip := append([]float32(nil), p.in...)
	for y := range p.side {
		for x := range p.side {
			copy(p.in[(y*p.side+x)*3:][:3], chip[(y*p.side+p.side-1-x)*3:][:3])
		}
	}
	mirrored := make([]float32, p.Dims())
	if err := p.net.Embed(mirrored, p.in); err != nil {
		t.Fatal(err)
	}
	for i := range plain {
		if want := (plain[i] + mirrored[i]) / 2; math.Abs(float64(flipped[i]-want)) > 1e-5 {
			t.Fatalf("value %d: %g, want the mean %g", i, flipped[i], want)
		}
	}
	cos := func(a, b []float32) float64 {
		var ab, aa, bb float64
		for i := range a {
			ab, aa, bb = ab+float64(a[i]*b[i]), aa+float64(a[i]*a[i]), bb+float64(b[i]*b[i])
		}
		return ab / math.Sqrt(aa*bb)
	}
	plainPair, flipPair := cos(plain, embedOf(mirror, false)), cos(flipped, embedOf(mirror, true))
	t.Logf("a face and its mirror image: cosine %.4f plain, %.4f flip-averaged", plainPair, flipPair)
	if flipPair <= plainPair {
		t.Errorf("flip averaging did not bring a face and its mirror image closer")
	}
}
