package gemm

// Depthwise computes a k x k depthwise convolution: each of x's c
// channels (x is h x w pixels, channels fastest) by its own filter, into
// out (oh x ow pixels of c channels). weights holds k*k*c values, tap
// (ky*k+kx) of channel ch at (ky*k+kx)*c+ch; each output starts from
// bias (zero when bias is nil) and adds the taps row by row, skipping
// those in the pad zeros before the first row and column and past the
// last. Both face networks' separable convolutions run here, and an
// Accelerator may take it.
func Depthwise(x []float32, h, w, c, k, stride, pad, oh, ow int, weights, bias, out []float32) {
	if accel != nil && accel.Depthwise(x, h, w, c, k, stride, pad, oh, ow, weights, bias, out) {
		return
	}
	GoDepthwise(x, h, w, c, k, stride, pad, oh, ow, weights, bias, out)
}

// GoDepthwise is Depthwise in Go's own loops, whatever accelerator is in
// use: the reference an accelerator is tested against.
func GoDepthwise(x []float32, h, w, c, k, stride, pad, oh, ow int, weights, bias, out []float32) {
	for oy := range oh {
		for ox := range ow {
			acc := out[(oy*ow+ox)*c:][:c]
			if bias != nil {
				copy(acc, bias[:c])
			} else {
				clear(acc)
			}
			for ky := range k {
				iy := oy*stride + ky - pad
				if iy < 0 || iy >= h {
					continue
				}
				for kx := range k {
					ix := ox*stride + kx - pad
					if ix < 0 || ix >= w {
						continue
					}
					src := x[(iy*w+ix)*c:][:c]
					wt := weights[(ky*k+kx)*c:][:c]
					for ch, v := range src {
						acc[ch] += v * wt[ch]
					}
				}
			}
		}
	}
}
