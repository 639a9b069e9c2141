// Package enroll makes a tablet a device of a facility: it has the device's
// key pair generated, registers the public half with the server using the
// one-time code an admin gave, and keeps the enrollment on the device.
//
// The key pair lives wherever Keys keeps it: in the browser a
// non-extractable WebCrypto key in IndexedDB (wasm/devkey), so not even
// the app's own code can copy the private key off the tablet.
package enroll

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/syncproto"
)

// Enrollment is what a device was enrolled as.
type Enrollment struct {
	Device   string     `json:"device"`
	Facility string     `json:"facility"`
	Role     scope.Role `json:"role"`
	At       time.Time  `json:"at"`
}

// Keys makes the device's key pair. Generate replaces any earlier pair
// and returns the raw 32-byte Ed25519 public key.
type Keys interface {
	Generate(ctx context.Context) ([]byte, error)
}

// Store keeps the enrollment on the device.
type Store interface {
	SaveEnrollment(ctx context.Context, e Enrollment) error
}

// Register sends a registration to the server (syncproto.Register over
// net/http natively; the browser's fetch in the PWA).
type Register func(ctx context.Context, req syncproto.RegisterRequest) (syncproto.RegisterResponse, error)

// ErrNoCode means the person pressed the button without typing a code.
var ErrNoCode = errors.New("enroll: no code given")

// Enroll registers device with the server using code, and saves the
// enrollment. A refusal by the server is returned as a *syncproto.Error
// (use errors.As), so the screen can say why in words.
func Enroll(ctx context.Context, register Register, device, code, name string, keys Keys, store Store) (Enrollment, error) {
	code = strings.TrimSpace(code)
	if code == "" {
		return Enrollment{}, ErrNoCode
	}
	pub, err := keys.Generate(ctx)
	if err != nil {
		return Enrollment{}, fmt.Errorf("enroll: make the device key: %w", err)
	}
	resp, err := register(ctx, syncproto.RegisterRequest{Code: code, Device: device, PublicKey: pub, Name: name})
	if err != nil {
		return Enrollment{}, fmt.Errorf("enroll: %w", err)
	}
	e := Enrollment{Device: resp.Device, Facility: resp.Facility, Role: scope.Role(resp.Role), At: time.Now().UTC()}
	if err := store.SaveEnrollment(ctx, e); err != nil {
		return Enrollment{}, fmt.Errorf("enroll: save on this device: %w", err)
	}
	return e, nil
}
