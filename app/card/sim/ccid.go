package sim

import (
	"bytes"
	"context"
	"errors"
	"sync"

	"smartpass.city/smartpass/app/card/ccid"
	"smartpass.city/smartpass/app/card/isodep"
)

// ccidDevice is the USB side of a simulated CCID-framed reader: it parses
// each message the host sends, has the reader's handler answer it, and
// queues the answer for the host's next read.
type ccidDevice struct {
	mu      sync.Mutex
	field   field
	pcd     *isodep.PCD // the card activated, for readers that run ISO-DEP
	pending [][]byte
	handle  func(ctx context.Context, m ccid.Message) ccid.Message
	// Messages records every message the host sent, for tests.
	Messages [][]byte
}

// Place puts a card on the reader (nil takes it away).
func (d *ccidDevice) Place(c *Card) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.field.place(c)
	d.pcd = nil
}

// Out takes one message from the host.
func (d *ccidDevice) Out(ctx context.Context, data []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.Messages = append(d.Messages, bytes.Clone(data))
	m, err := ccid.Parse(data)
	if err != nil {
		return err
	}
	reply := d.handle(ctx, m)
	reply.Slot, reply.Seq = m.Slot, m.Seq
	d.pending = append(d.pending, reply.Encode())
	return nil
}

// In returns the next answer.
func (d *ccidDevice) In(_ context.Context, max int) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.pending) == 0 {
		return nil, errors.New("sim: nothing to read from the reader")
	}
	b := d.pending[0]
	if len(b) > max {
		// USB hands over what fits; the rest comes with the next read.
		d.pending[0] = b[max:]
		return b[:max], nil
	}
	d.pending = d.pending[1:]
	return b, nil
}

// transmit carries an APDU to the activated card.
func (d *ccidDevice) transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if d.pcd == nil {
		return nil, errSilent
	}
	resp, err := d.pcd.Transmit(ctx, apdu)
	if err != nil {
		d.pcd = nil
	}
	return resp, err
}

// Slot states in bStatus (ICC status bits) and the errors of bError.
const (
	iccActive          = 0x00
	iccInactive        = 0x01
	iccAbsent          = 0x02
	cmdFailed          = 0x40
	errICCMute         = 0xFE
	errCmdNotSupported = 0x00
)

func slotStatus(status, code byte) ccid.Message {
	return ccid.Message{Type: ccid.SlotStatus, Param: [3]byte{status, code, 0}}
}

// CCID is a software generic CCID reader with APDU-level exchange (an
// ACS ACR1252U, say): power on activates the card in its field and the
// reader runs ISO-DEP itself; XfrBlock carries APDUs. MaxData is its
// largest message's data, beyond which it chains an answer.
type CCID struct {
	ccidDevice
	MaxData int
	rest    []byte // what is left of an answer sent in parts
}

// NewCCID returns a reader with c on it (nil: no card).
func NewCCID(c *Card) *CCID {
	r := &CCID{MaxData: 261}
	r.field.card = c
	r.handle = r.answer
	return r
}

// atr is the answer to reset a PC/SC reader makes up for a Type B card
// (PC/SC part 3): 3B 88 80 01, the ATQB's application data and protocol
// info, and the check byte.
func atr() []byte {
	b := []byte{0x3B, 0x88, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x81, 0x81}
	var tck byte
	for _, x := range b[1:] {
		tck ^= x
	}
	return append(b, tck)
}

func (r *CCID) answer(ctx context.Context, m ccid.Message) ccid.Message {
	switch m.Type {
	case ccid.PowerOn:
		pcd, err := r.field.activate(ctx)
		if err != nil {
			return slotStatus(cmdFailed|iccAbsent, errICCMute)
		}
		r.pcd = pcd
		return ccid.Message{Type: ccid.DataBlock, Data: atr()}
	case ccid.PowerOff:
		r.field.power(false)
		r.pcd = nil
		return slotStatus(r.state(), 0)
	case ccid.GetStatus:
		return slotStatus(r.state(), 0)
	case ccid.XfrBlock:
		return r.xfr(ctx, m)
	}
	return slotStatus(cmdFailed|r.state(), errCmdNotSupported)
}

func (r *CCID) state() byte {
	switch {
	case r.field.card == nil:
		return iccAbsent
	case r.pcd == nil:
		return iccInactive
	}
	return iccActive
}

func (r *CCID) xfr(ctx context.Context, m ccid.Message) ccid.Message {
	var resp []byte
	if m.Param[1] == 0x10 { // the host asks for the next part
		resp = r.rest
	} else {
		var err error
		if resp, err = r.transmit(ctx, m.Data); err != nil {
			return slotStatus(cmdFailed|r.state(), errICCMute)
		}
	}
	chain := byte(0x00)
	first := m.Param[1] != 0x10
	if len(resp) > r.MaxData {
		r.rest = resp[r.MaxData:]
		resp = resp[:r.MaxData]
		chain = 0x03
		if first {
			chain = 0x01
		}
	} else {
		r.rest = nil
		if !first {
			chain = 0x02
		}
	}
	return ccid.Message{Type: ccid.DataBlock, Param: [3]byte{0, 0, chain}, Data: resp}
}
