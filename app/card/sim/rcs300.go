package sim

import (
	"bytes"
	"context"

	"smartpass.city/smartpass/app/card/ccid"
	"smartpass.city/smartpass/app/card/rcs300"
	"smartpass.city/smartpass/app/card/tlv"
)

// RCS300 is a software Sony RC-S300 as its vendor interface shows it:
// CCID Escape messages carrying the transparent-session pseudo-APDUs
// (package rcs300). Switched to Type B layer 4, it activates the card and
// runs ISO-DEP itself.
type RCS300 struct {
	ccidDevice
	session bool
}

// NewRCS300 returns a reader with c on it (nil: no card).
func NewRCS300(c *Card) *RCS300 {
	r := &RCS300{}
	r.field.card = c
	r.handle = r.answer
	return r
}

// The status objects of the reader's answers.
var (
	statusOK     = []byte{0x00, 0x90, 0x00}
	statusNoCard = []byte{0x02, 0x64, 0x01}
	statusNotSup = []byte{0x01, 0x6A, 0x81}
)

// escapeReply is an answer as a real RC-S300 sends it: bStatus 02 in the
// CCID header whatever happened (the result is in the C0 object).
func escapeReply(objs []byte) ccid.Message {
	return ccid.Message{Type: ccid.EscapeResp, Param: [3]byte{iccAbsent, 0, 0}, Data: append(objs, 0x90, 0x00)}
}

func (r *RCS300) answer(ctx context.Context, m ccid.Message) ccid.Message {
	if m.Type != ccid.Escape {
		return slotStatus(cmdFailed|iccInactive, errCmdNotSupported)
	}
	status := func(s []byte) ccid.Message { return escapeReply(tlv.Append(nil, rcs300.TagStatus, s)) }
	cmd := m.Data
	switch {
	case bytes.Equal(cmd, rcs300.StartSession):
		r.session = true
		return status(statusOK)
	case bytes.Equal(cmd, rcs300.EndSession):
		r.session = false
		return status(statusOK)
	case !r.session:
		return status(statusNotSup)
	case bytes.Equal(cmd, rcs300.RFOff):
		r.field.power(false)
		r.pcd = nil
		return status(statusOK)
	case bytes.Equal(cmd, rcs300.RFOn):
		r.field.power(true)
		return status(statusOK)
	case bytes.Equal(cmd, rcs300.SwitchTypeB4):
		if !r.field.on {
			return status(statusNoCard)
		}
		pcd, err := r.field.activate(ctx)
		if err != nil {
			return status(statusNoCard)
		}
		r.pcd = pcd
		return status(statusOK)
	case len(cmd) > 7 && bytes.Equal(cmd[:5], []byte{0xFF, 0x50, 0x00, 0x01, 0x00}):
		n := int(cmd[5])<<8 | int(cmd[6])
		if len(cmd) < 7+n {
			return status(statusNotSup)
		}
		objs, err := tlv.Parse(cmd[7 : 7+n])
		data, ok := tlv.Find(objs, rcs300.TagTransmit)
		if err != nil || !ok {
			return status(statusNotSup)
		}
		resp, err := r.transmit(ctx, data)
		if err != nil {
			return status(statusNoCard)
		}
		// The objects a real reader adds: reception bit framing (92),
		// the radio's status (96), before the card's answer (97).
		out := tlv.Append(nil, rcs300.TagStatus, statusOK)
		out = tlv.Append(out, 0x92, []byte{0x00})
		out = tlv.Append(out, rcs300.TagRFStatus, []byte{0x00, 0x00})
		return escapeReply(tlv.Append(out, rcs300.TagResponse, resp))
	}
	return status(statusNotSup)
}
