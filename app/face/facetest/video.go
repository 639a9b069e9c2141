package facetest

import (
	"bufio"
	"fmt"
	"image"
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

// WriteY4M writes frames copies of img as a YUV4MPEG2 video (4:2:0,
// BT.601 limited range), the format Chromium's
// --use-file-for-fake-video-capture plays in a loop as the camera.
func WriteY4M(path string, img *image.RGBA, frames int) error {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if w%2 != 0 || h%2 != 0 {
		return fmt.Errorf("facetest: y4m needs even sides, got %dx%d", w, h)
	}
	yp := make([]byte, w*h)
	up := make([]byte, w*h/4)
	vp := make([]byte, w*h/4)
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
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	fmt.Fprintf(bw, "YUV4MPEG2 W%d H%d F10:1 Ip A1:1 C420jpeg\n", w, h)
	for range frames {
		bw.WriteString("FRAME\n")
		bw.Write(yp)
		bw.Write(up)
		bw.Write(vp)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func clamp(v float64) byte {
	return byte(min(max(v+0.5, 0), 255))
}
