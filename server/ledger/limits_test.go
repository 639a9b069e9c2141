package ledger

import (
	"context"
	"errors"
	"testing"
	"time"

	"smartpass.city/smartpass/app/wallet"
	"smartpass.city/smartpass/syncproto"
)

// TestSetLimits: a holder's limits, the server's own op, are kept in the
// transaction that stores it and ordered with the desk's by their
// clocks: a desk's op clocked before them does not undo them, one after
// replaces them all (its face-only limit absent: the city's default). A
// face-only limit above the city's bound is refused in words, from the
// server (nothing stored) and from a desk (refused before it is stored).
func TestSetLimits(t *testing.T) {
	l := open(t)
	led := New(l, Config{FaceOnlyMax: 5_000})
	ctx := context.Background()
	write := func(lim wallet.Limits, at time.Time) error {
		ops := []syncproto.Op{op("", 0, wallet.OpLimits, lim, at)}
		_, err := l.AppendNext(ctx, "server", ops, led.SetLimits(lim, &ops[0]))
		return err
	}
	in := func() wallet.InForce {
		t.Helper()
		got, err := led.Limits("c1")
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	one := int64(1_000)
	if err := write(wallet.Limits{Resident: "c1", Guardian: "g1", Daily: 3_000, PerPay: 2_000, FaceOnly: &one, Staff: "resident:g1"}, noon.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := in(); got.FaceOnly == nil || *got.FaceOnly != 1_000 || got.Daily != 3_000 || got.PerPay != 2_000 || got.Guardian != "g1" || got.FaceOnlyMax != 5_000 {
		t.Fatalf("after the holder's setting: %+v", got)
	}

	// A desk's op clocked before: stored, decided, and no change.
	if errs := push(t, l, led, desk, op(desk.ID, 1, wallet.OpLimits, wallet.Limits{Resident: "c1", Guardian: "g1", Daily: 500, Staff: "山田"}, noon)); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if got := in(); got.Daily != 3_000 || got.FaceOnly == nil {
		t.Fatalf("an older desk op undid the holder's limits: %+v", got)
	}

	// Above the bound: from the server, nothing stored; from a desk,
	// refused before it is stored.
	six := int64(6_000)
	head := l.Head()
	if err := write(wallet.Limits{Resident: "c1", Guardian: "g1", FaceOnly: &six, Staff: "resident:g1"}, noon.Add(2*time.Hour)); !errors.Is(err, ErrFaceOnlyMax) {
		t.Fatalf("a face-only limit of ¥6,000 from the server: %v, want %v", err, ErrFaceOnlyMax)
	}
	if l.Head() != head {
		t.Error("the refused setting was stored")
	}
	if errs := push(t, l, led, desk, op(desk.ID, 2, wallet.OpLimits, wallet.Limits{Resident: "c1", Guardian: "g1", FaceOnly: &six, Staff: "山田"}, noon.Add(2*time.Hour))); !errors.Is(errs[0], ErrFaceOnlyMax) {
		t.Fatalf("a face-only limit of ¥6,000 from a desk: %v, want %v", errs[0], ErrFaceOnlyMax)
	}
	if got := in(); got.FaceOnly == nil || *got.FaceOnly != 1_000 {
		t.Fatalf("a refused limit was kept: %+v", got)
	}

	// A desk's op clocked after replaces them all.
	if errs := push(t, l, led, desk, op(desk.ID, 3, wallet.OpLimits, wallet.Limits{Resident: "c1", Guardian: "g1", Daily: 800, Staff: "山田"}, noon.Add(3*time.Hour))); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if got := in(); got.Daily != 800 || got.PerPay != 0 || got.FaceOnly != nil {
		t.Fatalf("after a later desk op: %+v", got)
	}
	verify(t, l)
}
