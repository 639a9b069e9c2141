// Package rcs380 drives a Sony PaSoRi RC-S380 (USB 054C:06C1 / 06C3)
// through its vendor interface and "NFC Port-100" command set, brings up
// an ISO 14443 Type B card, and carries APDUs to it with ISO-DEP
// (package isodep): the reader does the radio and CRC, the host does the
// rest. The USB transport is an interface, so the same code runs over
// WebUSB in the browser and over the simulated reader in tests.
//
// Frames on the bulk endpoints:
//
//	host -> reader  00 00 FF FF FF <len lo> <len hi> <LCS> D6 <cmd> <data> <DCS> 00
//	reader -> host  the ACK 00 00 FF 00 FF 00, then a frame of the same
//	                shape whose payload starts D7 <cmd+1>
//
// where len counts D6, cmd and data; LCS makes the two length bytes sum
// to zero and DCS the payload sum to zero (mod 256).
package rcs380

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"smartpass.city/smartpass/app/card/isodep"
	"smartpass.city/smartpass/app/card/reader"
)

// USB ids of the RC-S380 models.
const (
	VendorSony = 0x054C
	ProductS   = 0x06C1 // RC-S380/S
	ProductP   = 0x06C3 // RC-S380/P
)

// USB is the reader's bulk pipe pair (endpoint 2 OUT, endpoint 1 IN).
type USB interface {
	Out(ctx context.Context, data []byte) error
	In(ctx context.Context, max int) ([]byte, error)
}

// Commands of the NFC Port-100 command set used here.
const (
	CmdInSetRF        = 0x00
	CmdInSetProtocol  = 0x02
	CmdInCommRF       = 0x04
	CmdSwitchRF       = 0x06
	CmdGetFirmware    = 0x20
	CmdSetCommandType = 0x2A
	frameHeaderLen    = 8
	maxFrame          = 512
	commRFFlagsLen    = 5 // four error-flag bytes and one status byte
	// commRFTimeout is how long the reader waits for the card's answer to
	// an ISO-DEP block, in 0.1 ms: the card asks for more with S(WTX)
	// when it needs it.
	commRFTimeout = 25000
	// activationTimeout is the wait for ATQB and the ATTRIB answer, in
	// 0.1 ms, as nfcpy uses: a card in the field answers within a few
	// milliseconds, and an empty reader is told at once.
	activationTimeout = 300
	// staleFrames bounds the frames Open and each command skip that
	// answer something else: what a page reloaded mid-command left in
	// the reader's IN pipe.
	staleFrames = 8
	// flagTimeout is the InCommRF error flag for no answer in time.
	flagTimeout = 0x80
)

// ACK is the reader's acknowledgement of a command frame.
var ACK = []byte{0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00}

// Errors. Use errors.Is.
var (
	ErrFrame  = fmt.Errorf("rcs380: malformed frame: %w", reader.ErrGarbled)
	ErrNoCard = fmt.Errorf("rcs380: %w", reader.ErrNoCard)
	ErrRF     = errors.New("rcs380: radio error")
)

// Frame wraps a payload (D6 or D7, command, data) in the reader's frame.
func Frame(payload []byte) []byte {
	n := len(payload)
	f := []byte{0x00, 0x00, 0xFF, 0xFF, 0xFF, byte(n), byte(n >> 8), byte(-(byte(n) + byte(n>>8)))}
	f = append(f, payload...)
	var sum byte
	for _, b := range payload {
		sum += b
	}
	return append(f, -sum, 0x00)
}

// ParseFrame returns a frame's payload after checking its header and
// checksums.
func ParseFrame(f []byte) ([]byte, error) {
	if len(f) < frameHeaderLen+2 || !bytes.Equal(f[:5], []byte{0, 0, 0xFF, 0xFF, 0xFF}) {
		return nil, fmt.Errorf("%w: header % X", ErrFrame, f[:min(len(f), 8)])
	}
	n := int(f[5]) | int(f[6])<<8
	if f[5]+f[6]+f[7] != 0 {
		return nil, fmt.Errorf("%w: length checksum", ErrFrame)
	}
	if len(f) < frameHeaderLen+n+2 {
		return nil, fmt.Errorf("%w: %d payload bytes announced, %d present", ErrFrame, n, len(f)-frameHeaderLen-2)
	}
	payload := f[frameHeaderLen : frameHeaderLen+n]
	var sum byte
	for _, b := range payload {
		sum += b
	}
	if sum+f[frameHeaderLen+n] != 0 {
		return nil, fmt.Errorf("%w: data checksum", ErrFrame)
	}
	if f[frameHeaderLen+n+1] != 0x00 {
		return nil, fmt.Errorf("%w: postamble %02X", ErrFrame, f[frameHeaderLen+n+1])
	}
	return payload, nil
}

// Reader is an RC-S380 with a Type B card brought up: an
// apdu.Transceiver.
type Reader struct {
	usb USB
	pcd *isodep.PCD
}

// command sends one command and returns the reply's data (after D7
// cmd+1). The reader keeps in its IN pipe whatever it had not handed
// over when the host went away (a page reloaded mid-command), and the
// reset ACK of Open does not clear it, so ACKs and replies to other
// commands met before this command's reply are skipped (a bounded
// number). WebUSB cannot drain the pipe by timing out a read as nfcpy
// does: an abandoned transferIn stays pending and swallows the next
// frame.
func command(ctx context.Context, usb USB, cmd byte, data []byte) ([]byte, error) {
	if err := usb.Out(ctx, Frame(append([]byte{0xD6, cmd}, data...))); err != nil {
		return nil, fmt.Errorf("rcs380: send %02X: %w", cmd, err)
	}
	for range staleFrames + 2 { // + our ACK and our reply
		raw, err := usb.In(ctx, maxFrame)
		if err != nil {
			return nil, fmt.Errorf("rcs380: reply to %02X: %w", cmd, err)
		}
		if bytes.Equal(raw, ACK) {
			continue
		}
		p, err := ParseFrame(raw)
		if err != nil {
			return nil, err
		}
		if len(p) < 2 || p[0] != 0xD7 {
			return nil, fmt.Errorf("%w: reply % X to command %02X", ErrFrame, p[:min(len(p), 2)], cmd)
		}
		if p[1] != cmd+1 {
			continue // a stale reply to an earlier command
		}
		return p[2:], nil
	}
	return nil, fmt.Errorf("%w: no reply to command %02X among %d frames", ErrFrame, cmd, staleFrames+2)
}

// InSetProtocol defaults, then the Type B settings (CARD.md).
var (
	protocolDefaults = []byte{0x00, 0x18, 0x01, 0x01, 0x02, 0x01, 0x03, 0x00, 0x04, 0x00, 0x05, 0x00, 0x06, 0x00, 0x07, 0x08, 0x08, 0x00, 0x09, 0x00, 0x0A, 0x00, 0x0B, 0x00, 0x0C, 0x00, 0x0E, 0x04, 0x0F, 0x00, 0x10, 0x00, 0x11, 0x00, 0x12, 0x00, 0x13, 0x06}
	protocolTypeB    = []byte{0x0B, 0x01, 0x09, 0x01, 0x0C, 0x01, 0x0A, 0x01, 0x00, 0x14}
)

// Open initialises the reader and activates the card on it: set the
// command type, reset the radio, 106 kbps Type B, SENSB_REQ, ATTRIB.
func Open(ctx context.Context, usb USB) (*Reader, error) {
	// A frame of ours the reader half-read before (a reload mid-command)
	// is cancelled by an ACK.
	if err := usb.Out(ctx, ACK); err != nil {
		return nil, fmt.Errorf("rcs380: reset: %w", err)
	}
	steps := []struct {
		cmd  byte
		data []byte
	}{
		{CmdSetCommandType, []byte{0x01}},
		{CmdSwitchRF, []byte{0x00}},
		{CmdInSetRF, []byte{0x03, 0x07, 0x0F, 0x07}},
		{CmdInSetProtocol, protocolDefaults},
		{CmdInSetProtocol, protocolTypeB},
	}
	for _, s := range steps {
		if _, err := command(ctx, usb, s.cmd, s.data); err != nil {
			return nil, err
		}
	}
	r := &Reader{usb: usb}
	atqb, err := r.commRF(ctx, []byte{0x05, 0x00, 0x10}, activationTimeout) // SENSB_REQ: AFI 00, N=1
	if errors.Is(err, ErrNoCard) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("rcs380: SENSB_REQ: %w", err)
	}
	if len(atqb) < 12 || atqb[0] != 0x50 {
		return nil, fmt.Errorf("%w: ATQB % X", ErrFrame, atqb)
	}
	pupi := atqb[1:5]
	fsc := isodep.FSCFromCode(atqb[10] >> 4)
	attrib := append(append([]byte{0x1D}, pupi...), 0x00, 0x08, 0x01, 0x00)
	if _, err := r.commRF(ctx, attrib, activationTimeout); err != nil {
		return nil, fmt.Errorf("rcs380: ATTRIB: %w", err)
	}
	r.pcd = isodep.NewPCD(r, fsc)
	return r, nil
}

// Exchange sends one ISO-DEP block to the card with InCommRF
// (isodep.Link). A time-out or a radio error wraps
// isodep.ErrTransmission, so ISO-DEP recovers it; a time-out is also
// ErrNoCard, what it means when the recovery fails too.
func (r *Reader) Exchange(ctx context.Context, frame []byte) ([]byte, error) {
	return r.commRF(ctx, frame, commRFTimeout)
}

// commRF sends one frame on the air and waits timeout (0.1 ms) for the
// answer.
func (r *Reader) commRF(ctx context.Context, frame []byte, timeout int) ([]byte, error) {
	data := append([]byte{byte(timeout), byte(timeout >> 8)}, frame...)
	resp, err := command(ctx, r.usb, CmdInCommRF, data)
	if err != nil {
		return nil, err
	}
	if len(resp) < commRFFlagsLen {
		return nil, fmt.Errorf("%w: InCommRF reply of %d bytes", ErrFrame, len(resp))
	}
	// Four error-flag bytes, little-endian: 0x80 is the timeout (nothing
	// answered), the others are errors on the air (CRC, parity, ...).
	switch flags := uint32(resp[0]) | uint32(resp[1])<<8 | uint32(resp[2])<<16 | uint32(resp[3])<<24; {
	case flags == flagTimeout:
		return nil, fmt.Errorf("%w (%w)", ErrNoCard, isodep.ErrTransmission)
	case flags != 0:
		return nil, fmt.Errorf("%w: flags %08X: %w", ErrRF, flags, isodep.ErrTransmission)
	}
	return resp[commRFFlagsLen:], nil
}

// Transmit implements apdu.Transceiver.
func (r *Reader) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	return r.pcd.Transmit(ctx, apdu)
}

// Close switches the radio off.
func (r *Reader) Close(ctx context.Context) error {
	_, err := command(ctx, r.usb, CmdSwitchRF, []byte{0x00})
	return err
}
