package onestop_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/apdu"
	"smartpass.city/smartpass/app/card/cardtest"
	"smartpass.city/smartpass/app/card/internal/numbergrant"
	"smartpass.city/smartpass/app/card/onestop"
	"smartpass.city/smartpass/app/card/sim"
)

// TestReadCard: with the PIN, the flow reads the four facts and the
// number, once; the number is masked when printed; the firewall closes
// the number's file again after the read.
func TestReadCard(t *testing.T) {
	ctx := context.Background()
	s := cardtest.Card(t, cardtest.Taro)
	s.AllowNumber = true
	c := card.New(s)
	r, err := onestop.ReadCard(ctx, c, "1234")
	if err != nil {
		t.Fatal(err)
	}
	if r.Facts != cardtest.Taro.Facts || r.Number.Reveal() != cardtest.Taro.Number {
		t.Fatalf("read %+v", r)
	}
	if s.NumberReads != 1 {
		t.Fatalf("the number's file was read %d times", s.NumberReads)
	}
	if got := fmt.Sprintf("%v", r); strings.Contains(got, cardtest.Taro.Number) {
		t.Fatalf("printed: %s", got)
	}
	if err := c.SelectEF(ctx, 0x0001); !errors.Is(err, card.ErrForbidden) {
		t.Fatalf("the number's file after the flow: %v, want ErrForbidden", err)
	}
}

// TestWrongPIN: a wrong PIN is presented once, its tries left come back
// for the screen, and nothing is read.
func TestWrongPIN(t *testing.T) {
	ctx := context.Background()
	s := cardtest.Card(t, cardtest.Taro)
	s.AllowNumber = true
	_, err := onestop.ReadCard(ctx, card.New(s), "9999")
	var wp *apdu.WrongPINError
	if !errors.As(err, &wp) || wp.Remaining != 2 {
		t.Fatalf("wrong PIN: %v, want 2 tries left", err)
	}
	tries := 0
	for _, cmd := range s.Log {
		if len(cmd) > 4 && cmd[1] == 0x20 {
			tries++
		}
	}
	if tries != 1 || s.NumberReads != 0 {
		t.Fatalf("%d PIN tries used, %d number reads; want 1 and 0", tries, s.NumberReads)
	}
}

// TestNoGrant: without the flow's grant (a zero Grant, as any other
// package could at most make by reflection) the card package sends
// nothing to the card.
func TestNoGrant(t *testing.T) {
	ctx := context.Background()
	s := cardtest.Card(t, cardtest.Taro)
	c := card.New(s)
	ci, err := card.OpenCardInfo(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := ci.Verify(ctx, "1234"); err != nil {
		t.Fatal(err)
	}
	sent := len(s.Log)
	if _, err := ci.IndividualNumber(ctx, numbergrant.Grant{}); !errors.Is(err, card.ErrNoGrant) {
		t.Fatalf("zero grant: %v", err)
	}
	if len(s.Log) != sent {
		t.Fatal("a command reached the card without the grant")
	}
}

// TestSimulatorStillWatches: with AllowNumber off, the simulator counts
// the flow's read as a violation: the second line of defence stays on
// for every test but the one-stop flow's.
func TestSimulatorStillWatches(t *testing.T) {
	s, err := sim.New(cardtest.PKI(t), cardtest.Taro)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := onestop.ReadCard(context.Background(), card.New(s), "1234"); err != nil {
		t.Fatal(err)
	}
	if len(s.Violations) == 0 {
		t.Fatal("the simulator did not see the number's file touched")
	}
}
