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
