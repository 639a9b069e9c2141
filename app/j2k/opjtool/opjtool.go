// Package opjtool runs Debian's OpenJPEG command-line tools (opj_compress
// and opj_decompress, package libopenjp2-tools, installed by
// scripts/deps.sh) to make and check JPEG 2000 fixtures: the card-like
// photos of the 1:1 threshold's test set, the simulated card's portrait,
// and the reference pixels the browser's decoder is compared with. It is
// for tests and build steps on a developer's machine, never for a
// terminal: there the photo is decoded in the browser.
package opjtool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

// ErrMissing is wrapped when the tools are not installed.
var ErrMissing = errors.New("opjtool: opj_compress/opj_decompress not installed (scripts/deps.sh installs libopenjp2-tools)")

// ErrTool is wrapped when a tool fails: its output is in the message.
var ErrTool = errors.New("opjtool: OpenJPEG tool failed")

// Check reports whether both tools are on PATH.
func Check() error {
	for _, name := range []string{"opj_compress", "opj_decompress"} {
		if _, err := exec.LookPath(name); err != nil {
			return fmt.Errorf("%w: %w", ErrMissing, err)
		}
	}
	return nil
}

func run(ctx context.Context, name string, args ...string) error {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return fmt.Errorf("%w: %w", ErrMissing, err)
		}
		return fmt.Errorf("%w: %s %v: %w: %s", ErrTool, name, args, err, bytes.TrimSpace(out))
	}
	return nil
}

// Encode compresses a greyscale image into a JPEG 2000 codestream of at
// most maxBytes, as the card's issuing system fits the portrait into its
// file: opj_compress at the rate raw/maxBytes, made stricter by a tenth
// until the result fits (its rate control is close, not exact).
func Encode(ctx context.Context, g *image.Gray, maxBytes int) ([]byte, error) {
	dir, err := os.MkdirTemp("", "opjtool")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	in, out := filepath.Join(dir, "in.pgm"), filepath.Join(dir, "out.j2k")
	if err := os.WriteFile(in, PGM(g), 0o600); err != nil {
		return nil, err
	}
	raw := float64(g.Rect.Dx() * g.Rect.Dy())
	for ratio, try := raw/float64(maxBytes), 0; try < 8; ratio, try = ratio*1.1, try+1 {
		if err := run(ctx, "opj_compress", "-i", in, "-o", out, "-r", strconv.FormatFloat(max(ratio, 1), 'f', 2, 64)); err != nil {
			return nil, err
		}
		b, err := os.ReadFile(out)
		if err != nil {
			return nil, err
		}
		if len(b) <= maxBytes {
			return b, nil
		}
	}
	return nil, fmt.Errorf("%w: could not fit %.0f pixels into %d bytes", ErrTool, raw, maxBytes)
}

// Decode decodes JPEG 2000 bytes (codestream or JP2) with opj_decompress
// into a greyscale image; a colour image is refused.
func Decode(ctx context.Context, data []byte) (*image.Gray, error) {
	dir, err := os.MkdirTemp("", "opjtool")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	ext := ".j2k"
	if bytes.HasPrefix(data, []byte{0, 0, 0, 0x0C, 'j', 'P'}) {
		ext = ".jp2"
	}
	in, out := filepath.Join(dir, "in"+ext), filepath.Join(dir, "out.pgm")
	if err := os.WriteFile(in, data, 0o600); err != nil {
		return nil, err
	}
	if err := run(ctx, "opj_decompress", "-i", in, "-o", out); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(out)
	if err != nil {
		// opj_decompress writes one file per component for colour.
		return nil, fmt.Errorf("%w: no greyscale output: %w", ErrTool, err)
	}
	return ParsePGM(b)
}

// PGM encodes g as a binary 8-bit PGM (P5), the input opj_compress reads.
func PGM(g *image.Gray) []byte {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	b := fmt.Appendf(nil, "P5\n%d %d\n255\n", w, h)
	for y := range h {
		off := g.PixOffset(g.Rect.Min.X, g.Rect.Min.Y+y)
		b = append(b, g.Pix[off:off+w]...)
	}
	return b
}

// ParsePGM decodes a binary 8-bit PGM (P5) as opj_decompress writes it
// (with a "#OpenJPEG" comment line in its header).
func ParsePGM(b []byte) (*image.Gray, error) {
	var fields []string
	rest := b
	for len(fields) < 4 {
		rest = bytes.TrimLeft(rest, " \t\r\n")
		if len(rest) == 0 {
			return nil, fmt.Errorf("%w: PGM header cut short", ErrTool)
		}
		if rest[0] == '#' {
			if i := bytes.IndexByte(rest, '\n'); i >= 0 {
				rest = rest[i:]
				continue
			}
			return nil, fmt.Errorf("%w: PGM header cut short", ErrTool)
		}
		end := bytes.IndexAny(rest, " \t\r\n")
		if end < 0 {
			return nil, fmt.Errorf("%w: PGM header cut short", ErrTool)
		}
		fields = append(fields, string(rest[:end]))
		rest = rest[end+1:] // one white-space byte ends the last field
	}
	w, errW := strconv.Atoi(fields[1])
	h, errH := strconv.Atoi(fields[2])
	if fields[0] != "P5" || fields[3] != "255" || errW != nil || errH != nil || w <= 0 || h <= 0 || w > len(rest)/h {
		return nil, fmt.Errorf("%w: not an 8-bit P5 PGM with its pixels (%q)", ErrTool, fields)
	}
	g := image.NewGray(image.Rect(0, 0, w, h))
	copy(g.Pix, rest)
	return g, nil
}
