// Package tlv reads the BER-TLV structures of the My Number Card's data
// files: the FF20 container of the card-info application, with the basic
// four facts in DF22..DF25, and the card-face application's container.
//
// The card's DFxx tags have the "constructed" bit set although their
// values are plain data, so Parse never descends on its own: a caller
// parses a container's value explicitly.
package tlv

import (
	"errors"
	"fmt"
)

// TLV is one tag-length-value element.
type TLV struct {
	Tag   uint32 // the tag's bytes, big-endian: 0xFF20, 0xDF22
	Value []byte
}

// ErrMalformed is wrapped for bytes that are not well-formed BER-TLV.
var ErrMalformed = errors.New("tlv: malformed")

// Limits: no tag on the card is longer than 3 bytes, no length needs more
// than 3 length bytes.
const (
	maxTagBytes    = 3
	maxLengthBytes = 3
)

// Parse reads a sequence of TLVs filling b. Padding of 0x00 or 0xFF
// between elements (as files are padded to their size) ends the sequence.
func Parse(b []byte) ([]TLV, error) {
	var out []TLV
	for len(b) > 0 {
		if b[0] == 0x00 || (b[0] == 0xFF && (len(b) < 2 || b[1] == 0xFF)) {
			break // padding to the end of the file
		}
		t, rest, err := next(b)
		if err != nil {
			return out, err
		}
		out = append(out, t)
		b = rest
	}
	return out, nil
}

func next(b []byte) (TLV, []byte, error) {
	tag := uint32(b[0])
	i := 1
	if b[0]&0x1F == 0x1F {
		for {
			if i >= len(b) || i >= maxTagBytes {
				return TLV{}, nil, fmt.Errorf("%w: tag runs past %d bytes", ErrMalformed, i)
			}
			tag = tag<<8 | uint32(b[i])
			i++
			if b[i-1]&0x80 == 0 {
				break
			}
		}
	}
	if i >= len(b) {
		return TLV{}, nil, fmt.Errorf("%w: tag %X has no length", ErrMalformed, tag)
	}
	n := int(b[i])
	i++
	if n&0x80 != 0 {
		k := n & 0x7F
		if k == 0 || k > maxLengthBytes || i+k > len(b) {
			return TLV{}, nil, fmt.Errorf("%w: tag %X length of %d bytes", ErrMalformed, tag, k)
		}
		n = 0
		for _, c := range b[i : i+k] {
			n = n<<8 | int(c)
		}
		i += k
	}
	if n > len(b)-i {
		return TLV{}, nil, fmt.Errorf("%w: tag %X says %d bytes, %d remain", ErrMalformed, tag, n, len(b)-i)
	}
	return TLV{Tag: tag, Value: b[i : i+n : i+n]}, b[i+n:], nil
}

// Find returns the value of the first element tagged tag.
func Find(ts []TLV, tag uint32) ([]byte, bool) {
	for _, t := range ts {
		if t.Tag == tag {
			return t.Value, true
		}
	}
	return nil, false
}

// Append encodes one element onto b (the simulator builds its files with
// it).
func Append(b []byte, tag uint32, value []byte) []byte {
	switch {
	case tag > 0xFFFF:
		b = append(b, byte(tag>>16), byte(tag>>8), byte(tag))
	case tag > 0xFF:
		b = append(b, byte(tag>>8), byte(tag))
	default:
		b = append(b, byte(tag))
	}
	switch n := len(value); {
	case n < 0x80:
		b = append(b, byte(n))
	case n <= 0xFF:
		b = append(b, 0x81, byte(n))
	case n <= 0xFFFF:
		b = append(b, 0x82, byte(n>>8), byte(n))
	default:
		b = append(b, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, value...)
}
