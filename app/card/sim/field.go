package sim

import (
	"bytes"
	"context"
	"errors"

	"smartpass.city/smartpass/app/card/isodep"
)

// field is a reader's radio field with perhaps a card in it: the card's
// side of ISO 14443 Type B activation and of ISO-DEP. Every simulated
// reader answers its host through one, so each of them reaches the card
// by the same bytes on the air.
type field struct {
	card   *Card
	on     bool
	active bool // ATTRIB done
	picc   *isodep.PICC
}

// pupi is the simulated card's pseudo-unique identifier.
var pupi = []byte{0x12, 0x34, 0x56, 0x78}

// sensBReq is SENSB_REQ, AFI 00, one slot.
var sensBReq = []byte{0x05, 0x00, 0x10}

// errSilent: nothing answered on the air (no card, field off, or a
// frame the card ignores).
var errSilent = errors.New("sim: no answer on the air")

// place puts c in the field (nil takes the card away).
func (f *field) place(c *Card) { f.card, f.active, f.picc = c, false, nil }

// power switches the radio; switching it off resets the card.
func (f *field) power(on bool) { f.on, f.active, f.picc = on, false, nil }

// Exchange answers one frame on the air, as the card would.
func (f *field) Exchange(ctx context.Context, frame []byte) ([]byte, error) {
	if !f.on || f.card == nil || len(frame) == 0 {
		return nil, errSilent
	}
	switch {
	case !f.active && bytes.Equal(frame, sensBReq):
		// ATQB: PUPI, application data, protocol info (106 kbps, FSCI 8 =
		// 256 bytes, ISO 14443-4; FWI 8).
		return append(append([]byte{0x50}, pupi...), 0x00, 0x00, 0x00, 0x00, 0x00, 0x81, 0x81), nil
	case !f.active && frame[0] == 0x1D && len(frame) == 9 && bytes.Equal(frame[1:5], pupi):
		f.active = true
		f.picc = isodep.NewPICC(f.card, 256)
		return []byte{0x00}, nil
	case f.active:
		resp, err := f.picc.Handle(ctx, frame)
		if err != nil {
			return nil, errSilent // a card that does not understand stays silent
		}
		return resp, nil
	}
	return nil, errSilent
}

// activate is what a reader that runs ISO 14443-4 itself (the RC-S300 at
// layer 4, a CCID reader) does when asked for the card: radio on,
// SENSB_REQ, ATTRIB, and an ISO-DEP link to carry APDUs.
func (f *field) activate(ctx context.Context) (*isodep.PCD, error) {
	f.power(true)
	atqb, err := f.Exchange(ctx, sensBReq)
	if err != nil {
		return nil, err
	}
	attrib := append(append([]byte{0x1D}, atqb[1:5]...), 0x00, 0x08, 0x01, 0x00)
	if _, err := f.Exchange(ctx, attrib); err != nil {
		return nil, err
	}
	return isodep.NewPCD(f, isodep.FSCFromCode(atqb[10]>>4)), nil
}
