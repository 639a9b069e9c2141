// Package reader names the USB card readers this project drives, by USB
// vendor and product id, and says clearly why any other one cannot be
// used: the browser's WebUSB can only reach readers whose card interface
// is not of a class it reserves (CCID, 0x0B), which rules out generic
// smart-card readers outside Isolated Web Apps and extensions.
package reader

import (
	"errors"
	"fmt"
	"slices"
)

// Protocol is the byte protocol a reader speaks on its USB interface.
type Protocol string

// Protocols.
const (
	RCS380 Protocol = "rcs380" // Sony NFC Port-100 on a vendor-class interface
	RCS300 Protocol = "rcs300" // Sony CCID-framed escapes on a vendor-class interface
)

// Model is a supported reader.
type Model struct {
	Name            string
	Vendor, Product uint16
	Protocol        Protocol
	Interface       int // the USB interface to claim
}

// Supported lists the readers, in the order a person is offered them.
var Supported = []Model{
	{"Sony PaSoRi RC-S380/S", 0x054C, 0x06C1, RCS380, 0},
	{"Sony PaSoRi RC-S380/P", 0x054C, 0x06C3, RCS380, 0},
	{"Sony PaSoRi RC-S300/S", 0x054C, 0x0DC8, RCS300, 1},
	{"Sony PaSoRi RC-S300/P", 0x054C, 0x0DC9, RCS300, 1},
}

// Errors of Identify. Use errors.Is.
var (
	// ErrUnsupported: a reader this project has no driver for.
	ErrUnsupported = errors.New("reader: this card reader is not supported")
	// ErrClassReserved: a generic smart-card (CCID) reader, which the
	// browser does not let a web page use.
	ErrClassReserved = errors.New("reader: the browser does not let a web page use smart-card (CCID) readers")
)

// classCCID is the USB interface class of smart-card readers.
const classCCID = 0x0B

// Identify returns the model of the reader with these ids. classes are
// the device's interface classes, used to explain a refusal.
func Identify(vendor, product uint16, classes []byte) (Model, error) {
	for _, m := range Supported {
		if m.Vendor == vendor && m.Product == product {
			return m, nil
		}
	}
	if slices.Contains(classes, classCCID) {
		return Model{}, fmt.Errorf("%w (USB %04X:%04X); use a Sony PaSoRi RC-S380 or RC-S300", ErrClassReserved, vendor, product)
	}
	return Model{}, fmt.Errorf("%w (USB %04X:%04X); supported: Sony PaSoRi RC-S380 and RC-S300", ErrUnsupported, vendor, product)
}

// Filter is one entry of navigator.usb.requestDevice's filters.
type Filter struct {
	VendorID  uint16 `json:"vendorId"`
	ProductID uint16 `json:"productId"`
}

// Filters lists every supported reader for the browser's device chooser.
func Filters() []Filter {
	out := make([]Filter, len(Supported))
	for i, m := range Supported {
		out[i] = Filter{m.Vendor, m.Product}
	}
	return out
}
