package facetest

import (
	"bufio"
	"fmt"
	"image"
	"math"
	"os"
)

// CameraFrame places a face crop in a 640x480 frame as a camera at arm's
// length would see it: scaled up by scale and centred, the crop's edges
// stretched to the frame's so the detector meets a face in a scene rather
// than a face-shaped hole.
func CameraFrame(crop *image.RGBA, scale int) *image.RGBA {
	const w, h = 640, 480
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	cw, ch := crop.Rect.Dx(), crop.Rect.Dy()
	ox, oy := (w-cw*scale)/2, (h-ch*scale)/2
	for y := range h {
		sy := min(max((y-oy)/scale, 0), ch-1)
		if y < oy {
			sy = 0
		}
		for x := range w {
			sx := min(max((x-ox)/scale, 0), cw-1)
			if x < ox {
				sx = 0
			}
			copy(out.Pix[y*out.Stride+4*x:][:4], crop.Pix[sy*crop.Stride+4*sx:][:4])
		}
	}
	return out
}

// WriteY4M writes a YUV4MPEG2 video (4:2:0, BT.601 limited range, 10
// frames a second) showing each image for repeat frames, in order: the
// format Chromium's --use-file-for-fake-video-capture plays, in a loop,
// as the camera.
func WriteY4M(path string, imgs []*image.RGBA, repeat int) error {
	if len(imgs) == 0 {
		return fmt.Errorf("facetest: no frames")
	}
	w, h := imgs[0].Rect.Dx(), imgs[0].Rect.Dy()
	if w%2 != 0 || h%2 != 0 {
		return fmt.Errorf("facetest: y4m needs even sides, got %dx%d", w, h)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	fmt.Fprintf(bw, "YUV4MPEG2 W%d H%d F10:1 Ip A1:1 C420jpeg\n", w, h)
	for _, img := range imgs {
		if img.Rect.Dx() != w || img.Rect.Dy() != h {
			f.Close()
			return fmt.Errorf("facetest: frames of different sizes")
		}
		planes := yuv420(img)
		for range repeat {
			bw.WriteString("FRAME\n")
			bw.Write(planes)
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// yuv420 returns the Y, U and V planes of img, one after the other.
func yuv420(img *image.RGBA) []byte {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	out := make([]byte, w*h*3/2)
	yp, up, vp := out[:w*h], out[w*h:w*h*5/4], out[w*h*5/4:]
	for y := range h {
		for x := range w {
			p := img.Pix[y*img.Stride+4*x:]
			r, g, b := float64(p[0]), float64(p[1]), float64(p[2])
			yp[y*w+x] = clamp(16 + (65.481*r+128.553*g+24.966*b)/255)
		}
	}
	for y := 0; y < h; y += 2 {
		for x := 0; x < w; x += 2 {
			var r, g, b float64
			for _, d := range [4][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
				p := img.Pix[(y+d[1])*img.Stride+4*(x+d[0]):]
				r, g, b = r+float64(p[0])/4, g+float64(p[1])/4, b+float64(p[2])/4
			}
			i := (y/2)*(w/2) + x/2
			up[i] = clamp(128 + (-37.797*r-74.203*g+112*b)/255)
			vp[i] = clamp(128 + (112*r-93.786*g-18.214*b)/255)
		}
	}
	return out
}

// Turned returns img as a flat picture of it turned by deg about a
// vertical axis in front of a camera of 700 px focal length: a print or
// a phone held up and turned. Around it is the grey room.
func Turned(img *image.RGBA, deg float64) *image.RGBA {
	const f = 700.0
	th := deg * math.Pi / 180
	w, h := img.Rect.Dx(), img.Rect.Dy()
	cx, cy := float64(w)/2, float64(h)/2
	out := image.NewRGBA(img.Rect)
	for v := range h {
		for u := range w {
			x, y := float64(u)-cx, float64(v)-cy
			lam := f / (f - x*math.Tan(th))
			s, tt := lam*x/math.Cos(th), lam*y
			sx, sy := int(math.Round(cx+s)), int(math.Round(cy+tt))
			o := out.PixOffset(u, v)
			if sx < 0 || sy < 0 || sx >= w || sy >= h || lam <= 0 {
				out.Pix[o], out.Pix[o+1], out.Pix[o+2], out.Pix[o+3] = 90, 90, 90, 255
				continue
			}
			copy(out.Pix[o:o+4], img.Pix[img.PixOffset(sx, sy):])
		}
	}
	return out
}

// Screen returns img as a phone screen shows it: brighter, bluer, with
// the faint line pattern of its pixels beating against the camera's.
func Screen(img *image.RGBA) *image.RGBA {
	out := image.NewRGBA(img.Rect)
	for y := range img.Rect.Dy() {
		for x := range img.Rect.Dx() {
			o := img.PixOffset(x, y)
			moire := 12 * math.Sin(float64(x)*0.9+float64(y)*0.35)
			out.Pix[o] = clamp(float64(img.Pix[o])*0.85 + 20 + moire)
			out.Pix[o+1] = clamp(float64(img.Pix[o+1])*0.9 + 22 + moire)
			out.Pix[o+2] = clamp(float64(img.Pix[o+2])*0.95 + 35 + moire)
			out.Pix[o+3] = 255
		}
	}
	return out
}

func clamp(v float64) byte {
	return byte(min(max(v+0.5, 0), 255))
}

// Mirror returns img flipped left to right: a photo of a head turned one
// way becomes one turned the other way.
func Mirror(img *image.RGBA) *image.RGBA {
	out := image.NewRGBA(img.Rect)
	w := img.Rect.Dx()
	for y := range img.Rect.Dy() {
		for x := range w {
			copy(out.Pix[out.PixOffset(x, y):][:4], img.Pix[img.PixOffset(w-1-x, y):][:4])
		}
	}
	return out
}
