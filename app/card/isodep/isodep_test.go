package isodep

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

// echo answers an APDU with its reverse plus 90 00, and remembers it.
type echo struct{ got [][]byte }

func (e *echo) Transmit(_ context.Context, apdu []byte) ([]byte, error) {
	e.got = append(e.got, bytes.Clone(apdu))
	out := make([]byte, len(apdu))
	for i, b := range apdu {
		out[len(apdu)-1-i] = b
	}
	return append(out, 0x90, 0x00), nil
}

// air connects a PCD to a PICC directly, counting blocks.
type air struct {
	picc   *PICC
	blocks int
}

func (a *air) Exchange(ctx context.Context, frame []byte) ([]byte, error) {
	a.blocks++
	return a.picc.Handle(ctx, frame)
}

func TestChainingBothWays(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fsc, fsd int
		size     int
		wtx      bool
	}{
		{"one block", 256, 256, 20, false},
		{"long command, short frames", 32, 256, 300, false},
		{"long response, short reader frames", 256, 24, 260, false},
		{"both chained, with waiting-time extensions", 16, 16, 100, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			card := &echo{}
			picc := NewPICC(card, tc.fsd)
			picc.WTX = tc.wtx
			link := &air{picc: picc}
			pcd := NewPCD(link, tc.fsc)
			for round := range 3 { // block numbers must stay in step across APDUs
				apdu := bytes.Repeat([]byte{byte(round + 1)}, tc.size)
				apdu[0] = 0x42
				resp, err := pcd.Transmit(context.Background(), apdu)
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				want, _ := (&echo{}).Transmit(context.Background(), apdu)
				if !bytes.Equal(resp, want) {
					t.Fatalf("round %d: response of %d bytes differs", round, len(resp))
				}
				if !bytes.Equal(card.got[round], apdu) {
					t.Fatalf("round %d: card received a different APDU", round)
				}
			}
			if tc.size > tc.fsc && link.blocks < 6 {
				t.Fatalf("only %d blocks for chained APDUs", link.blocks)
			}
		})
	}
}

type broken struct{ answer []byte }

func (b broken) Exchange(context.Context, []byte) ([]byte, error) { return b.answer, nil }

func TestProtocolErrors(t *testing.T) {
	for _, answer := range [][]byte{nil, {0x03, 0x90, 0x00}, {0xB2}, {0xF2, 0x01}} {
		pcd := NewPCD(broken{answer}, 64)
		pcd.MaxWTX = 3
		if _, err := pcd.Transmit(context.Background(), []byte{0, 0xA4, 4, 0}); !errors.Is(err, ErrProtocol) {
			t.Errorf("answer % X: %v, want ErrProtocol", answer, err)
		}
	}
	if _, err := NewPICC(&echo{}, 64).Handle(context.Background(), []byte{0x77}); !errors.Is(err, ErrProtocol) {
		t.Errorf("unknown block: %v", err)
	}
}

func FuzzPICC(f *testing.F) {
	f.Add([]byte{0x02, 0x00, 0xA4, 0x04, 0x00})
	f.Add([]byte{0x12, 0x00})
	f.Add([]byte{0xA3})
	f.Fuzz(func(t *testing.T, block []byte) {
		NewPICC(&echo{}, 32).Handle(context.Background(), block)
	})
}

// lossy connects a PCD to a PICC over air that loses frames: at each
// frame number in toCard the reader's frame never reaches the card; at
// each in fromCard the card acts on it but its answer is lost. Both look
// the same to the reader: a transmission error.
type lossy struct {
	picc             *PICC
	n                int
	toCard, fromCard map[int]bool
}

func (l *lossy) Exchange(ctx context.Context, frame []byte) ([]byte, error) {
	n := l.n
	l.n++
	if l.toCard[n] {
		return nil, ErrTransmission
	}
	resp, err := l.picc.Handle(ctx, frame)
	if l.fromCard[n] {
		return nil, ErrTransmission
	}
	return resp, err
}

// TestRecovery: a frame lost on the air at any point of a chained
// exchange, in either direction, costs a retransmission, not the APDU
// (ISO/IEC 14443-4 rules 4, 6, 11 and 12). Before, the first lost frame
// failed the APDU.
func TestRecovery(t *testing.T) {
	const frames = 12 // a chained command and a chained answer take about this many
	for n := range frames {
		for _, dir := range []string{"to the card", "from the card"} {
			card := &echo{}
			picc := NewPICC(card, 24)
			picc.WTX = n%2 == 0
			link := &lossy{picc: picc, toCard: map[int]bool{}, fromCard: map[int]bool{}}
			if dir == "to the card" {
				link.toCard[n] = true
			} else {
				link.fromCard[n] = true
			}
			pcd := NewPCD(link, 24)
			for round := range 2 {
				apdu := bytes.Repeat([]byte{byte(round + 1)}, 60)
				resp, err := pcd.Transmit(context.Background(), apdu)
				if err != nil {
					t.Fatalf("frame %d lost %s, round %d: %v", n, dir, round, err)
				}
				want, _ := (&echo{}).Transmit(context.Background(), apdu)
				if !bytes.Equal(resp, want) {
					t.Fatalf("frame %d lost %s, round %d: wrong response", n, dir, round)
				}
			}
			if len(card.got) != 2 {
				t.Fatalf("frame %d lost %s: the card ran %d APDUs, want 2 (none twice)", n, dir, len(card.got))
			}
		}
	}
}

// TestRecoveryGivesUp: a card that is gone stays gone: after a bounded
// number of R(NAK)s the error comes back, still a transmission error.
func TestRecoveryGivesUp(t *testing.T) {
	link := &lossy{picc: NewPICC(&echo{}, 64), toCard: map[int]bool{}, fromCard: map[int]bool{}}
	for i := range 100 {
		link.toCard[i] = true
	}
	_, err := NewPCD(link, 64).Transmit(context.Background(), []byte{0, 0xA4, 4, 0})
	if !errors.Is(err, ErrTransmission) {
		t.Fatalf("%v, want ErrTransmission", err)
	}
	if link.n != 1+Retransmissions {
		t.Fatalf("%d frames sent, want %d", link.n, 1+Retransmissions)
	}
}
