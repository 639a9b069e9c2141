//go:build js && wasm

// Package webusb reaches a USB card reader through the browser's WebUSB
// (navigator.usb) and hands its bulk pipe to the reader's driver in
// app/card. The person picks the reader in the browser's chooser, which
// lists only supported models.
package webusb

import (
	"context"
	"errors"
	"fmt"

	"github.com/hack-pad/safejs"

	"smartpass.city/smartpass/app/card/apdu"
	"smartpass.city/smartpass/app/card/rcs380"
	"smartpass.city/smartpass/app/card/reader"
	"smartpass.city/smartpass/wasm/jsbytes"
	"smartpass.city/smartpass/wasm/promise"
)

// ErrNoWebUSB means the browser has no WebUSB (Safari, Firefox, or a page
// not served over https).
var ErrNoWebUSB = errors.New("webusb: this browser cannot use USB card readers")

// Connect asks for a reader, opens it and brings up the card on it. It
// must run in answer to a tap: the browser shows its device chooser only
// then.
func Connect(ctx context.Context) (apdu.Transceiver, error) {
	nav, _ := safejs.Global().Get("navigator")
	usb, err := nav.Get("usb")
	if err != nil || usb.IsUndefined() {
		return nil, ErrNoWebUSB
	}
	var filters []any
	for _, f := range reader.Filters() {
		filters = append(filters, map[string]any{"vendorId": int(f.VendorID), "productId": int(f.ProductID)})
	}
	p, err := usb.Call("requestDevice", map[string]any{"filters": filters})
	if err != nil {
		return nil, fmt.Errorf("webusb: %w", err)
	}
	dev, err := promise.Await(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("webusb: choose a reader: %w", err)
	}
	vendor, _ := dev.Get("vendorId")
	product, _ := dev.Get("productId")
	v, _ := vendor.Int()
	pr, _ := product.Int()
	model, err := reader.Identify(uint16(v), uint16(pr), nil)
	if err != nil {
		return nil, err
	}
	if model.Protocol != reader.RCS380 {
		return nil, fmt.Errorf("%w: the %s is recognised but not driven yet; use an RC-S380", reader.ErrUnsupported, model.Name)
	}
	for _, step := range []struct {
		method string
		args   []any
	}{
		{"open", nil},
		{"selectConfiguration", []any{1}},
		{"claimInterface", []any{model.Interface}},
	} {
		p, err := dev.Call(step.method, step.args...)
		if err == nil {
			_, err = promise.Await(ctx, p)
		}
		if err != nil {
			return nil, fmt.Errorf("webusb: %s %s: %w", step.method, model.Name, err)
		}
	}
	return rcs380.Open(ctx, pipe{dev})
}

// pipe is the RC-S380's bulk endpoints: 2 OUT, 1 IN.
type pipe struct{ dev safejs.Value }

func (p pipe) Out(ctx context.Context, data []byte) error {
	arr, err := jsbytes.ToJS(data)
	if err != nil {
		return err
	}
	pr, err := p.dev.Call("transferOut", 2, arr)
	if err == nil {
		_, err = promise.Await(ctx, pr)
	}
	if err != nil {
		return fmt.Errorf("webusb: transfer out: %w", err)
	}
	return nil
}

func (p pipe) In(ctx context.Context, max int) ([]byte, error) {
	pr, err := p.dev.Call("transferIn", 1, max)
	if err != nil {
		return nil, fmt.Errorf("webusb: transfer in: %w", err)
	}
	res, err := promise.Await(ctx, pr)
	if err != nil {
		return nil, fmt.Errorf("webusb: transfer in: %w", err)
	}
	dv, err := res.Get("data")
	if err != nil || dv.IsUndefined() || dv.IsNull() {
		return nil, fmt.Errorf("webusb: transfer in: no data")
	}
	return jsbytes.ToGo(dv)
}
