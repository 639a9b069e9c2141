// Package reader names the USB card readers this project drives and
// picks the driver for the one plugged in: Sony's PaSoRi models by USB
// vendor and product id, any other reader by its smart-card (CCID, class
// 0x0B) interface. The browser lets a web page claim a CCID interface
// only where it grants that class (an Isolated Web App, an extension);
// elsewhere the claim is refused and ErrClassReserved says what to use
// instead.
package reader

import (
	"errors"
	"fmt"
)

// Protocol is the byte protocol a reader speaks on its USB interface.
type Protocol string

// Protocols.
const (
	RCS380 Protocol = "rcs380" // Sony NFC Port-100 on a vendor-class interface
	RCS300 Protocol = "rcs300" // Sony CCID-framed escapes on a vendor-class interface
	CCID   Protocol = "ccid"   // a generic smart-card reader: CCID XfrBlock of whole APDUs
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

// Errors every reader driver's own errors wrap, so a screen can tell a
// person what to do whatever reader is plugged in. Use errors.Is.
var (
	// ErrNoCard: no card answered: none on the reader, or it was taken
	// away in the middle of an exchange.
	ErrNoCard = errors.New("reader: no card on the reader")
	// ErrGarbled: the reader sent bytes that are not its protocol (a
	// faulty reader or cable, or another program using it).
	ErrGarbled = errors.New("reader: the reader's answer is garbled")
)

// ClassCCID is the USB interface class of smart-card readers.
const ClassCCID = 0x0B

// Interface is one USB interface of a device: its number and class.
type Interface struct {
	Number int
	Class  byte
}

// Identify returns the model of the reader with these ids and
// interfaces: a supported Sony reader, or a generic CCID reader on its
// first smart-card interface.
func Identify(vendor, product uint16, ifaces []Interface) (Model, error) {
	for _, m := range Supported {
		if m.Vendor == vendor && m.Product == product {
			return m, nil
		}
	}
	for _, i := range ifaces {
		if i.Class == ClassCCID {
			return Model{Name: fmt.Sprintf("CCID reader %04X:%04X", vendor, product), Vendor: vendor, Product: product, Protocol: CCID, Interface: i.Number}, nil
		}
	}
	return Model{}, fmt.Errorf("%w (USB %04X:%04X); supported: Sony PaSoRi RC-S380 and RC-S300, and smart-card (CCID) readers where the browser allows them", ErrUnsupported, vendor, product)
}

// Refused is the error for a CCID reader whose interface the browser
// would not let the page claim.
func Refused(m Model, err error) error {
	return fmt.Errorf("%w (%s: %v); use a Sony PaSoRi RC-S380 or RC-S300", ErrClassReserved, m.Name, err)
}

// Filter is one entry of navigator.usb.requestDevice's filters: a
// vendor and product, or (both zero) an interface class.
type Filter struct {
	VendorID  uint16
	ProductID uint16
	Class     byte
}

// Filters lists every supported reader for the browser's device chooser:
// each Sony model, then any smart-card reader.
func Filters() []Filter {
	out := make([]Filter, 0, len(Supported)+1)
	for _, m := range Supported {
		out = append(out, Filter{VendorID: m.Vendor, ProductID: m.Product})
	}
	return append(out, Filter{Class: ClassCCID})
}
