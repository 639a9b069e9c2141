package cardsession

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"smartpass.city/smartpass/app/card/apdu"
	"smartpass.city/smartpass/app/card/reader"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/syncproto"
)

// TestFailed: what counts as the card or the person failing a check,
// and what is the reader's, the network's or the server's doing.
func TestFailed(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"none", nil, false},
		{"wrong PIN", fmt.Errorf("cardsession: check: %w", &apdu.WrongPINError{Remaining: 2}), true},
		{"blocked", apdu.ErrPINBlocked, true},
		{"untrusted offline", jpki.ErrUntrusted, true},
		{"expired offline", fmt.Errorf("x: %w", jpki.ErrExpired), true},
		{"revoked offline", jpki.ErrRevoked, true},
		{"signature offline", jpki.ErrSignature, true},
		{"revoked by the server", &syncproto.Error{Code: syncproto.CodeCardRevoked}, true},
		{"signature by the server", &syncproto.Error{Code: syncproto.CodeCardSignature}, true},
		{"nonce too old", &syncproto.Error{Code: syncproto.CodeCardNonce}, false},
		{"server cannot check", &syncproto.Error{Code: syncproto.CodeCardUnavailable}, false},
		{"no revocation data", jpki.ErrNoStatus, false},
		{"no nonce: PIN not sent", NoNonceError{errors.New("offline")}, false},
		{"card lifted", reader.ErrNoCard, false},
		{"reader timed out", context.DeadlineExceeded, false},
		{"PIN of the wrong form, never sent", fmt.Errorf("x: %w", errors.New("pin")), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Failed(tc.err); got != tc.want {
				t.Fatalf("Failed(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
