package photo

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

func encoded(t testing.TB) map[string][]byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 8, 6))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 5)
	}
	var p, j bytes.Buffer
	if err := png.Encode(&p, img); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&j, img, nil); err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{"png": p.Bytes(), "jpeg": j.Bytes()}
}

func TestDecodeByContent(t *testing.T) {
	for name, data := range encoded(t) {
		img, err := Decode(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if img.Rect.Dx() != 8 || img.Rect.Dy() != 6 {
			t.Fatalf("%s: %v", name, img.Rect)
		}
		if name == "png" {
			if got := img.RGBAAt(3, 1); got != (color.RGBA{55, 55, 55, 255}) {
				t.Errorf("pixel (3,1) = %v", got)
			}
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	good := encoded(t)["png"]
	for name, data := range map[string][]byte{
		"empty":     nil,
		"text":      []byte("hello, this is not a picture"),
		"truncated": good[:len(good)/2],
	} {
		if _, err := Decode(data); !errors.Is(err, ErrUnreadable) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, data := range encoded(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := Decode(data)
		if err == nil && (img.Rect.Dx() == 0 || img.Rect.Dx()*img.Rect.Dy() > MaxPixels) {
			t.Fatalf("accepted %v", img.Rect)
		}
	})
}
