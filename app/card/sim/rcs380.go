package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	"smartpass.city/smartpass/app/card/rcs380"
)

// RCS380 is a software Sony RC-S380: it speaks the reader's USB frames
// (rcs380.USB) and, for the card on it, Type B activation and ISO-DEP.
// The browser's navigator.usb shim and native tests use the same code.
type RCS380 struct {
	mu      sync.Mutex
	field   field
	pending [][]byte
	// Frames records every frame the host sent, for tests.
	Frames [][]byte
	// Fault, when set, is asked for each InCommRF (counted from 0) what
	// goes wrong on the air, as a hand moving over the reader makes it.
	Fault   func(n int) Fault
	commRFs int
}

// Fault is what happens to one frame on the air.
type Fault int

// The faults a test can inject.
const (
	// NoFault: the frame and its answer cross.
	NoFault Fault = iota
	// LostToCard: the card never receives the frame; the reader times
	// out.
	LostToCard
	// CRCFromCard: the card acts on the frame, but its answer arrives
	// with a CRC error.
	CRCFromCard
)

// NewRCS380 returns a reader with c on it (nil: no card).
func NewRCS380(c *Card) *RCS380 { return &RCS380{field: field{card: c}} }

// Place puts a card on the reader (nil removes it).
func (r *RCS380) Place(c *Card) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.field.place(c)
}

// Out implements rcs380.USB.
func (r *RCS380) Out(ctx context.Context, data []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Frames = append(r.Frames, bytes.Clone(data))
	if bytes.Equal(data, rcs380.ACK) {
		// The host cancels what was under way; like the real reader,
		// what is already waiting in the IN pipe stays there.
		return nil
	}
	p, err := rcs380.ParseFrame(data)
	if err != nil {
		return err
	}
	if len(p) < 2 || p[0] != 0xD6 {
		return fmt.Errorf("%w: payload % X", rcs380.ErrFrame, p)
	}
	reply := r.handle(ctx, p[1], p[2:])
	r.pending = append(r.pending, rcs380.ACK, rcs380.Frame(append([]byte{0xD7, p[1] + 1}, reply...)))
	return nil
}

// In implements rcs380.USB.
func (r *RCS380) In(_ context.Context, max int) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) == 0 {
		return nil, errors.New("sim: nothing to read from the reader")
	}
	b := r.pending[0]
	r.pending = r.pending[1:]
	if len(b) > max {
		return nil, fmt.Errorf("sim: a %d-byte frame for a %d-byte read", len(b), max)
	}
	return b, nil
}

func (r *RCS380) handle(ctx context.Context, cmd byte, data []byte) []byte {
	switch cmd {
	case rcs380.CmdGetFirmware:
		return []byte{0x11, 0x01}
	case rcs380.CmdSwitchRF:
		r.field.power(false)
		return []byte{0x00}
	case rcs380.CmdInSetRF:
		r.field.power(true)
		return []byte{0x00}
	case rcs380.CmdSetCommandType, rcs380.CmdInSetProtocol:
		return []byte{0x00}
	case rcs380.CmdInCommRF:
		if len(data) < 2 {
			return []byte{0x00, 0x00, 0x00, 0x02, 0x00} // protocol error flag
		}
		return r.commRF(ctx, data[2:])
	}
	return []byte{0x00, 0x00, 0x00, 0x02, 0x00}
}

var timeout = []byte{0x80, 0x00, 0x00, 0x00, 0x00}

// crcError is the InCommRF answer for a frame received with a bad CRC.
var crcError = []byte{0x04, 0x00, 0x00, 0x00, 0x00}

// commRF answers one frame on the air.
func (r *RCS380) commRF(ctx context.Context, frame []byte) []byte {
	fault := NoFault
	if r.Fault != nil {
		fault = r.Fault(r.commRFs)
	}
	r.commRFs++
	if fault == LostToCard {
		return timeout
	}
	resp, err := r.field.Exchange(ctx, frame)
	switch {
	case err != nil:
		return timeout
	case fault == CRCFromCard:
		return crcError
	}
	return append([]byte{0, 0, 0, 0, 0}, resp...)
}
