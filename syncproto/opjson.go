package syncproto

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// AppendJSON appends op's JSON to dst, without reflection, for the
// store that writes every op it is pushed: what Encode writes of op, but
// with the body as it is, where Encode compacts it. So what a store keeps
// is never shorter than what a pull sends of it again, and a pull limited
// by stored bytes fits a frame. A body that is not JSON is refused, as
// json.Marshal refuses it; a device or kind outside the protocol's
// alphabets goes through encoding/json, which escapes it.
func (op *Op) AppendJSON(dst []byte) ([]byte, error) {
	if len(op.Body) > 0 && !json.Valid(op.Body) {
		return dst, fmt.Errorf("syncproto: op body is not JSON: %w", ErrInvalid)
	}
	if !plainJSON(op.Device) || !plainJSON(op.Kind) {
		b := bytes.NewBuffer(dst)
		err := writeJSON(b, op)
		return bytes.TrimSuffix(b.Bytes(), []byte("\n")), err
	}
	dst = append(dst, `{"dev":"`...)
	dst = append(dst, op.Device...)
	dst = append(dst, `","seq":`...)
	dst = strconv.AppendUint(dst, op.Seq, 10)
	dst = append(dst, `,"hlc":`...)
	dst = strconv.AppendUint(dst, op.HLC, 10)
	dst = append(dst, `,"kind":"`...)
	dst = append(dst, op.Kind...)
	dst = append(dst, '"')
	if len(op.Body) > 0 {
		dst = append(dst, `,"body":`...)
		dst = append(dst, op.Body...)
	}
	if op.Global != 0 {
		dst = append(dst, `,"g":`...)
		dst = strconv.AppendUint(dst, op.Global, 10)
	}
	return append(dst, '}'), nil
}

// plainJSON reports whether s is written in a JSON string as it is: the
// device and kind alphabets' bytes only.
func plainJSON(s string) bool {
	return allBytes(s, func(c byte) bool { return isAlnum(c) || c == '_' || c == '.' || c == '-' })
}

// The identifier alphabets, checked byte by byte: every op of every push
// is checked, and the regular expressions these replace cost about 2% of
// the server's CPU under a stream of pushes.

func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlnum(c byte) bool { return isLower(c) || isDigit(c) || 'A' <= c && c <= 'Z' }

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// kindChars reports whether s is an op kind's spelling: a lower-case
// letter, then lower-case letters, digits, '_' and '.'.
func kindChars(s string) bool {
	return s != "" && isLower(s[0]) && allBytes(s[1:], func(c byte) bool { return isLower(c) || isDigit(c) || c == '_' || c == '.' })
}

// feedChars reports whether s is a feed's spelling: a kind's, and '-'.
func feedChars(s string) bool {
	return s != "" && isLower(s[0]) && allBytes(s[1:], func(c byte) bool { return isLower(c) || isDigit(c) || c == '_' || c == '.' || c == '-' })
}

// deviceChars reports whether s is a device id's spelling: letters,
// digits, '_' and '-'.
func deviceChars(s string) bool {
	return s != "" && allBytes(s, func(c byte) bool { return isAlnum(c) || c == '_' || c == '-' })
}
