// Package cardmatch is the 1:1 check of a live face against the portrait
// on a My Number Card (the card-face application's photo, package card),
// as the national card's reception terminals do it: for a person with a
// card but no registered face and no PIN, and at the desk where staff
// would otherwise compare the photo with the face by eye.
//
// The card's portrait is small, greyscale, heavily compressed JPEG 2000
// and up to ten years old, so the 1:1 threshold is not the
// identification rules' (package risk): it is read off labelled pairs of
// card-like photos against live images (basis.go), and a test measures it
// again.
package cardmatch

import (
	"image"
	"image/color"

	"golang.org/x/image/draw"

	"smartpass.city/smartpass/app/face/gallery"
	"smartpass.city/smartpass/app/template"
)

// The card-like photo's geometry. No public source gives the pixel size
// or the byte size of the portrait in the card's chip; the printed photo
// is 22.0 × 27.5 mm (4:5). The test set's photos are made at this size
// and budget (about 100 pixels per inch of the printed photo, and a rate
// of about 5:1 on 8-bit grey), smaller than every source image, so the set
// errs to the hard side. A measurement on real cards replaces these.
const (
	Width, Height = 88, 110
	PhotoBytes    = 2000
)

// CardLike makes a card-like portrait of img: the centre cut to the
// card photo's 4:5, scaled to Width×Height, greyscale.
func CardLike(img image.Image) *image.Gray {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	cut := b
	if w*Height > h*Width { // too wide: keep the middle columns
		cw := h * Width / Height
		cut.Min.X += (w - cw) / 2
		cut.Max.X = cut.Min.X + cw
	} else {
		ch := w * Height / Width
		cut.Min.Y += (h - ch) / 2
		cut.Max.Y = cut.Min.Y + ch
	}
	rgba := image.NewRGBA(image.Rect(0, 0, Width, Height))
	draw.CatmullRom.Scale(rgba, rgba.Rect, img, cut, draw.Src, nil)
	g := image.NewGray(rgba.Rect)
	for y := range Height {
		for x := range Width {
			g.SetGray(x, y, color.GrayModel.Convert(rgba.At(x, y)).(color.Gray))
		}
	}
	return g
}

// Outcome is one 1:1 check: the score and whether it reaches its
// network's threshold (Basis.Threshold).
// It is what is recorded (like an identification), never the photo.
type Outcome struct {
	Score    float32
	Accepted bool
}

// Check compares a live face's embedding with the card photo's, both
// made by the network model, as the threshold was measured: both
// normalised and stored as float16 templates, then their cosine. On a
// network without a measured threshold nothing is accepted: staff compare
// the photo by eye, as without the check.
func Check(model string, live, card []float32) Outcome {
	th, ok := ThresholdFor(model)
	if !ok {
		th = gallery.Unreachable
	}
	s, ok := gallery.Verify(template.Unpack(template.Pack(live)), template.Unpack(template.Pack(card)), th)
	return Outcome{Score: s, Accepted: ok}
}
