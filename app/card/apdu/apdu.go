// Package apdu encodes and decodes ISO/IEC 7816-4 command and response
// APDUs, short and extended, and turns status words into typed errors.
//
// Exchange runs one command to completion over any Transceiver (a reader's
// byte protocol, or the simulator): it follows response chaining (61xx:
// more data, fetched with GET RESPONSE) and a wrong-length answer (6Cxx:
// the command sent again with the right Le), so callers see one response.
package apdu

import (
	"context"
	"errors"
	"fmt"
)

// Command is a command APDU. Le is the number of response bytes expected:
// NoLe for none, and 0 meaning the maximum (256 short, 65536 extended).
type Command struct {
	CLA, INS, P1, P2 byte
	Data             []byte
	Le               int
}

// NoLe marks a command that expects no response data.
const NoLe = -1

// Limits of the two encodings.
const (
	MaxShortData    = 255
	MaxShortLe      = 256
	MaxExtendedData = 65535
	MaxExtendedLe   = 65536
)

// ErrMalformed is wrapped by the decoders for bytes that are not an APDU.
var ErrMalformed = errors.New("apdu: malformed")

// Extended reports whether c needs the extended encoding.
func (c Command) Extended() bool { return len(c.Data) > MaxShortData || c.Le > MaxShortLe }

// Encode returns the command's bytes: the short form where it fits, the
// extended form otherwise.
func (c Command) Encode() ([]byte, error) {
	if len(c.Data) > MaxExtendedData || c.Le > MaxExtendedLe || c.Le < NoLe {
		return nil, fmt.Errorf("apdu: encode: %d data bytes, Le %d out of range", len(c.Data), c.Le)
	}
	b := []byte{c.CLA, c.INS, c.P1, c.P2}
	ext := c.Extended()
	if len(c.Data) > 0 {
		if ext {
			b = append(b, 0, byte(len(c.Data)>>8), byte(len(c.Data)))
		} else {
			b = append(b, byte(len(c.Data)))
		}
		b = append(b, c.Data...)
	}
	if c.Le != NoLe {
		le := c.Le
		switch {
		case ext && len(c.Data) == 0:
			b = append(b, 0, byte(le>>8), byte(le)) // 65536 wraps to 00 00
		case ext:
			b = append(b, byte(le>>8), byte(le))
		default:
			b = append(b, byte(le)) // 256 wraps to 00
		}
	}
	return b, nil
}

// ParseCommand decodes a command APDU (the card's side: the simulator).
func ParseCommand(b []byte) (Command, error) {
	if len(b) < 4 {
		return Command{}, fmt.Errorf("%w: %d bytes, a header needs 4", ErrMalformed, len(b))
	}
	c := Command{CLA: b[0], INS: b[1], P1: b[2], P2: b[3], Le: NoLe}
	body := b[4:]
	shortLe := func(v byte) int {
		if v == 0 {
			return MaxShortLe
		}
		return int(v)
	}
	extLe := func(hi, lo byte) int {
		if v := int(hi)<<8 | int(lo); v != 0 {
			return v
		}
		return MaxExtendedLe
	}
	switch {
	case len(body) == 0: // case 1
	case len(body) == 1: // case 2 short
		c.Le = shortLe(body[0])
	case body[0] != 0: // case 3 or 4 short
		n := int(body[0])
		switch len(body) {
		case 1 + n:
			c.Data = body[1:]
		case 2 + n:
			c.Data, c.Le = body[1:1+n], shortLe(body[1+n])
		default:
			return Command{}, fmt.Errorf("%w: Lc %d with %d body bytes", ErrMalformed, n, len(body))
		}
	case len(body) == 3: // case 2 extended
		c.Le = extLe(body[1], body[2])
	default: // case 3 or 4 extended
		if len(body) < 3 {
			return Command{}, fmt.Errorf("%w: truncated extended length", ErrMalformed)
		}
		n := int(body[1])<<8 | int(body[2])
		if n == 0 {
			return Command{}, fmt.Errorf("%w: extended Lc of zero", ErrMalformed)
		}
		switch len(body) {
		case 3 + n:
			c.Data = body[3:]
		case 5 + n:
			c.Data, c.Le = body[3:3+n], extLe(body[3+n], body[4+n])
		default:
			return Command{}, fmt.Errorf("%w: extended Lc %d with %d body bytes", ErrMalformed, n, len(body))
		}
	}
	return c, nil
}

// Response is a response APDU: data, then the two status bytes.
type Response struct {
	Data []byte
	SW   uint16
}

// ParseResponse splits a response into data and status word.
func ParseResponse(b []byte) (Response, error) {
	if len(b) < 2 {
		return Response{}, fmt.Errorf("%w: response of %d bytes has no status word", ErrMalformed, len(b))
	}
	n := len(b) - 2
	return Response{Data: b[:n:n], SW: uint16(b[n])<<8 | uint16(b[n+1])}, nil
}

// Encode returns the response's bytes.
func (r Response) Encode() []byte {
	return append(append([]byte(nil), r.Data...), byte(r.SW>>8), byte(r.SW))
}

// Status words the card packages act on.
const (
	SWOK               uint16 = 0x9000
	SWWrongLength      uint16 = 0x6700
	SWSecurityStatus   uint16 = 0x6982 // access denied: verify first
	SWPINBlocked       uint16 = 0x6984 // reference data not usable: blocked
	SWConditions       uint16 = 0x6985
	SWWrongData        uint16 = 0x6A80
	SWFileNotFound     uint16 = 0x6A82
	SWWrongP1P2        uint16 = 0x6B00 // offset past the end of the file
	SWINSNotSupported  uint16 = 0x6D00
	SWCLANotSupported  uint16 = 0x6E00
	SWReferenceMissing uint16 = 0x6A88
)

// Transceiver sends one command APDU and returns the card's response
// bytes: a reader's byte protocol, or the simulator.
type Transceiver interface {
	Transmit(ctx context.Context, command []byte) ([]byte, error)
}

// Counter is a Transceiver that counts the APDUs sent through it: the
// figure a terminal shows staff and the tests report.
type Counter struct {
	T Transceiver
	N int
}

// Transmit implements Transceiver.
func (c *Counter) Transmit(ctx context.Context, command []byte) ([]byte, error) {
	c.N++
	return c.T.Transmit(ctx, command)
}

// maxChain bounds GET RESPONSE rounds, so a broken card cannot loop us.
const maxChain = 64

// Exchange sends c over t and returns the response data once the status
// is 9000, following 61xx and 6Cxx. Any other status is returned as an
// error from Err (use errors.As / errors.Is).
func Exchange(ctx context.Context, t Transceiver, c Command) ([]byte, error) {
	var out []byte
	resend := false
	for round := 0; round < maxChain; round++ {
		b, err := c.Encode()
		if err != nil {
			return nil, err
		}
		raw, err := t.Transmit(ctx, b)
		if err != nil {
			return nil, fmt.Errorf("apdu: %02X %02X: %w", c.CLA, c.INS, err)
		}
		r, err := ParseResponse(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, r.Data...)
		switch sw1 := byte(r.SW >> 8); {
		case r.SW == SWOK:
			return out, nil
		case sw1 == 0x61: // more data: GET RESPONSE
			c = Command{CLA: c.CLA &^ 0x0C, INS: 0xC0, Le: shortLe(byte(r.SW))}
		case sw1 == 0x6C && !resend: // wrong Le: the card says the right one
			c.Le, resend = shortLe(byte(r.SW)), true
			out = out[:0]
		default:
			return out, Err(r.SW)
		}
	}
	return nil, fmt.Errorf("apdu: %02X: more than %d chained responses", c.INS, maxChain)
}

func shortLe(b byte) int {
	if b == 0 {
		return MaxShortLe
	}
	return int(b)
}
