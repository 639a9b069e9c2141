//go:build js && wasm

// Package geolocation gives the vehicle tablet its position
// (ui.Geolocation): the browser's navigator.geolocation.watchPosition,
// asking for GPS accuracy, each position handed over as a vehicle.Fix
// until the screen stops watching (clearWatch).
package geolocation

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hack-pad/safejs"

	"smartpass.city/smartpass/app/vehicle"
)

// ErrUnavailable is passed when the browser has no Geolocation (an
// insecure origin, or none at all).
var ErrUnavailable = errors.New("geolocation: not available")

// ErrDenied is passed when the person or the browser refused the
// position.
var ErrDenied = errors.New("geolocation: permission denied")

// ErrNoPosition is passed when the device could not tell its position
// for now (no GPS lock); the watch goes on and a later fix follows.
var ErrNoPosition = errors.New("geolocation: no position")

// permissionDenied is GeolocationPositionError.PERMISSION_DENIED.
const permissionDenied = 1

// releaseAfter is how long the callbacks outlive clearWatch before they
// are released: a position already queued on the event loop may still
// call one, and a released function would throw.
const releaseAfter = 10 * time.Second

// Geolocation implements ui.Geolocation over the page's navigator.
type Geolocation struct{}

// Watch implements ui.Geolocation: high accuracy (the GPS, not Wi-Fi),
// never a cached position.
func (Geolocation) Watch(fix func(vehicle.Fix), failed func(error)) (stop func()) {
	nav, err := safejs.Global().Get("navigator")
	var geo safejs.Value
	if err == nil {
		geo, err = nav.Get("geolocation")
	}
	if err != nil || geo.IsUndefined() || geo.IsNull() {
		failed(ErrUnavailable)
		return func() {}
	}
	var mu sync.Mutex
	stopped := false
	live := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return !stopped
	}
	ok, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		if len(args) == 0 || !live() {
			return nil
		}
		if f, err := fixOf(args[0]); err == nil {
			fix(f)
		}
		return nil
	})
	if err != nil {
		failed(fmt.Errorf("%w: %w", ErrUnavailable, err))
		return func() {}
	}
	fail, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		if !live() {
			return nil
		}
		failed(errorOf(args))
		return nil
	})
	if err != nil {
		ok.Release()
		failed(fmt.Errorf("%w: %w", ErrUnavailable, err))
		return func() {}
	}
	id, err := geo.Call("watchPosition", ok.Value(), fail.Value(), map[string]any{"enableHighAccuracy": true, "maximumAge": 0})
	if err != nil {
		ok.Release()
		fail.Release()
		failed(fmt.Errorf("%w: %w", ErrUnavailable, err))
		return func() {}
	}
	return func() {
		mu.Lock()
		if stopped {
			mu.Unlock()
			return
		}
		stopped = true
		mu.Unlock()
		geo.Call("clearWatch", id)
		time.AfterFunc(releaseAfter, func() {
			ok.Release()
			fail.Release()
		})
	}
}

// fixOf reads a GeolocationPosition.
func fixOf(pos safejs.Value) (vehicle.Fix, error) {
	coords, err := pos.Get("coords")
	if err != nil {
		return vehicle.Fix{}, fmt.Errorf("geolocation: position: %w", err)
	}
	var v [3]float64
	for i, k := range []string{"latitude", "longitude", "accuracy"} {
		x, err := coords.Get(k)
		if err == nil {
			v[i], err = x.Float()
		}
		if err != nil {
			return vehicle.Fix{}, fmt.Errorf("geolocation: position %s: %w", k, err)
		}
	}
	at := time.Now()
	if ts, err := pos.Get("timestamp"); err == nil {
		if ms, err := ts.Float(); err == nil && ms > 0 {
			at = time.UnixMilli(int64(ms))
		}
	}
	return vehicle.Fix{Lat: v[0], Lon: v[1], Accuracy: v[2], At: at}, nil
}

// errorOf reads a GeolocationPositionError: a refusal, or no position
// for now.
func errorOf(args []safejs.Value) error {
	if len(args) == 0 {
		return ErrNoPosition
	}
	msg := ""
	if m, err := args[0].Get("message"); err == nil {
		msg, _ = m.String()
	}
	if c, err := args[0].Get("code"); err == nil {
		if code, err := c.Int(); err == nil && code == permissionDenied {
			return fmt.Errorf("%w: %s", ErrDenied, msg)
		}
	}
	return fmt.Errorf("%w: %s", ErrNoPosition, msg)
}
