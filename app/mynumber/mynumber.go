// Package mynumber is the type that holds the 12-digit individual number
// (個人番号) wherever the project touches it: only in the hometown-tax
// one-stop application (ワンストップ特例申請), read from the card by
// app/card/onestop, sent once to the server and kept in its vault
// (server/numbervault) until the city forwards it to the donor's
// municipality of residence.
//
// Every printed form of a Number is masked, and it refuses to be encoded
// as JSON, so a log line, an error, an audit detail or a stored op that
// names one by mistake shows asterisks or fails. Reveal is the one way
// to its digits, for the request that carries it and the export file.
package mynumber

import (
	"errors"
	"fmt"
)

// ErrInvalid is wrapped by Parse; the caller puts it in words.
var (
	// ErrInvalid means a string is not an individual number: twelve
	// digits whose last is the check digit of the eleven before it.
	ErrInvalid = errors.New("mynumber: not a valid individual number")
)

// Number is an individual number. Its printed forms are masked; Reveal
// is the one way to its digits, and only the export calls it.
type Number struct{ digits string }

// Parse checks s (twelve ASCII digits) and returns it as a Number.
func Parse(s string) (Number, error) {
	if len(s) != 12 {
		return Number{}, fmt.Errorf("%w: %d characters, not 12", ErrInvalid, len(s))
	}
	for i := range 12 {
		if s[i] < '0' || s[i] > '9' {
			return Number{}, fmt.Errorf("%w: character %d is not a digit", ErrInvalid, i+1)
		}
	}
	if CheckDigit(s[:11]) != s[11]-'0' {
		return Number{}, fmt.Errorf("%w: the check digit does not match", ErrInvalid)
	}
	return Number{digits: s}, nil
}

// CheckDigit is the check digit of the eleven digits d (the 個人番号
// 検査用数字): with P(n) the n-th digit from the right and Q(n) = n+1 for
// n ≤ 6 and n−5 above, r = Σ P(n)·Q(n) mod 11; the digit is 0 when r ≤ 1,
// else 11 − r.
func CheckDigit(d string) byte {
	sum := 0
	for n := 1; n <= 11; n++ {
		p := int(d[11-n] - '0')
		q := n + 1
		if n > 6 {
			q = n - 5
		}
		sum += p * q
	}
	if r := sum % 11; r > 1 {
		return byte(11 - r)
	}
	return 0
}

// String masks the number.
func (Number) String() string { return "************" }

// GoString masks the number in %#v.
func (Number) GoString() string { return "mynumber.Number{************}" }

// MarshalJSON refuses: a Number never travels as JSON by accident.
func (Number) MarshalJSON() ([]byte, error) {
	return nil, errors.New("mynumber: an individual number is never encoded as JSON")
}

// Reveal returns the digits, for the request that carries them and the
// export file.
func (n Number) Reveal() string { return n.digits }

// IsZero reports whether n holds no number.
func (n Number) IsZero() bool { return n.digits == "" }
