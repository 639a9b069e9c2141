// Package photo decodes the still images the face tools read (enrollment
// photos, test sets, the card's portrait once converted) by their
// content, not their file name: test sets hold ".jpg" files that are
// WebP. Every image comes back as RGBA, the layout detection and
// alignment sample from.
package photo

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/draw"
	_ "image/gif"  // registered for image.Decode
	_ "image/jpeg" // registered for image.Decode
	_ "image/png"  // registered for image.Decode

	_ "golang.org/x/image/webp" // registered for image.Decode
)

// MaxPixels bounds a decoded image (a 24-megapixel photo is 6000x4000),
// so a crafted header cannot make the decoder allocate gigabytes.
const MaxPixels = 6000 * 4000

// ErrUnreadable is wrapped by every decoding error.
var ErrUnreadable = errors.New("photo: image unreadable")

// Decode decodes a JPEG, PNG, GIF or WebP image into RGBA.
func Decode(data []byte) (*image.RGBA, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreadable, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxPixels/max(cfg.Height, 1) {
		return nil, fmt.Errorf("%w: %s of %dx%d pixels", ErrUnreadable, format, cfg.Width, cfg.Height)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUnreadable, format, err)
	}
	return RGBA(img), nil
}

// RGBA returns img as an *image.RGBA whose bounds start at (0, 0),
// converting only when it is not one already.
func RGBA(img image.Image) *image.RGBA {
	if r, ok := img.(*image.RGBA); ok && r.Rect.Min == (image.Point{}) {
		return r
	}
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Rect, img, b.Min, draw.Src)
	return out
}
