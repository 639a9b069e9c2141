package ccid_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"smartpass.city/smartpass/app/card/cardtest"
	"smartpass.city/smartpass/app/card/ccid"
	"smartpass.city/smartpass/app/card/sim"
)

// Messages as CCID 1.1 §6 lays them out, byte for byte.
func TestMessageBytes(t *testing.T) {
	for _, tc := range []struct {
		m    ccid.Message
		want string
	}{
		{ccid.Message{Type: ccid.PowerOn, Seq: 1}, "62 00000000 00 01 000000"},
		{ccid.Message{Type: ccid.XfrBlock, Seq: 2, Data: cardtest.Hex("00A4040C")}, "6F 04000000 00 02 000000 00A4040C"},
		{ccid.Message{Type: ccid.XfrBlock, Seq: 3, Param: [3]byte{0, 0x10, 0}}, "6F 00000000 00 03 001000"},
		{ccid.Message{Type: ccid.DataBlock, Slot: 1, Seq: 9, Param: [3]byte{0, 0, 1}, Data: cardtest.Hex("9000")}, "80 02000000 01 09 000001 9000"},
	} {
		got := tc.m.Encode()
		if !bytes.Equal(got, cardtest.Hex(tc.want)) {
			t.Errorf("Encode(%+v) = % X, want %s", tc.m, got, tc.want)
		}
		back, err := ccid.Parse(got)
		if err != nil || !bytes.Equal(back.Encode(), got) {
			t.Errorf("Parse(% X) = %+v, %v", got, back, err)
		}
	}
	for _, bad := range []string{
		"",
		"80 00000000 00 01 00",          // short header
		"80 05000000 00 01 000000 9000", // says 5, has 2
		"80 02000000 00 01 000000 9000 00",
		"80 FFFFFFFF 00 01 000000",
	} {
		if _, err := ccid.Parse(cardtest.Hex(bad)); !errors.Is(err, ccid.ErrMessage) {
			t.Errorf("Parse(%s) = %v, want ErrMessage", bad, err)
		}
	}
}

// A whole JPKI user authentication through a generic CCID reader whose
// messages are small enough that the certificate comes back chained.
func TestReaderAuthentication(t *testing.T) {
	ctx := context.Background()
	c := cardtest.Card(t, cardtest.Taro)
	usb := sim.NewCCID(c)
	usb.MaxData = 200
	count := &cardtest.USB{Pipe: usb}
	r, err := ccid.Open(ctx, count)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.ATR) == 0 || r.ATR[0] != 0x3B {
		t.Fatalf("ATR % X", r.ATR)
	}
	n := cardtest.Authenticate(t, r, "1234")
	t.Logf("%d APDUs, %d USB transfers", n, count.N)
	if n > 12 {
		t.Errorf("%d APDUs for a user authentication; the aim is at most 12", n)
	}
	chained := 0
	for _, m := range usb.Messages {
		if len(m) >= 10 && m[0] == ccid.XfrBlock && m[8] == 0x10 {
			chained++
		}
	}
	if chained == 0 {
		t.Error("the certificate came back without chaining; the test should cover it")
	}
	if err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestReaderNoCard(t *testing.T) {
	ctx := context.Background()
	usb := sim.NewCCID(nil)
	if _, err := ccid.Open(ctx, usb); !errors.Is(err, ccid.ErrNoCard) {
		t.Fatalf("Open with no card: %v, want ErrNoCard", err)
	}
	usb.Place(cardtest.Card(t, cardtest.Taro))
	r, err := ccid.Open(ctx, usb)
	if err != nil {
		t.Fatal(err)
	}
	// Taken away mid-exchange: the next APDU says so, in a way the screen
	// can tell from a broken reader.
	usb.Place(nil)
	if _, err := r.Transmit(ctx, cardtest.Hex("00A4040C0A D3 92 F0 00 26 01 00 00 00 01")); !errors.Is(err, ccid.ErrNoCard) {
		t.Fatalf("after the card left: %v, want ErrNoCard", err)
	}
}

// script is a reader that answers from a list, to make it misbehave.
type script struct {
	answers [][]byte
	stall   bool
}

func (s *script) Out(context.Context, []byte) error { return nil }

func (s *script) In(ctx context.Context, max int) ([]byte, error) {
	if s.stall || len(s.answers) == 0 {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	b := s.answers[0]
	s.answers = s.answers[1:]
	return b, nil
}

func TestMisbehavingReader(t *testing.T) {
	block := func(seq byte, status byte, data string) []byte {
		return ccid.Message{Type: ccid.DataBlock, Seq: seq, Param: [3]byte{status, 0, 0}, Data: cardtest.Hex(data)}.Encode()
	}
	whole := block(1, 0, "3B8880019000")
	for _, tc := range []struct {
		name    string
		answers [][]byte
		stall   bool
		want    error // nil: the call succeeds
	}{
		{"answer", [][]byte{whole}, false, nil},
		{"time extensions, then the answer", [][]byte{block(1, 0x80, ""), block(1, 0x80, ""), whole}, false, nil},
		{"answer in two transfers", [][]byte{whole[:12], whole[12:]}, false, nil},
		{"answer to another command", [][]byte{block(7, 0, "9000")}, false, ccid.ErrMessage},
		{"garbage", [][]byte{cardtest.Hex("DEADBEEF")}, false, ccid.ErrMessage},
		{"empty transfer", [][]byte{{}}, false, ccid.ErrMessage},
		{"card mute", [][]byte{ccid.Message{Type: ccid.SlotStatus, Seq: 1, Param: [3]byte{0x41, 0xFE, 0}}.Encode()}, false, ccid.ErrNoCard},
		{"hardware error", [][]byte{ccid.Message{Type: ccid.SlotStatus, Seq: 1, Param: [3]byte{0x40, 0xFB, 0}}.Encode()}, false, ccid.ErrFailed},
		{"stalls", nil, true, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			c := ccid.NewConn(&script{answers: tc.answers, stall: tc.stall})
			m, err := c.Call(ctx, ccid.PowerOn, [3]byte{}, nil)
			if tc.want == nil {
				if err != nil || !bytes.Equal(m.Data, cardtest.Hex("3B8880019000")) {
					t.Fatalf("Call = % X, %v", m.Data, err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Call: %v, want %v", err, tc.want)
			}
		})
	}
	// A reader that only ever asks for more time is given up on.
	ext := make([][]byte, 100)
	for i := range ext {
		ext[i] = block(1, 0x80, "")
	}
	if _, err := ccid.NewConn(&script{answers: ext}).Call(context.Background(), ccid.PowerOn, [3]byte{}, nil); !errors.Is(err, ccid.ErrFailed) {
		t.Fatalf("endless time extensions: %v, want ErrFailed", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(ccid.Message{Type: ccid.DataBlock, Seq: 1, Data: []byte{0x90, 0x00}}.Encode())
	f.Add([]byte{0x80, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ccid.Parse(b)
		if err == nil && !bytes.Equal(m.Encode(), b) {
			t.Fatalf("accepted message does not re-encode to itself: % X", b)
		}
	})
}
