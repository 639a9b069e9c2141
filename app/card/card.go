// Package card speaks to a My Number Card through any apdu.Transceiver (a
// USB reader's byte protocol, or the simulator) and keeps the law in the
// code: the firewall in Card refuses, before a byte is sent, every
// command that could reach the individual number (the card-info
// application's number file and its 照合番号A key, the card-face
// application's number image and key) and every instruction this project
// has no use for. No caller can get past it. The one exception the law
// allows, the hometown-tax one-stop application, opens the number's file
// through CardInfo.IndividualNumber with a grant only package
// card/onestop can make.
//
// The applications are JPKI (certificates, PINs, signatures), the
// card-info input support application (the basic four facts) and the
// card-face confirmation application (the portrait, opened with 照合番号B,
// for a 1:1 check against the live face).
package card

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"smartpass.city/smartpass/app/card/apdu"
)

// Application identifiers (SELECT by DF name).
var (
	AIDJPKI     = []byte{0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01}
	AIDCardInfo = []byte{0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08}
	AIDCardFace = []byte{0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x02}
)

// ErrForbidden is returned by the firewall for a command that must never
// reach the card.
var ErrForbidden = errors.New("card: command refused by the firewall")

// forbiddenEF lists, per application, the files that hold or unlock the
// individual number. The card-info application's 照合番号B key (0015) is
// there too: no flow of ours opens that application with it, and what it
// opens is the same as the number's key does.
var forbiddenEF = map[string][]uint16{
	string(AIDCardInfo): {0x0001, 0x0014, 0x0015, 0x0003}, // the number; 照合番号A; 照合番号B; hashes covering the number
	string(AIDCardFace): {0x0013, 0x0005},                 // 照合番号A; the number's image
}

// knownApps are the only applications SELECT by name may reach, each by
// its exact AID: a partial AID would select an application the firewall
// cannot name, and so could not guard.
var knownApps = [][]byte{AIDJPKI, AIDCardInfo, AIDCardFace}

// verifyP2 is the one VERIFY reference our flows use: "the key of the
// file just selected" (80), which the SELECT check above has already
// vetted. A P2 naming a key by its id (80|EF, e.g. 94 = the card-info
// application's 照合番号A) would bypass that check.
const verifyP2 = 0x80

// Instructions the firewall lets through.
const (
	insSelect      = 0xA4
	insReadBinary  = 0xB0
	insVerify      = 0x20
	insPSO         = 0x2A // COMPUTE DIGITAL SIGNATURE
	insGetResponse = 0xC0
)

// Card is a card behind the firewall. It is not safe for concurrent use:
// a card has one current file.
type Card struct {
	t   apdu.Transceiver
	app []byte // the application selected last
	// numberOpen is set only inside CardInfo.IndividualNumber, for a
	// caller holding the one-stop flow's grant: the one time the
	// firewall lets the number's file be selected.
	numberOpen bool
}

// New returns the card reachable through t.
func New(t apdu.Transceiver) *Card { return &Card{t: t} }

// check is the firewall.
func (c *Card) check(cmd apdu.Command) error {
	switch cmd.INS {
	case insSelect:
		switch cmd.P1 {
		case 0x04: // by DF name
			for _, aid := range knownApps {
				if bytes.Equal(cmd.Data, aid) {
					return nil
				}
			}
			return fmt.Errorf("%w: SELECT of an application other than JPKI, card-info and card-face (% X)", ErrForbidden, cmd.Data)
		case 0x02: // EF under the current DF
			if c.app == nil {
				return fmt.Errorf("%w: SELECT EF before any application is selected", ErrForbidden)
			}
			if len(cmd.Data) != 2 {
				return fmt.Errorf("%w: SELECT EF with a %d-byte id", ErrForbidden, len(cmd.Data))
			}
			fid := uint16(cmd.Data[0])<<8 | uint16(cmd.Data[1])
			if c.numberOpen && fid == efNumber && bytes.Equal(c.app, AIDCardInfo) {
				return nil
			}
			if bytes.Equal(c.app, AIDCardFace) && !slices.Contains(cardFaceEF, fid) {
				return fmt.Errorf("%w: file %04X of the card-face application (only 照合番号B 0012 and the face data 0002 are used)", ErrForbidden, fid)
			}
			for _, bad := range forbiddenEF[string(c.app)] {
				if fid == bad {
					return fmt.Errorf("%w: file %04X of this application holds or unlocks the individual number", ErrForbidden, fid)
				}
			}
			return nil
		}
		return fmt.Errorf("%w: SELECT mode %02X", ErrForbidden, cmd.P1)
	case insReadBinary:
		if cmd.P1&0x80 != 0 {
			// A short-EF read selects a file without SELECT, past the
			// check above.
			return fmt.Errorf("%w: READ BINARY by short file id", ErrForbidden)
		}
		return nil
	case insVerify:
		if cmd.P1 != 0x00 || cmd.P2 != verifyP2 {
			return fmt.Errorf("%w: VERIFY with reference %02X %02X (only 00 80, the selected key, is used)", ErrForbidden, cmd.P1, cmd.P2)
		}
		return nil
	case insPSO, insGetResponse:
		return nil
	}
	return fmt.Errorf("%w: instruction %02X", ErrForbidden, cmd.INS)
}

// Exchange sends cmd through the firewall.
func (c *Card) Exchange(ctx context.Context, cmd apdu.Command) ([]byte, error) {
	if err := c.check(cmd); err != nil {
		return nil, err
	}
	selectsApp := cmd.INS == insSelect && cmd.P1 == 0x04
	if selectsApp {
		// Until the card confirms, the current application is unknown:
		// a SELECT that fails half way must not leave the firewall
		// guarding the previous one's files.
		c.app = nil
	}
	out, err := apdu.Exchange(ctx, c.t, cmd)
	if err == nil && selectsApp {
		c.app = bytes.Clone(cmd.Data)
	}
	return out, err
}

// SelectApp selects an application by its AID.
func (c *Card) SelectApp(ctx context.Context, aid []byte) error {
	if _, err := c.Exchange(ctx, apdu.Command{INS: insSelect, P1: 0x04, P2: 0x0C, Data: aid, Le: apdu.NoLe}); err != nil {
		return fmt.Errorf("card: select application % X: %w", aid, err)
	}
	return nil
}

// SelectEF selects an elementary file of the current application.
func (c *Card) SelectEF(ctx context.Context, fid uint16) error {
	if _, err := c.Exchange(ctx, apdu.Command{INS: insSelect, P1: 0x02, P2: 0x0C, Data: []byte{byte(fid >> 8), byte(fid)}, Le: apdu.NoLe}); err != nil {
		return fmt.Errorf("card: select file %04X: %w", fid, err)
	}
	return nil
}

// ReadBinary reads up to n bytes of the current file from off: n at most
// 256 in the short form, up to apdu.MaxExtendedLe in the extended one.
func (c *Card) ReadBinary(ctx context.Context, off, n int) ([]byte, error) {
	return c.Exchange(ctx, apdu.Command{INS: insReadBinary, P1: byte(off >> 8), P2: byte(off), Le: n})
}

// ReadAll reads the current file to its end (a short answer or 6B00), at
// most max bytes.
func (c *Card) ReadAll(ctx context.Context, max int) ([]byte, error) {
	var out []byte
	for len(out) < max {
		b, err := c.ReadBinary(ctx, len(out), min(256, max-len(out)))
		if errors.Is(err, apdu.ErrOffsetPastEnd) {
			break
		}
		if err != nil {
			return out, err
		}
		out = append(out, b...)
		if len(b) < 256 {
			break
		}
	}
	return out, nil
}

// TriesLeft asks how many tries the PIN of the current file has left,
// without using one (VERIFY with no data). A blocked PIN gives 0 and
// apdu.ErrPINBlocked.
func (c *Card) TriesLeft(ctx context.Context) (int, error) {
	_, err := c.Exchange(ctx, apdu.Command{INS: insVerify, P2: 0x80, Le: apdu.NoLe})
	var wp *apdu.WrongPINError
	switch {
	case errors.As(err, &wp):
		return wp.Remaining, nil
	case errors.Is(err, apdu.ErrPINBlocked):
		return 0, err
	case err == nil:
		return -1, nil // already verified in this session: tries not reported
	}
	return 0, err
}

// Verify presents pin for the current file's PIN, once. A wrong PIN
// comes back as *apdu.WrongPINError: the caller shows the tries left and
// asks the person; nothing here ever tries again.
func (c *Card) Verify(ctx context.Context, pin []byte) error {
	_, err := c.Exchange(ctx, apdu.Command{INS: insVerify, P2: 0x80, Data: pin, Le: apdu.NoLe})
	return err
}
