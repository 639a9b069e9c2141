package qrcode

import (
	"encoding/base32"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"math/rand/v2"
	"strings"
	"testing"
)

// onFrame places code, scaled by k, on a grey 640x480 camera-like frame
// at (x, y), as a phone held up to the terminal shows it.
func onFrame(code *image.Gray, k, x, y int) *image.RGBA {
	frame := image.NewRGBA(image.Rect(0, 0, 640, 480))
	draw.Draw(frame, frame.Bounds(), image.NewUniform(color.Gray{Y: 0x80}), image.Point{}, draw.Src)
	b := code.Bounds()
	for cy := range b.Dy() * k {
		for cx := range b.Dx() * k {
			frame.Set(x+cx, y+cy, code.GrayAt(cx/k, cy/k))
		}
	}
	return frame
}

func TestRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		name string
		text string
		k    int
	}{
		{"short", "SP1:HELLO", 2},
		{"pass-sized", "SP1:" + strings.Repeat("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 5), 2},
		{"small on the frame", "SP1:SMALL", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, err := Encode(tt.text, 200)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(onFrame(code, tt.k, 100, 40))
			if err != nil || got != tt.text {
				t.Fatalf("Decode = %q, %v; want %q", got, err, tt.text)
			}
		})
	}
}

// TestEveryPassReads: every code Encode draws reads back, over many
// passes' worth of random text (before Encode checked, about one in
// three hundred did not: the detector miscounted its modules).
func TestEveryPassReads(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	b := make([]byte, 92) // a pass's bytes
	for i := range 600 {
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		text := "SP1:" + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
		img, err := Encode(text, 360)
		if err != nil {
			t.Fatalf("pass %d: %v", i, err)
		}
		if got, err := Decode(img); err != nil || got != text {
			t.Fatalf("pass %d reads %q, %v", i, got, err)
		}
	}
}

func TestNotFound(t *testing.T) {
	code, err := Encode("SP1:HALF", 200)
	if err != nil {
		t.Fatal(err)
	}
	// Half of the code covered by a hand.
	covered := onFrame(code, 1, 100, 40)
	draw.Draw(covered, image.Rect(100, 40, 200, 240), image.NewUniform(color.Gray{Y: 0x30}), image.Point{}, draw.Src)
	for name, img := range map[string]image.Image{
		"empty frame": image.NewGray(image.Rect(0, 0, 640, 480)),
		"tiny":        image.NewGray(image.Rect(0, 0, 5, 5)),
		"covered":     covered,
	} {
		if got, err := Decode(img); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: Decode = %q, %v; want ErrNotFound", name, got, err)
		}
	}
}

// TestText: the characters drawn read back as the code, a character a
// module across and two modules a line.
func TestText(t *testing.T) {
	art, err := Text("http://192.168.1.10:8080/setup?code=ABCD-EFGH")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(art, "\n"), "\n")
	w := len([]rune(lines[0]))
	img := image.NewGray(image.Rect(0, 0, w*4, len(lines)*8))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	for y, line := range lines {
		for x, r := range []rune(line) {
			top, bottom := r == '█' || r == '▀', r == '█' || r == '▄'
			for dy := range 8 {
				if (dy < 4 && top) || (dy >= 4 && bottom) {
					for dx := range 4 {
						img.SetGray(x*4+dx, y*8+dy, color.Gray{})
					}
				}
			}
		}
	}
	if got, err := Decode(img); err != nil || got != "http://192.168.1.10:8080/setup?code=ABCD-EFGH" {
		t.Fatalf("the drawn code reads %q, %v", got, err)
	}
}

// FuzzDecode: a camera frame is outside bytes; whatever it shows, Decode
// answers text or ErrNotFound and never panics.
func FuzzDecode(f *testing.F) {
	code, _ := Encode("SP1:SEED", 64)
	f.Add(64, code.Pix)
	f.Add(21, make([]byte, 21*21))
	f.Fuzz(func(t *testing.T, w int, pix []byte) {
		if w < 1 || w > 256 || len(pix) < w || len(pix) > 256*256 {
			return
		}
		h := len(pix) / w
		img := &image.Gray{Pix: pix[:w*h], Stride: w, Rect: image.Rect(0, 0, w, h)}
		if _, err := Decode(img); err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatalf("Decode error %v does not wrap ErrNotFound", err)
		}
	})
}
