// Package qrcode draws QR codes and finds them in camera frames, in pure
// Go so the phone that shows a pass and the terminal that reads it run
// the same code in WebAssembly (Chromium on Linux has no BarcodeDetector).
// It is a thin layer over gozxing, a port of ZXing: what it adds is the
// project's choices (error correction, quiet zone) and errors that say
// what went wrong.
package qrcode

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"strings"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
)

// ErrNotFound is returned by Decode when the image holds no readable QR
// code: none in view, too blurred, or too small to read.
var ErrNotFound = errors.New("qrcode: no readable QR code")

// Encode draws text as a QR code of at least size pixels a side, black
// on white with the standard four-module quiet zone. Error correction is
// level M (15%): a phone screen's glare or a scratched print still reads,
// and a pass stays small enough for an old phone's camera.
//
// The code drawn is one Decode reads: ZXing's detector misjudges the
// size of about one symbol in three hundred (their data makes it count
// the modules wrong), so a symbol Decode cannot read back is drawn again
// at the next error-correction level, whose different modules read.
func Encode(text string, size int) (*image.Gray, error) {
	return readable(text, size, func(img *image.Gray) image.Image { return img })
}

// readable draws text at the first error-correction level whose symbol,
// as shown (view), Decode reads back.
func readable(text string, size int, view func(*image.Gray) image.Image) (*image.Gray, error) {
	for _, level := range []decoder.ErrorCorrectionLevel{decoder.ErrorCorrectionLevel_M, decoder.ErrorCorrectionLevel_Q, decoder.ErrorCorrectionLevel_H} {
		img, err := encode(text, size, level)
		if err != nil {
			return nil, err
		}
		if got, err := Decode(view(img)); err == nil && got == text {
			return img, nil
		}
	}
	return nil, fmt.Errorf("qrcode: encode %d characters: %w (at every error-correction level)", len(text), ErrNotFound)
}

// encode draws text at one error-correction level.
func encode(text string, size int, level decoder.ErrorCorrectionLevel) (*image.Gray, error) {
	hints := map[gozxing.EncodeHintType]any{
		gozxing.EncodeHintType_ERROR_CORRECTION: level,
		gozxing.EncodeHintType_MARGIN:           4,
	}
	m, err := zxqr.NewQRCodeWriter().Encode(text, gozxing.BarcodeFormat_QR_CODE, size, size, hints)
	if err != nil {
		return nil, fmt.Errorf("qrcode: encode %d characters: %w", len(text), err)
	}
	w, h := m.GetWidth(), m.GetHeight()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			if !m.Get(x, y) {
				img.SetGray(x, y, color.Gray{Y: 0xff})
			}
		}
	}
	return img, nil
}

// Decode returns the text of the QR code in img, or ErrNotFound. Camera
// frames are outside bytes: a decoder failure of any kind, even a panic
// deep in the port on a malformed symbol, is ErrNotFound, never a crash
// of the terminal.
func Decode(img image.Image) (text string, err error) {
	defer func() {
		if r := recover(); r != nil {
			text, err = "", fmt.Errorf("%w: decoder failed: %v", ErrNotFound, r)
		}
	}()
	if b := img.Bounds(); b.Dx() < 21 || b.Dy() < 21 {
		return "", fmt.Errorf("%w: image of %dx%d", ErrNotFound, b.Dx(), b.Dy())
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	hints := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	return res.GetText(), nil
}

// Text draws text as a QR code in characters, two modules a line (▀ ▄ █),
// for a terminal: an admin's command prints a device code both as text
// and as a QR code to scan. Dark modules are drawn, so it reads on a
// light background.
func Text(text string) (string, error) {
	// One pixel a module, checked as a camera sees the characters: each
	// module a block of pixels.
	img, err := readable(text, 0, func(img *image.Gray) image.Image { return enlarge(img, 4) })
	if err != nil {
		return "", err
	}
	b := img.Bounds()
	dark := func(x, y int) bool { return y < b.Max.Y && img.GrayAt(x, y).Y == 0 }
	var out strings.Builder
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x++ {
			switch top, bottom := dark(x, y), dark(x, y+1); {
			case top && bottom:
				out.WriteRune('█')
			case top:
				out.WriteRune('▀')
			case bottom:
				out.WriteRune('▄')
			default:
				out.WriteRune(' ')
			}
		}
		out.WriteByte('\n')
	}
	return out.String(), nil
}

// enlarge draws each pixel of img as a k×k block.
func enlarge(img *image.Gray, k int) *image.Gray {
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dx()*k, b.Dy()*k))
	for y := range out.Rect.Dy() {
		for x := range out.Rect.Dx() {
			out.SetGray(x, y, img.GrayAt(b.Min.X+x/k, b.Min.Y+y/k))
		}
	}
	return out
}
