package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/wallet"
	"smartpass.city/smartpass/server/oplog"
	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/syncproto"
)

func open(t testing.TB) *oplog.Log {
	t.Helper()
	l, err := oplog.Open(t.TempDir(), oplog.Options{Feeds: scope.Feeds})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// op makes an op of device with seq, at a time.
func op(device string, seq uint64, kind string, body any, at time.Time) syncproto.Op {
	b, _ := json.Marshal(body)
	return syncproto.Op{Device: device, Seq: seq, HLC: hlc.Make(at.UnixMilli(), 0), Kind: kind, Body: b}
}

// push stores ops as device's, as the hub does: checked by scope and the
// ledger (a refusal stored as a rejection), posted in the same
// transaction.
func push(t testing.TB, l *oplog.Log, led *Ledger, dev scope.Device, ops ...syncproto.Op) []error {
	t.Helper()
	errs := make([]error, len(ops))
	for i, o := range ops {
		err := dev.Check(o)
		if err == nil {
			err = led.Check(dev.ID, o)
		}
		if err != nil {
			errs[i] = err
			ops[i] = dev.Reject(o, err)
		}
	}
	if _, _, err := l.AppendBatch(context.Background(), dev.ID, ops, led.Records(dev.ID, ops)); err != nil {
		t.Fatal(err)
	}
	return errs
}

var (
	shop  = scope.Device{ID: "till-1", Facility: facility.Facility{ID: "shop-a", Kind: facility.Shop}, Role: scope.Shop}
	shopB = scope.Device{ID: "till-b", Facility: facility.Facility{ID: "shop-b", Kind: facility.Shop}, Role: scope.Shop}
	desk  = scope.Device{ID: "desk-1", Facility: facility.Facility{ID: "kaga-hq", Kind: facility.HQ}, Role: scope.Registrar}
	noon  = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
)

func balance(t testing.TB, led *Ledger, a Account) Balance {
	t.Helper()
	b, err := led.Balance(a)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func verify(t testing.TB, recs store.Records) Report {
	t.Helper()
	r, err := Verify(recs)
	if err != nil {
		t.Fatalf("%v\n%s", err, strings.Join(r.Problems, "\n"))
	}
	return r
}

// TestRefusals: each bad input is refused with its own error, and
// nothing is posted for it.
func TestRefusals(t *testing.T) {
	l := open(t)
	led := New(l, Config{SecondStaffAbove: 10_000})
	deleted := "r-gone"
	push(t, l, led, desk,
		op(desk.ID, 1, wallet.OpTopUpCash, wallet.TopUpCash{Resident: "r1", Amount: 5000, Staff: "山田"}, noon),
		op(desk.ID, 2, wallet.OpTopUpCash, wallet.TopUpCash{Resident: "r-frozen", Amount: 5000, Staff: "山田"}, noon),
		op(desk.ID, 3, wallet.OpFreeze, wallet.Freeze{Resident: "r-frozen", Frozen: true, Reason: "紛失", Staff: "山田"}, noon),
		op(desk.ID, 4, wallet.OpLimits, wallet.Limits{Resident: "r1", Guardian: "g1", Daily: 3000, PerPay: 2000, Staff: "山田"}, noon),
		op(desk.ID, 5, wallet.OpTopUpCash, wallet.TopUpCash{Resident: deleted, Amount: 5000, Staff: "山田"}, noon),
	)
	if err := led.Close("resident:"+deleted, deleted); err != nil {
		t.Fatal(err)
	}
	push(t, l, led, shop, op(shop.ID, 1, wallet.OpPayment, wallet.Payment{Facility: "shop-a", Resident: "r1", Amount: 800}, noon))
	seq := uint64(1)
	for _, tc := range []struct {
		name string
		dev  scope.Device
		kind string
		body any
		want error
	}{
		{"short", shop, wallet.OpPayment, wallet.Payment{Facility: "shop-a", Resident: "r-nobody", Amount: 100}, ErrShort},
		{"frozen", shop, wallet.OpPayment, wallet.Payment{Facility: "shop-a", Resident: "r-frozen", Amount: 100}, ErrFrozen},
		{"deleted", shop, wallet.OpPayment, wallet.Payment{Facility: "shop-a", Resident: deleted, Amount: 100}, ErrDeleted},
		{"per payment", shop, wallet.OpPayment, wallet.Payment{Facility: "shop-a", Resident: "r1", Amount: 2500}, ErrPerPayment},
		{"daily", shop, wallet.OpPayment, wallet.Payment{Facility: "shop-a", Resident: "r1", Amount: 1900, Offline: false}, nil},
		{"daily over", shop, wallet.OpPayment, wallet.Payment{Facility: "shop-a", Resident: "r1", Amount: 400}, ErrDaily},
		{"refund too large", shop, wallet.OpRefund, wallet.Refund{Facility: "shop-a", Payment: "till-1.1", Amount: 801, Staff: "佐藤"}, ErrRefundTooLarge},
		{"refund elsewhere", shopB, wallet.OpRefund, wallet.Refund{Facility: "shop-b", Payment: "till-1.1", Amount: 100, Staff: "佐藤"}, ErrRefundElsewhere},
		{"second staff", desk, wallet.OpTopUpCash, wallet.TopUpCash{Resident: "r1", Amount: 20_000, Staff: "山田"}, ErrSecondStaff},
		{"second staff given", desk, wallet.OpTopUpCash, wallet.TopUpCash{Resident: "r1", Amount: 20_000, Staff: "山田", Confirmer: "鈴木"}, nil},
		{"offline short posts", shop, wallet.OpPayment, wallet.Payment{Facility: "shop-a", Resident: "r-nobody", Amount: 300, Offline: true}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seq++
			dev := tc.dev
			s := seq + 100
			o := op(dev.ID, s, tc.kind, tc.body, noon)
			before := verify(t, l)
			errs := push(t, l, led, dev, o)
			after := verify(t, l)
			if tc.want == nil {
				if errs[0] != nil {
					t.Fatalf("refused: %v", errs[0])
				}
				if after.Entries != before.Entries+1 {
					t.Fatalf("entries %d -> %d, want one posted", before.Entries, after.Entries)
				}
				return
			}
			if !errors.Is(errs[0], tc.want) {
				t.Fatalf("got %v, want %v", errs[0], tc.want)
			}
			if after.Entries != before.Entries {
				t.Fatalf("entries %d -> %d: a refusal posted", before.Entries, after.Entries)
			}
			if _, refused, ok, err := led.Posted(dev.ID + "." + itoa(s)); err != nil || !ok || refused == "" {
				t.Fatalf("the refusal is not recorded as the cause's decision: %q %v %v", refused, ok, err)
			}
		})
	}
	// The offline payment that found the wallet short is recorded debt,
	// the shop is paid in full.
	if b := balance(t, led, Wallet("r-nobody")); b.Balance != -300 || b.Debt != 300 {
		t.Fatalf("short offline payment: wallet %+v", b)
	}
	if a, err := led.OfflineAllowance("r-nobody", 3000); err != nil || a != 0 {
		t.Fatalf("offline allowance with debt = %d, %v", a, err)
	}
	if a, err := led.OfflineAllowance("r1", 3000); err != nil || a != 2000 {
		t.Fatalf("offline allowance under a ¥2,000 per-payment limit = %d, %v", a, err)
	}
	// A top-up settles the debt first.
	push(t, l, led, desk, op(desk.ID, 50, wallet.OpTopUpCash, wallet.TopUpCash{Resident: "r-nobody", Amount: 1000, Staff: "山田"}, noon))
	if b := balance(t, led, Wallet("r-nobody")); b.Balance != 700 || b.Debt != 0 {
		t.Fatalf("after top-up: %+v", b)
	}
	verify(t, l)
}

func itoa(n uint64) string { b, _ := json.Marshal(n); return string(b) }

// TestResendPostsOnce: a resent push, a reordered refund before its
// payment, a refund of a refused payment.
func TestResendPostsOnce(t *testing.T) {
	l := open(t)
	led := New(l, Config{})
	top := op(desk.ID, 1, wallet.OpTopUpCash, wallet.TopUpCash{Resident: "r1", Amount: 3000, Staff: "山田"}, noon)
	pay := op(shop.ID, 1, wallet.OpPayment, wallet.Payment{Facility: "shop-a", Resident: "r1", Amount: 1000, Offline: true}, noon)
	ref := op(shop.ID, 2, wallet.OpRefund, wallet.Refund{Facility: "shop-a", Payment: "till-1.1", Amount: 300, Staff: "佐藤"}, noon)
	ref2 := op(shop.ID, 3, wallet.OpRefund, wallet.Refund{Facility: "shop-a", Payment: "till-1.1", Amount: 800, Staff: "佐藤"}, noon)
	for range 3 {
		push(t, l, led, desk, top)
	}
	// The refunds arrive before the payment (frames overtook it); the
	// second would refund more than is left once the first is posted.
	push(t, l, led, shop, ref, ref2)
	if b := balance(t, led, Wallet("r1")); b.Balance != 3000 {
		t.Fatalf("a refund posted before its payment: %+v", b)
	}
	push(t, l, led, shop, pay, ref, pay)
	if b := balance(t, led, Wallet("r1")); b.Balance != 2300 {
		t.Fatalf("wallet after payment and refund = %+v, want 2300", b)
	}
	if b := balance(t, led, Merchant("shop-a")); b.Balance != 700 {
		t.Fatalf("merchant = %+v, want 700", b)
	}
	if _, why, ok, _ := led.Posted("till-1.3"); !ok || !strings.Contains(why, ErrRefundTooLarge.EN) {
		t.Fatalf("second refund: %q %v", why, ok)
	}
	r := verify(t, l)
	if r.Entries != 3 || r.Outstanding != 2300 {
		t.Fatalf("report %+v", r)
	}
	// The guardian sees the spending: each line as it moved the wallet,
	// the refund linked to its payment.
	st, err := led.Wallet("resident:g1", "r1")
	if err != nil {
		t.Fatal(err)
	}
	want := []wallet.Line{
		{Cause: "desk-1.1", Kind: KindTopUp, Amount: 3000, With: "cash"},
		{Cause: "till-1.1", Kind: KindPayment, Amount: -1000, With: "shop-a"},
		{Cause: "till-1.2", Kind: KindRefund, Amount: 300, With: "shop-a", Of: "till-1.1"},
	}
	for i := range st.Lines {
		st.Lines[i].At = time.Time{}
	}
	if st.Balance != 2300 || !slices.Equal(st.Lines, want) {
		t.Fatalf("statement %+v, want %+v", st, want)
	}
}

// TestTransfer: the server's own postings are decided once and never take
// a wallet below zero.
func TestTransfer(t *testing.T) {
	l := open(t)
	led := New(l, Config{})
	var audited []string
	led.Audit = func(actor, action, subject, detail string) error {
		audited = append(audited, action+" "+subject)
		return nil
	}
	for _, tc := range []struct {
		name   string
		tr     Transfer
		posted bool
		err    error
	}{
		{"card top-up", Transfer{Cause: "card:pi_1", Kind: KindTopUp, From: Clearing(Card), To: Wallet("r1"), Amount: 5000, Actor: "stripe"}, true, nil},
		{"second webhook", Transfer{Cause: "card:pi_1", Kind: KindTopUp, From: Clearing(Card), To: Wallet("r1"), Amount: 5000, Actor: "stripe"}, false, nil},
		{"zero", Transfer{Cause: "card:pi_2", Kind: KindTopUp, From: Clearing(Card), To: Wallet("r1"), Amount: 0}, false, ErrAmount},
		{"wallet short", Transfer{Cause: "x:1", Kind: KindPayout, From: Wallet("r1"), To: Float, Amount: 6000}, false, ErrShort},
		{"sweep", Transfer{Cause: "sweep:1", Kind: KindSweep, From: Float, To: Clearing(Card), Amount: 5000}, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, posted, err := led.Post(tc.tr, noon)
			if posted != tc.posted || !errors.Is(err, tc.err) {
				t.Fatalf("posted %v err %v, want %v %v", posted, err, tc.posted, tc.err)
			}
		})
	}
	if len(audited) != 2 {
		t.Fatalf("audited %v, want the two postings", audited)
	}
	s, err := led.Wallet("staff:1", "r1")
	if err != nil || s.Balance != 5000 || len(s.Lines) != 1 || s.Lines[0].Amount != 5000 || s.Lines[0].With != "card" || audited[2] != "ledger.read r1" {
		t.Fatalf("statement %+v %v, audit %v", s, err, audited)
	}
	verify(t, l)
}

// TestVerifyFindsTampering: each way of breaking the books is found.
func TestVerifyFindsTampering(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(tx store.Tx) error
		want   string
	}{
		{"balance edited", func(tx store.Tx) error { return putJSON(tx, kindBalance, string(Wallet("r1")), Balance{Balance: 9999}) }, "postings sum to"},
		{"entry unbalanced", func(tx store.Tx) error {
			e, _, _ := store.GetJSON[Entry](tx, kindEntry, seqID(1))
			e.Postings[0].Amount--
			return putJSON(tx, kindEntry, seqID(1), e)
		}, "sums to"},
		{"entry removed", func(tx store.Tx) error { return tx.Delete(kindEntry, seqID(1)) }, "want 1"},
		{"debt hidden", func(tx store.Tx) error {
			return putJSON(tx, kindBalance, string(Wallet("r2")), Balance{Balance: -200})
		}, "below zero"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := open(t)
			led := New(l, Config{})
			push(t, l, led, desk, op(desk.ID, 1, wallet.OpTopUpCash, wallet.TopUpCash{Resident: "r1", Amount: 3000, Staff: "山田"}, noon))
			push(t, l, led, shop, op(shop.ID, 1, wallet.OpPayment, wallet.Payment{Facility: "shop-a", Resident: "r1", Amount: 1000}, noon))
			verify(t, l)
			if err := l.Update(tc.tamper); err != nil {
				t.Fatal(err)
			}
			r, err := Verify(l)
			if !errors.Is(err, ErrBroken) || !strings.Contains(strings.Join(r.Problems, "\n"), tc.want) {
				t.Fatalf("got %v %v, want a problem with %q", err, r.Problems, tc.want)
			}
		})
	}
}

// TestSettingsLatestWins: a wallet's freeze and limits are its latest
// op's by clock, whatever order they arrive in (desks sync late).
func TestSettingsLatestWins(t *testing.T) {
	freeze := func(seq uint64, frozen bool, at time.Time) syncproto.Op {
		return op(desk.ID, seq, wallet.OpFreeze, wallet.Freeze{Resident: "r1", Frozen: frozen, Reason: "紛失", Staff: "山田"}, at)
	}
	pay := wallet.Payment{Facility: "shop-a", Resident: "r1", Amount: 100}
	for _, tc := range []struct {
		name   string
		ops    []syncproto.Op
		frozen bool
	}{
		{"frozen, then lifted", []syncproto.Op{freeze(2, true, noon), freeze(3, false, noon.Add(time.Hour))}, false},
		{"the lift arrives first", []syncproto.Op{freeze(3, false, noon.Add(time.Hour)), freeze(2, true, noon)}, false},
		{"an older lift arrives last", []syncproto.Op{freeze(2, true, noon.Add(time.Hour)), freeze(3, false, noon)}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := open(t)
			led := New(l, Config{})
			push(t, l, led, desk, op(desk.ID, 1, wallet.OpTopUpCash, wallet.TopUpCash{Resident: "r1", Amount: 1000, Staff: "山田"}, noon))
			for _, o := range tc.ops {
				push(t, l, led, desk, o)
			}
			err := led.Check(shop.ID, op(shop.ID, 1, wallet.OpPayment, pay, noon.Add(2*time.Hour)))
			if frozen := errors.Is(err, ErrFrozen); frozen != tc.frozen || !frozen && err != nil {
				t.Fatalf("payment: %v, want frozen %v", err, tc.frozen)
			}
			if r := verify(t, l); r.Entries != 1 {
				t.Fatalf("settings posted entries: %+v", r)
			}
		})
	}
}
