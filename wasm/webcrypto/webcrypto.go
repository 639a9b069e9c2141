//go:build js && wasm

// Package webcrypto finds the page's WebCrypto, which the device's keys
// (devkey) and the sealing of its records at rest (idb) both need.
package webcrypto

import (
	"errors"

	"github.com/hack-pad/safejs"
)

// ErrUnavailable: the page has no WebCrypto. It exists only in secure
// contexts (https, or localhost).
var ErrUnavailable = errors.New("no WebCrypto (the page must come over https)")

// Subtle returns crypto.subtle.
func Subtle() (safejs.Value, error) {
	c, err := safejs.Global().Get("crypto")
	if err != nil {
		return c, ErrUnavailable
	}
	s, err := c.Get("subtle")
	if err != nil || s.IsUndefined() {
		return s, ErrUnavailable
	}
	return s, nil
}
