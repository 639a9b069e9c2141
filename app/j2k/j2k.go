// Package j2k reads the header of a JPEG 2000 image (a raw codestream, or
// the JP2 file format around one) without decoding it: the card's face
// photo is outside bytes, and its size must be known and bounded before
// any decoder (OpenJPEG in the browser, opj_decompress in tests) is given
// it. Decoding itself is not here: no Go module decodes JPEG 2000, and the
// reference decoder is OpenJPEG.
package j2k

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrNotJPEG2000 is wrapped for bytes that are not a JPEG 2000 image, or
// whose header is cut short or inconsistent.
var ErrNotJPEG2000 = errors.New("j2k: not a JPEG 2000 image")

// ErrTooLarge is wrapped for an image whose header gives more pixels or
// components than Limits allow: refused before a decoder allocates them.
var ErrTooLarge = errors.New("j2k: image larger than allowed")

// Header is what the SIZ marker segment says of the image.
type Header struct {
	Width, Height int
	Components    int
	// Depth is the bit depth of the first component (1–38).
	Depth int
	// Codestream is the raw codestream (from its SOC marker): the image
	// itself for a .j2k file, the jp2c box's contents for a JP2 file. It
	// shares the caller's bytes.
	Codestream []byte
}

// Limits bound what ParseHeader accepts.
type Limits struct {
	MaxWidth, MaxHeight, MaxComponents int
}

// Markers and signatures used here.
var (
	soc       = []byte{0xFF, 0x4F} // start of codestream
	siz       = []byte{0xFF, 0x51} // image and tile size
	jp2Magic  = []byte{0x00, 0x00, 0x00, 0x0C, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A}
	boxJP2C   = [4]byte{'j', 'p', '2', 'c'}
	sizFixed  = 38 // SIZ bytes after the marker up to and including Csiz
	sizPerCmp = 3
)

// ParseHeader reads the header of a J2K codestream or a JP2 file and
// checks it against lim.
func ParseHeader(b []byte, lim Limits) (Header, error) {
	cs := b
	if bytes.HasPrefix(b, jp2Magic) {
		var err error
		if cs, err = jp2Codestream(b); err != nil {
			return Header{}, err
		}
	}
	if !bytes.HasPrefix(cs, soc) || len(cs) < 4 || !bytes.Equal(cs[2:4], siz) {
		return Header{}, fmt.Errorf("%w: no SOC and SIZ markers at the start", ErrNotJPEG2000)
	}
	s := cs[4:]
	if len(s) < sizFixed {
		return Header{}, fmt.Errorf("%w: SIZ cut short at %d bytes", ErrNotJPEG2000, len(s))
	}
	lsiz := int(binary.BigEndian.Uint16(s))
	xsiz, ysiz := binary.BigEndian.Uint32(s[4:]), binary.BigEndian.Uint32(s[8:])
	xo, yo := binary.BigEndian.Uint32(s[12:]), binary.BigEndian.Uint32(s[16:])
	csiz := int(binary.BigEndian.Uint16(s[36:]))
	if lsiz != sizFixed+sizPerCmp*csiz || len(s) < lsiz {
		return Header{}, fmt.Errorf("%w: SIZ length %d for %d components (%d bytes there)", ErrNotJPEG2000, lsiz, csiz, len(s))
	}
	if xo >= xsiz || yo >= ysiz || csiz == 0 {
		return Header{}, fmt.Errorf("%w: empty image (%d..%d × %d..%d, %d components)", ErrNotJPEG2000, xo, xsiz, yo, ysiz, csiz)
	}
	h := Header{Width: int(xsiz - xo), Height: int(ysiz - yo), Components: csiz, Depth: int(s[38]&0x7F) + 1, Codestream: cs}
	if h.Width > lim.MaxWidth || h.Height > lim.MaxHeight || h.Components > lim.MaxComponents {
		return Header{}, fmt.Errorf("%w: %d×%d, %d components (at most %d×%d, %d)", ErrTooLarge, h.Width, h.Height, h.Components, lim.MaxWidth, lim.MaxHeight, lim.MaxComponents)
	}
	return h, nil
}

// jp2Codestream returns the contents of a JP2 file's jp2c box.
func jp2Codestream(b []byte) ([]byte, error) {
	for rest := b; len(rest) > 0; {
		if len(rest) < 8 {
			return nil, fmt.Errorf("%w: JP2 box header cut short", ErrNotJPEG2000)
		}
		size := uint64(binary.BigEndian.Uint32(rest))
		typ := [4]byte(rest[4:8])
		head := uint64(8)
		switch size {
		case 0: // the box runs to the end of the file
			size = uint64(len(rest))
		case 1: // a 64-bit size follows
			if len(rest) < 16 {
				return nil, fmt.Errorf("%w: JP2 box header cut short", ErrNotJPEG2000)
			}
			size, head = binary.BigEndian.Uint64(rest[8:]), 16
		}
		if size < head || size > uint64(len(rest)) {
			return nil, fmt.Errorf("%w: JP2 box %q of %d bytes where %d remain", ErrNotJPEG2000, typ[:], size, len(rest))
		}
		if typ == boxJP2C {
			return rest[head:size], nil
		}
		rest = rest[size:]
	}
	return nil, fmt.Errorf("%w: JP2 file without a codestream box", ErrNotJPEG2000)
}
