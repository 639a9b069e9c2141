package rcs300_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"smartpass.city/smartpass/app/card/cardtest"
	"smartpass.city/smartpass/app/card/ccid"
	"smartpass.city/smartpass/app/card/rcs300"
	"smartpass.city/smartpass/app/card/sim"
)

// The transceive pseudo-APDU, byte for byte as the public drivers build
// it: timeout 2 s in µs little-endian, the data under 95 with a two-byte
// length, three zero bytes at the end.
func TestTransceiveBytes(t *testing.T) {
	got := rcs300.Transceive(cardtest.Hex("00A4040C"))
	want := cardtest.Hex("FF 50 00 01 00 000F 5F46 04 80841E00 95 82 0004 00A4040C 000000")
	if !bytes.Equal(got, want) {
		t.Fatalf("Transceive = % X\nwant        % X", got, want)
	}
}

func TestParseAnswer(t *testing.T) {
	for _, tc := range []struct {
		name, answer string
		want         error
	}{
		{"ok", "C0 03 009000 9000", nil},
		{"ok with a card answer", "C0 03 009000 96 02 0000 97 02 9000 9000", nil},
		{"no card", "C0 03 026401 9000", rcs300.ErrNoCard},
		{"no card, Type A", "C0 03 016401 9000", rcs300.ErrNoCard},
		{"ok with every object a real reader adds", "C0 03 009000 92 01 00 96 02 0000 97 02 9000 9000", nil},
		{"reader error", "C0 03 016A81 9000", rcs300.ErrAnswer},
		{"no status object", "97 02 9000 9000", rcs300.ErrAnswer},
		{"bad status word", "C0 03 009000 6A81", rcs300.ErrAnswer},
		{"truncated object", "C0 05 009000 9000", rcs300.ErrAnswer},
		{"one byte", "90", rcs300.ErrAnswer},
	} {
		_, err := rcs300.ParseAnswer(cardtest.Hex(tc.answer))
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: ParseAnswer(%s) = %v, want %v", tc.name, tc.answer, err, tc.want)
		}
	}
}

// A whole JPKI user authentication through the simulated RC-S300.
func TestReaderAuthentication(t *testing.T) {
	ctx := context.Background()
	usb := sim.NewRCS300(cardtest.Card(t, cardtest.Taro))
	count := &cardtest.USB{Pipe: usb}
	r, err := rcs300.Open(ctx, count)
	if err != nil {
		t.Fatal(err)
	}
	n := cardtest.Authenticate(t, r, "1234")
	t.Logf("%d APDUs, %d USB transfers", n, count.N)
	if n > 12 {
		t.Errorf("%d APDUs for a user authentication; the aim is at most 12", n)
	}
	if err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// Every message crossing the pipe was a CCID Escape.
	for _, m := range usb.Messages {
		if m[0] != ccid.Escape {
			t.Fatalf("a %02X message on the vendor interface", m[0])
		}
	}
}

func TestReaderNoCard(t *testing.T) {
	ctx := context.Background()
	usb := sim.NewRCS300(nil)
	if _, err := rcs300.Open(ctx, usb); !errors.Is(err, rcs300.ErrNoCard) {
		t.Fatalf("Open with no card: %v, want ErrNoCard", err)
	}
	usb.Place(cardtest.Card(t, cardtest.Taro))
	r, err := rcs300.Open(ctx, usb)
	if err != nil {
		t.Fatal(err)
	}
	usb.Place(nil)
	if _, err := r.Transmit(ctx, cardtest.Hex("00A4040C0A D3 92 F0 00 26 01 00 00 00 01")); !errors.Is(err, rcs300.ErrNoCard) {
		t.Fatalf("after the card left: %v, want ErrNoCard", err)
	}
}

// replay is a reader that answers with recorded bytes, one answer per
// message sent, whatever was sent.
type replay struct{ answers [][]byte }

func (r *replay) Out(context.Context, []byte) error { return nil }
func (r *replay) In(context.Context, int) ([]byte, error) {
	if len(r.answers) == 0 {
		return nil, errors.New("replay: no more recorded answers")
	}
	a := r.answers[0]
	r.answers = r.answers[1:]
	return a, nil
}

// TestRealAnswers replays answers logged from a real RC-S300 (the
// end-session reply quoted in issue 21, from a public log of the reader
// driven over WebUSB): bStatus 02 in the CCID header although the command
// succeeded. Before, ccid turned that into "no card" and Open failed.
func TestRealAnswers(t *testing.T) {
	ok := cardtest.Hex("83 07000000 00 01 02 00 00 C0 03 00 90 00 90 00")
	answers := make([][]byte, 5) // end session, start, radio off, on, switch
	for i := range answers {
		a := bytes.Clone(ok)
		a[6] = byte(i + 1) // the sequence number of each message
		answers[i] = a
	}
	r, err := rcs300.Open(context.Background(), &replay{answers: answers})
	if err != nil {
		t.Fatalf("Open on a real reader's answers: %v", err)
	}
	_ = r
}

func FuzzParseAnswer(f *testing.F) {
	f.Add(cardtest.Hex("C0 03 009000 96 02 0000 97 02 9000 9000"))
	f.Add(cardtest.Hex("C0 03 026401 9000"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := rcs300.ParseAnswer(b); err != nil && !errors.Is(err, rcs300.ErrAnswer) && !errors.Is(err, rcs300.ErrNoCard) {
			t.Fatalf("an error of no known kind: %v", err)
		}
	})
}
