// Package rcs300 drives a Sony PaSoRi RC-S300 (USB 054C:0DC8 / 0DC9)
// through its vendor-class interface 1, the one a web page may claim
// (interface 0 is CCID, which Chrome reserves). On that interface the
// reader takes CCID Escape messages (package ccid) carrying Sony's
// pseudo-APDUs of a "transparent session", after PC/SC part 3:
//
//	FF 50 00 00 02 81 00 00           start the session (82: end it)
//	FF 50 00 00 02 84 00 00           radio on (83: off)
//	FF 50 00 02 04 8F 02 01 04 00     switch to ISO 14443 Type B, layer 4
//	FF 50 00 01 00 Lc2 5F 46 04 <timeout µs LE32> 95 82 <n2> <data> 00 00 00
//	                                  transceive data with the card
//
// and answers with data objects: C0 03 <error> <SW1 SW2> (00 90 00 when
// all went well; 64 01 when no card answered, after 02 for Type B and 01
// for Type A), 92 the reception's bit framing, 96 the radio's status, 97
// the card's answer, then the status word 90 00. The CCID header's
// bStatus of these answers is 02 ("no card") even when all went well, so
// only the C0 object is read.
//
// These bytes agree across the public WebUSB drivers of this reader
// (FeliCa and ISO 14443 alike, all on FF 50); the Type B layer-4 switch
// (8F 02 01 04: standard 01 = Type B, layer 04) follows PC/SC part 3's
// switch-protocol object, which the same drivers use for FeliCa
// (8F 02 03 00) and Type A (8F 02 00 03). At layer 4 the reader runs
// ISO-DEP itself, so what crosses the transceive object is the APDU.
// Not confirmed on hardware: see CARD.md.
package rcs300

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"smartpass.city/smartpass/app/card/ccid"
	"smartpass.city/smartpass/app/card/reader"
	"smartpass.city/smartpass/app/card/tlv"
)

// USB ids of the RC-S300 models.
const (
	VendorSony = 0x054C
	ProductS   = 0x0DC8 // RC-S300/S
	ProductP   = 0x0DC9 // RC-S300/P
)

// Pseudo-APDUs.
var (
	StartSession = []byte{0xFF, 0x50, 0x00, 0x00, 0x02, 0x81, 0x00, 0x00}
	EndSession   = []byte{0xFF, 0x50, 0x00, 0x00, 0x02, 0x82, 0x00, 0x00}
	RFOff        = []byte{0xFF, 0x50, 0x00, 0x00, 0x02, 0x83, 0x00, 0x00}
	RFOn         = []byte{0xFF, 0x50, 0x00, 0x00, 0x02, 0x84, 0x00, 0x00}
	SwitchTypeB4 = []byte{0xFF, 0x50, 0x00, 0x02, 0x04, 0x8F, 0x02, 0x01, 0x04, 0x00}
)

// Data-object tags of the pseudo-APDUs and their answers.
const (
	TagTimeout  = 0x5F46
	TagTransmit = 0x95
	TagStatus   = 0xC0
	TagRFStatus = 0x96
	TagResponse = 0x97
)

// transceiveTimeout is the card's time to answer, in microseconds: the
// JPKI signature takes the longest, well under a second.
const transceiveTimeout = 2_000_000

// Errors. Use errors.Is.
var (
	// ErrNoCard: no card answered (none on the reader, or taken away).
	ErrNoCard = fmt.Errorf("rcs300: %w", reader.ErrNoCard)
	// ErrAnswer: an answer that is not what the reader sends.
	ErrAnswer = fmt.Errorf("rcs300: malformed answer: %w", reader.ErrGarbled)
)

// Reader is an RC-S300 with a Type B card activated: an
// apdu.Transceiver.
type Reader struct {
	*ccid.Conn
}

// Open starts a transparent session, resets the radio and activates the
// Type B card on the reader up to ISO-DEP.
func Open(ctx context.Context, usb ccid.USB) (*Reader, error) {
	r := &Reader{ccid.NewConn(usb)}
	r.StatusInAnswer = true // bStatus says 02 on success: the C0 object tells
	// A session left open by an earlier page (a reload) is ended first;
	// the reader answers this even with no session open.
	if _, err := r.escape(ctx, EndSession); err != nil {
		return nil, err
	}
	for _, cmd := range [][]byte{StartSession, RFOff, RFOn, SwitchTypeB4} {
		if _, err := r.escape(ctx, cmd); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Transceive builds the transparent-exchange pseudo-APDU for data.
func Transceive(data []byte) []byte {
	body := tlv.Append(nil, TagTimeout, binary.LittleEndian.AppendUint32(nil, transceiveTimeout))
	body = append(body, TagTransmit, 0x82, byte(len(data)>>8), byte(len(data)))
	body = append(body, data...)
	// Extended Lc; the drivers that work end with three zero bytes.
	cmd := []byte{0xFF, 0x50, 0x00, 0x01, 0x00, byte(len(body) >> 8), byte(len(body))}
	cmd = append(cmd, body...)
	return append(cmd, 0x00, 0x00, 0x00)
}

// Transmit implements apdu.Transceiver.
func (r *Reader) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	objs, err := r.escape(ctx, Transceive(apdu))
	if err != nil {
		return nil, err
	}
	resp, ok := tlv.Find(objs, TagResponse)
	if !ok {
		return nil, fmt.Errorf("%w: no card answer (97) in the reply", ErrAnswer)
	}
	return resp, nil
}

// Close switches the radio off and ends the session.
func (r *Reader) Close(ctx context.Context) error {
	for _, cmd := range [][]byte{RFOff, EndSession} {
		if _, err := r.escape(ctx, cmd); err != nil {
			return err
		}
	}
	return nil
}

// escape sends one pseudo-APDU and returns its answer's data objects,
// the status checked.
func (r *Reader) escape(ctx context.Context, cmd []byte) ([]tlv.TLV, error) {
	m, err := r.Call(ctx, ccid.Escape, [3]byte{}, cmd)
	if errors.Is(err, ccid.ErrNoCard) {
		return nil, ErrNoCard
	}
	if err != nil {
		return nil, fmt.Errorf("rcs300: %s: %w", name(cmd), err)
	}
	if m.Type != ccid.EscapeResp {
		return nil, fmt.Errorf("%w: message %02X to an escape", ErrAnswer, m.Type)
	}
	return ParseAnswer(m.Data)
}

// name says which pseudo-APDU cmd is, for errors.
func name(cmd []byte) string {
	for _, c := range []struct {
		cmd  []byte
		name string
	}{
		{StartSession, "start session"}, {EndSession, "end session"}, {RFOff, "radio off"},
		{RFOn, "radio on"}, {SwitchTypeB4, "switch to Type B"},
	} {
		if bytes.Equal(cmd, c.cmd) {
			return c.name
		}
	}
	return "transceive"
}

// ParseAnswer reads a pseudo-APDU's answer: data objects and the final
// status word 90 00. A C0 object with an error says what went wrong.
func ParseAnswer(b []byte) ([]tlv.TLV, error) {
	if len(b) < 2 {
		return nil, fmt.Errorf("%w: %d bytes", ErrAnswer, len(b))
	}
	if sw := b[len(b)-2:]; sw[0] != 0x90 || sw[1] != 0x00 {
		return nil, fmt.Errorf("%w: status %02X%02X", ErrAnswer, sw[0], sw[1])
	}
	objs, err := tlv.Parse(b[:len(b)-2])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAnswer, err)
	}
	status, ok := tlv.Find(objs, TagStatus)
	if !ok || len(status) != 3 {
		return nil, fmt.Errorf("%w: no status object", ErrAnswer)
	}
	switch {
	case status[0] == 0x00 && status[1] == 0x90 && status[2] == 0x00:
		return objs, nil
	case status[1] == 0x64 && status[2] == 0x01: // 02 Type B, 01 Type A: no card answered
		return nil, ErrNoCard
	}
	return nil, fmt.Errorf("%w: reader error % X", ErrAnswer, status)
}
