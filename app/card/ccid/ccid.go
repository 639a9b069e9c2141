// Package ccid speaks the USB smart-card reader class protocol (CCID
// 1.1) on a reader's bulk pipes: the message framing that both a generic
// CCID reader and the Sony RC-S300's vendor interface use, and a driver
// for generic readers (Reader) that exchange whole APDUs.
//
// Every message, either way, is a 10-byte header and data:
//
//	type, dwLength (LE32, the data's length), slot, seq, 3 bytes
//
// The host's three bytes are per message (XfrBlock: BWI, level
// parameter); the reader's are bStatus, bError and one per message
// (DataBlock: chain parameter). bStatus's top two bits say whether the
// command failed (0x40) or the reader asks for more time (0x80, keep
// reading); its low two whether a card is present and powered.
//
// A web page can claim a CCID interface only where the browser grants
// the class (an Isolated Web App, an extension); Chrome refuses it to an
// ordinary page (see package reader).
package ccid

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"smartpass.city/smartpass/app/card/reader"
)

// Message types (CCID 1.1 §6).
const (
	PowerOn    = 0x62 // PC_to_RDR_IccPowerOn
	PowerOff   = 0x63 // PC_to_RDR_IccPowerOff
	GetStatus  = 0x65 // PC_to_RDR_GetSlotStatus
	XfrBlock   = 0x6F // PC_to_RDR_XfrBlock
	Escape     = 0x6B // PC_to_RDR_Escape
	DataBlock  = 0x80 // RDR_to_PC_DataBlock
	SlotStatus = 0x81 // RDR_to_PC_SlotStatus
	EscapeResp = 0x83 // RDR_to_PC_Escape
)

// HeaderLen is the length of every message's header.
const HeaderLen = 10

// MaxData bounds the data of one message: larger than any reader here
// sends (an extended APDU's answer fits), small enough that a corrupt
// length cannot make us allocate much.
const MaxData = 1 << 16

// Message is one CCID message, either way.
type Message struct {
	Type  byte
	Slot  byte
	Seq   byte
	Param [3]byte // host: per message; reader: bStatus, bError, one per message
	Data  []byte
}

// ErrMessage is wrapped for bytes that are not a CCID message.
var ErrMessage = fmt.Errorf("ccid: malformed message: %w", reader.ErrGarbled)

// Encode returns the message's bytes.
func (m Message) Encode() []byte {
	b := make([]byte, HeaderLen, HeaderLen+len(m.Data))
	b[0] = m.Type
	binary.LittleEndian.PutUint32(b[1:5], uint32(len(m.Data)))
	b[5], b[6] = m.Slot, m.Seq
	copy(b[7:10], m.Param[:])
	return append(b, m.Data...)
}

// Parse reads one message that fills b exactly.
func Parse(b []byte) (Message, error) {
	if len(b) < HeaderLen {
		return Message{}, fmt.Errorf("%w: %d bytes, shorter than a header", ErrMessage, len(b))
	}
	n := binary.LittleEndian.Uint32(b[1:5])
	if n > MaxData || int(n) != len(b)-HeaderLen {
		return Message{}, fmt.Errorf("%w: header says %d data bytes, %d follow", ErrMessage, n, len(b)-HeaderLen)
	}
	m := Message{Type: b[0], Slot: b[5], Seq: b[6], Data: append([]byte(nil), b[HeaderLen:]...)}
	copy(m.Param[:], b[7:10])
	return m, nil
}

// Reader's bStatus.
const (
	statusFailed   = 0x40
	statusTimeExt  = 0x80
	iccMask        = 0x03
	iccAbsent      = 0x02
	errorICCMute   = 0xFE // the card did not answer
	errorHWError   = 0xFB
	errorXfrParity = 0xFD
)

// Errors of a reader's answers. Use errors.Is.
var (
	// ErrNoCard: no card on the reader, or it stopped answering (taken
	// away mid-exchange).
	ErrNoCard = fmt.Errorf("ccid: %w", reader.ErrNoCard)
	// ErrFailed: the reader reports the command failed (bError says how).
	ErrFailed = errors.New("ccid: the reader reports the command failed")
)

// USB is a reader's bulk pipe pair.
type USB interface {
	Out(ctx context.Context, data []byte) error
	In(ctx context.Context, max int) ([]byte, error)
}

// maxTimeExt bounds the time extensions one command may ask for, so a
// reader that only ever asks for more time does not hold us for ever.
const maxTimeExt = 64

// Conn sends messages to one slot of a reader and reads their answers.
// It is not safe for concurrent use (a reader takes one command at a
// time).
type Conn struct {
	usb  USB
	seq  byte
	Slot byte
	// StatusInAnswer says the reader reports the card's presence inside
	// its answers, not in bStatus: Sony's RC-S300 sets bStatus 02 ("no
	// card") on every Escape answer, successful ones included (logged on
	// real readers), and says what happened in the answer's C0 object.
	StatusInAnswer bool
}

// NewConn returns a connection over usb.
func NewConn(usb USB) *Conn { return &Conn{usb: usb} }

// Call sends one message of type typ and returns the reader's answer,
// reading past time extensions. A failed command is an error wrapping
// ErrFailed, or ErrNoCard when the card is absent or mute.
func (c *Conn) Call(ctx context.Context, typ byte, param [3]byte, data []byte) (Message, error) {
	c.seq++
	out := Message{Type: typ, Slot: c.Slot, Seq: c.seq, Param: param, Data: data}
	if err := c.usb.Out(ctx, out.Encode()); err != nil {
		return Message{}, fmt.Errorf("ccid: send %02X: %w", typ, err)
	}
	for range maxTimeExt {
		m, err := c.read(ctx)
		if err != nil {
			return Message{}, err
		}
		if m.Seq != out.Seq || m.Slot != out.Slot {
			return Message{}, fmt.Errorf("%w: answer for slot %d seq %d to slot %d seq %d", ErrMessage, m.Slot, m.Seq, out.Slot, out.Seq)
		}
		status, code := m.Param[0], m.Param[1]
		switch {
		case status&0xC0 == statusTimeExt:
			continue // the reader asks for more time; the answer follows
		case !c.StatusInAnswer && status&iccMask == iccAbsent, status&0xC0 == statusFailed && code == errorICCMute:
			return m, ErrNoCard
		case status&0xC0 == statusFailed:
			return m, fmt.Errorf("%w: command %02X, bError %02X", ErrFailed, typ, code)
		}
		return m, nil
	}
	return Message{}, fmt.Errorf("%w: more than %d time extensions", ErrFailed, maxTimeExt)
}

// read reads one whole message: a message longer than the reader's
// packet may come in more than one transfer.
func (c *Conn) read(ctx context.Context) (Message, error) {
	var b []byte
	for {
		part, err := c.usb.In(ctx, HeaderLen+MaxData)
		if err != nil {
			return Message{}, fmt.Errorf("ccid: read: %w", err)
		}
		if len(part) == 0 {
			return Message{}, fmt.Errorf("%w: empty transfer", ErrMessage)
		}
		b = append(b, part...)
		if len(b) < HeaderLen {
			return Parse(b) // a short header is not completed by a next transfer
		}
		n := int(binary.LittleEndian.Uint32(b[1:5]))
		if n > MaxData || len(b) >= HeaderLen+n {
			return Parse(b)
		}
	}
}
