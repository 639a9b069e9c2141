package j2k_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"smartpass.city/smartpass/app/j2k"
)

var lim = j2k.Limits{MaxWidth: 1024, MaxHeight: 1024, MaxComponents: 1}

// codestream is the start of a J2K codestream: SOC, then SIZ for a
// w×h image of n 8-bit components, then an EOC.
func codestream(w, h uint32, n int) []byte {
	b := []byte{0xFF, 0x4F, 0xFF, 0x51}
	b = binary.BigEndian.AppendUint16(b, uint16(38+3*n))
	b = append(b, 0, 0)
	for _, v := range []uint32{w, h, 0, 0, w, h, 0, 0} {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(n))
	for range n {
		b = append(b, 7, 1, 1)
	}
	return append(b, 0xFF, 0xD9)
}

// jp2 wraps a codestream in the JP2 signature box and a jp2c box.
func jp2(cs []byte) []byte {
	b := []byte{0, 0, 0, 0x0C, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A}
	b = append(b, 0, 0, 0, 20, 'f', 't', 'y', 'p', 'j', 'p', '2', ' ', 0, 0, 0, 0, 'j', 'p', '2', ' ')
	b = binary.BigEndian.AppendUint32(b, uint32(8+len(cs)))
	return append(append(b, 'j', 'p', '2', 'c'), cs...)
}

func TestParseHeader(t *testing.T) {
	good := codestream(96, 120, 1)
	for _, tc := range []struct {
		name string
		b    []byte
		w, h int
		want error
	}{
		{"codestream", good, 96, 120, nil},
		{"JP2 file", jp2(good), 96, 120, nil},
		{"colour", codestream(96, 120, 3), 0, 0, j2k.ErrTooLarge},
		{"too wide", codestream(4096, 120, 1), 0, 0, j2k.ErrTooLarge},
		{"empty", codestream(0, 0, 1), 0, 0, j2k.ErrNotJPEG2000},
		{"not an image", []byte("GIF89a"), 0, 0, j2k.ErrNotJPEG2000},
		{"cut in SIZ", good[:20], 0, 0, j2k.ErrNotJPEG2000},
		{"SIZ length off", append([]byte{0xFF, 0x4F, 0xFF, 0x51, 0, 0x30}, good[6:]...), 0, 0, j2k.ErrNotJPEG2000},
		{"JP2 without a codestream box", jp2(nil)[:32], 0, 0, j2k.ErrNotJPEG2000},
		{"JP2 box past the end", append(jp2(good)[:32], 0xFF, 0xFF, 0xFF, 0xFF, 'j', 'p', '2', 'c'), 0, 0, j2k.ErrNotJPEG2000},
	} {
		h, err := j2k.ParseHeader(tc.b, lim)
		if tc.want != nil {
			if !errors.Is(err, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			}
			continue
		}
		if err != nil || h.Width != tc.w || h.Height != tc.h || h.Components != 1 || h.Depth != 8 || !bytes.HasPrefix(h.Codestream, []byte{0xFF, 0x4F}) {
			t.Errorf("%s: %+v, %v", tc.name, h, err)
		}
	}
}

// FuzzParseHeader: the photo's header is outside bytes; what is accepted
// is within the limits and its codestream starts with SOC.
func FuzzParseHeader(f *testing.F) {
	f.Add(codestream(96, 120, 1))
	f.Add(jp2(codestream(96, 120, 1)))
	f.Add([]byte{0, 0, 0, 0x0C, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := j2k.ParseHeader(b, lim)
		if err != nil {
			return
		}
		if h.Width <= 0 || h.Height <= 0 || h.Width > lim.MaxWidth || h.Height > lim.MaxHeight || h.Components != 1 || !bytes.HasPrefix(h.Codestream, []byte{0xFF, 0x4F, 0xFF, 0x51}) {
			t.Fatalf("accepted %+v", h)
		}
	})
}
