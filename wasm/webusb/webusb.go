//go:build js && wasm

// Package webusb reaches a USB card reader through the browser's WebUSB
// (navigator.usb) and hands its bulk pipes to the reader's driver in
// app/card: RC-S380, RC-S300, or a generic CCID reader where the browser
// grants the class. The person picks the reader in the browser's
// chooser, which lists only readers that can work.
package webusb

import (
	"context"
	"errors"
	"fmt"

	"github.com/hack-pad/safejs"

	"smartpass.city/smartpass/app/card/apdu"
	"smartpass.city/smartpass/app/card/ccid"
	"smartpass.city/smartpass/app/card/rcs300"
	"smartpass.city/smartpass/app/card/rcs380"
	"smartpass.city/smartpass/app/card/reader"
	"smartpass.city/smartpass/wasm/jsbytes"
	"smartpass.city/smartpass/wasm/promise"
)

// ErrNoWebUSB means the browser has no WebUSB (Safari, Firefox, or a page
// not served over https).
var ErrNoWebUSB = errors.New("webusb: this browser cannot use USB card readers")

// Conn is a card on a reader, ready for APDUs.
type Conn struct {
	apdu.Transceiver
	// Model is the reader.
	Model reader.Model
	pipe  *pipe
}

// Transfers is the number of USB transfers so far, both ways.
func (c *Conn) Transfers() int { return c.pipe.n }

// Connect asks for a reader, opens it and brings up the card on it. It
// must run in answer to a tap: the browser shows its device chooser only
// then.
func Connect(ctx context.Context) (*Conn, error) {
	nav, _ := safejs.Global().Get("navigator")
	usb, err := nav.Get("usb")
	if err != nil || usb.IsUndefined() {
		return nil, ErrNoWebUSB
	}
	var filters []any
	for _, f := range reader.Filters() {
		if f.Class != 0 {
			filters = append(filters, map[string]any{"classCode": int(f.Class)})
		} else {
			filters = append(filters, map[string]any{"vendorId": int(f.VendorID), "productId": int(f.ProductID)})
		}
	}
	p, err := usb.Call("requestDevice", map[string]any{"filters": filters})
	if err != nil {
		return nil, fmt.Errorf("webusb: %w", err)
	}
	dev, err := promise.Await(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("webusb: choose a reader: %w", err)
	}
	model, err := reader.Identify(uint16(intOf(dev, "vendorId")), uint16(intOf(dev, "productId")), interfaces(dev))
	if err != nil {
		return nil, err
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
		if err != nil && step.method == "claimInterface" && model.Protocol == reader.CCID {
			return nil, reader.Refused(model, err)
		}
		if err != nil {
			return nil, fmt.Errorf("webusb: %s %s: %w", step.method, model.Name, err)
		}
	}
	pp, err := bulkPipe(dev, model.Interface)
	if err != nil {
		return nil, fmt.Errorf("webusb: %s: %w", model.Name, err)
	}
	var t apdu.Transceiver
	switch model.Protocol {
	case reader.RCS380:
		t, err = rcs380.Open(ctx, pp)
	case reader.RCS300:
		t, err = rcs300.Open(ctx, pp)
	default:
		t, err = ccid.Open(ctx, pp)
	}
	if err != nil {
		return nil, err
	}
	return &Conn{Transceiver: t, Model: model, pipe: pp}, nil
}

func intOf(v safejs.Value, prop string) int {
	x, err := v.Get(prop)
	if err != nil {
		return 0
	}
	n, _ := x.Int()
	return n
}

// each calls fn with every element of the JavaScript array v.
func each(v safejs.Value, fn func(safejs.Value)) {
	n := intOf(v, "length")
	for i := range n {
		if e, err := v.Index(i); err == nil {
			fn(e)
		}
	}
}

// interfaces lists the device's interfaces in its first configuration.
func interfaces(dev safejs.Value) []reader.Interface {
	var out []reader.Interface
	cfg, err := dev.Get("configurations")
	if err != nil || cfg.IsUndefined() {
		return nil
	}
	first, err := cfg.Index(0)
	if err != nil || first.IsUndefined() {
		return nil
	}
	ifs, _ := first.Get("interfaces")
	each(ifs, func(i safejs.Value) {
		alt, _ := i.Get("alternates")
		a0, err := alt.Index(0)
		if err != nil || a0.IsUndefined() {
			return
		}
		out = append(out, reader.Interface{Number: intOf(i, "interfaceNumber"), Class: byte(intOf(a0, "interfaceClass"))})
	})
	return out
}

// bulkPipe finds the claimed interface's bulk endpoints.
func bulkPipe(dev safejs.Value, iface int) (*pipe, error) {
	cfg, _ := dev.Get("configuration")
	ifs, _ := cfg.Get("interfaces")
	p := &pipe{dev: dev}
	each(ifs, func(i safejs.Value) {
		if intOf(i, "interfaceNumber") != iface {
			return
		}
		alt, _ := i.Get("alternate")
		eps, _ := alt.Get("endpoints")
		each(eps, func(e safejs.Value) {
			typ, _ := e.Get("type")
			dir, _ := e.Get("direction")
			ts, _ := typ.String()
			ds, _ := dir.String()
			if ts != "bulk" {
				return
			}
			if ds == "in" {
				p.in = intOf(e, "endpointNumber")
			} else {
				p.out = intOf(e, "endpointNumber")
			}
		})
	})
	if p.in == 0 || p.out == 0 {
		return nil, fmt.Errorf("interface %d has no bulk endpoints", iface)
	}
	return p, nil
}

// pipe is a reader's bulk endpoints. It counts transfers for the
// figures.
type pipe struct {
	dev     safejs.Value
	in, out int
	n       int
}

func (p *pipe) Out(ctx context.Context, data []byte) error {
	p.n++
	arr, err := jsbytes.ToJS(data)
	if err != nil {
		return err
	}
	pr, err := p.dev.Call("transferOut", p.out, arr)
	if err == nil {
		_, err = promise.Await(ctx, pr)
	}
	if err != nil {
		return fmt.Errorf("webusb: transfer out: %w", err)
	}
	return nil
}

func (p *pipe) In(ctx context.Context, max int) ([]byte, error) {
	p.n++
	pr, err := p.dev.Call("transferIn", p.in, max)
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
