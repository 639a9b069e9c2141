package rcs380_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/cardtest"
	"smartpass.city/smartpass/app/card/rcs380"
	"smartpass.city/smartpass/app/card/sim"
)

// The frames CARD.md lists, byte for byte.
func TestFrameBytes(t *testing.T) {
	for _, tc := range []struct{ payload, want string }{
		{"D6 2A 01", "00 00 FF FF FF 03 00 FD D6 2A 01 FF 00"},
		{"D6 20", "00 00 FF FF FF 02 00 FE D6 20 0A 00"},
		{"D6 06 00", "00 00 FF FF FF 03 00 FD D6 06 00 24 00"},
		{"D6 00 03 07 0F 07", "00 00 FF FF FF 06 00 FA D6 00 03 07 0F 07 0A 00"},
	} {
		got := rcs380.Frame(cardtest.Hex(tc.payload))
		if !bytes.Equal(got, cardtest.Hex(tc.want)) {
			t.Errorf("Frame(%s) = % X, want %s", tc.payload, got, tc.want)
		}
		back, err := rcs380.ParseFrame(got)
		if err != nil || !bytes.Equal(back, cardtest.Hex(tc.payload)) {
			t.Errorf("ParseFrame: % X, %v", back, err)
		}
	}
	bad := rcs380.Frame(cardtest.Hex("D6 2A 01"))
	bad[9] ^= 1
	if _, err := rcs380.ParseFrame(bad); !errors.Is(err, rcs380.ErrFrame) {
		t.Errorf("a frame with a wrong checksum: %v", err)
	}
}

// A whole JPKI user authentication through the simulated reader:
// activation, ISO-DEP, a certificate longer than one frame.
func TestReaderAuthentication(t *testing.T) {
	ctx := context.Background()
	usb := sim.NewRCS380(nil)
	if _, err := rcs380.Open(ctx, usb); !errors.Is(err, rcs380.ErrNoCard) {
		t.Fatalf("Open with no card: %v, want ErrNoCard", err)
	}
	usb.Place(cardtest.Card(t, cardtest.Taro))
	count := &cardtest.USB{Pipe: usb}
	r, err := rcs380.Open(ctx, count)
	if err != nil {
		t.Fatal(err)
	}
	n := cardtest.Authenticate(t, r, "1234")
	t.Logf("%d APDUs, %d USB transfers", n, count.N)
	if n > 12 {
		t.Errorf("%d APDUs for a user authentication; the aim is at most 12", n)
	}
	// The card is lifted off: the next command says so.
	usb.Place(nil)
	j, err := card.OpenJPKI(ctx, card.New(r))
	if !errors.Is(err, rcs380.ErrNoCard) {
		t.Fatalf("after the card left: %v, %v, want ErrNoCard", j, err)
	}
}

// TestReloadMidExchange: a page reloaded while the reader still held the
// answer to a card command; the next page's Open must not read that
// answer as its own. The simulator keeps the IN pipe's frames across the
// reset ACK, as the real reader does (nfcpy drains them). Before, Open
// failed on the stale reply.
func TestReloadMidExchange(t *testing.T) {
	ctx := context.Background()
	usb := sim.NewRCS380(cardtest.Card(t, cardtest.Taro))
	r, err := rcs380.Open(ctx, usb)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := card.OpenJPKI(ctx, card.New(r)); err != nil {
		t.Fatal(err)
	}
	// The old page sends a block and goes away before reading anything.
	if err := usb.Out(ctx, rcs380.Frame(cardtest.Hex("D6 04 A861 02 00A4020C020006"))); err != nil {
		t.Fatal(err)
	}
	r, err = rcs380.Open(ctx, usb)
	if err != nil {
		t.Fatalf("Open after a reload mid-exchange: %v", err)
	}
	cardtest.Authenticate(t, r, "1234")
}

// TestFaultsOnTheAir: CRC errors and lost frames during a whole user
// authentication are recovered by ISO-DEP; none costs a PIN try or the
// APDU. Before, the first one failed the authentication.
func TestFaultsOnTheAir(t *testing.T) {
	ctx := context.Background()
	s := cardtest.Card(t, cardtest.Taro)
	usb := sim.NewRCS380(s)
	usb.Fault = func(n int) sim.Fault {
		switch {
		case n < 2: // activation: SENSB_REQ and ATTRIB cross cleanly
			return sim.NoFault
		case n%5 == 0:
			return sim.CRCFromCard
		case n%7 == 0:
			return sim.LostToCard
		}
		return sim.NoFault
	}
	r, err := rcs380.Open(ctx, usb)
	if err != nil {
		t.Fatal(err)
	}
	cardtest.Authenticate(t, r, "1234")
	verifies := 0
	for _, c := range s.Log {
		if len(c) > 4 && c[1] == 0x20 {
			verifies++
		}
	}
	if verifies != 1 {
		t.Fatalf("the card received the PIN %d times, want once", verifies)
	}
}

// TestActivationWait: SENSB_REQ and ATTRIB wait 30 ms for the card (as
// nfcpy does), not the 2.5 s of an ISO-DEP block: an empty reader is told
// at once.
func TestActivationWait(t *testing.T) {
	ctx := context.Background()
	usb := sim.NewRCS380(cardtest.Card(t, cardtest.Taro))
	if _, err := rcs380.Open(ctx, usb); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"D6 04 2C 01 05 00 10": false, "D6 04 2C 01 1D": false}
	for _, f := range usb.Frames {
		p, err := rcs380.ParseFrame(f)
		if err != nil {
			continue
		}
		for prefix := range want {
			if bytes.HasPrefix(p, cardtest.Hex(prefix)) {
				want[prefix] = true
			}
		}
	}
	for prefix, seen := range want {
		if !seen {
			t.Errorf("no InCommRF frame starting %s (30 ms)", prefix)
		}
	}
}

func FuzzParseFrame(f *testing.F) {
	f.Add(rcs380.Frame([]byte{0xD7, 0x05, 0, 0, 0, 0, 0, 0x90, 0x00}))
	f.Add([]byte{0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := rcs380.ParseFrame(b)
		if err == nil && !bytes.Equal(rcs380.Frame(p), b[:len(rcs380.Frame(p))]) {
			t.Fatalf("accepted frame does not re-encode to itself")
		}
	})
}
