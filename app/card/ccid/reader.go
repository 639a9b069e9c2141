package ccid

import (
	"context"
	"fmt"
)

// Chain parameters of XfrBlock and DataBlock (CCID 1.1 §6.1.4, §6.2.1):
// an APDU or answer longer than one message travels in parts.
const (
	chainWhole    = 0x00
	chainBegin    = 0x01
	chainEnd      = 0x02
	chainMiddle   = 0x03
	chainContinue = 0x10 // host: "send the next part"
)

// Reader is a generic CCID reader with APDU-level exchange and a card
// powered on in its slot: the reader itself runs the card's transport
// protocol (T=1, or ISO-DEP for a contactless card). It implements
// apdu.Transceiver.
type Reader struct {
	*Conn
	// ATR is the card's answer to reset (for a contactless card, the one
	// the reader makes up from its ATQB).
	ATR []byte
}

// Open powers the card on.
func Open(ctx context.Context, usb USB) (*Reader, error) {
	c := NewConn(usb)
	m, err := c.Call(ctx, PowerOn, [3]byte{0x00}, nil) // automatic voltage
	if err != nil {
		return nil, fmt.Errorf("ccid: power on: %w", err)
	}
	if m.Type != DataBlock {
		return nil, fmt.Errorf("%w: power on answered with %02X", ErrMessage, m.Type)
	}
	return &Reader{Conn: c, ATR: m.Data}, nil
}

// Transmit implements apdu.Transceiver: one APDU, its answer reassembled
// when the reader chains it.
func (r *Reader) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	m, err := r.Call(ctx, XfrBlock, [3]byte{}, apdu)
	var out []byte
	for {
		if err != nil {
			return nil, fmt.Errorf("ccid: transmit: %w", err)
		}
		if m.Type != DataBlock {
			return nil, fmt.Errorf("%w: XfrBlock answered with %02X", ErrMessage, m.Type)
		}
		out = append(out, m.Data...)
		if len(out) > MaxData {
			return nil, fmt.Errorf("%w: chained answer over %d bytes", ErrMessage, MaxData)
		}
		switch m.Param[2] {
		case chainWhole, chainEnd:
			return out, nil
		case chainBegin, chainMiddle:
			m, err = r.Call(ctx, XfrBlock, [3]byte{0, chainContinue, 0}, nil)
		default:
			return nil, fmt.Errorf("%w: chain parameter %02X", ErrMessage, m.Param[2])
		}
	}
}

// Close powers the card off.
func (r *Reader) Close(ctx context.Context) error {
	_, err := r.Call(ctx, PowerOff, [3]byte{}, nil)
	return err
}
