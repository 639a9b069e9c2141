package terminal

import (
	"encoding/json"
	"testing"
	"time"

	"smartpass.city/smartpass/app/checkout"
	"smartpass.city/smartpass/app/state"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/app/wallet"
	"smartpass.city/smartpass/syncproto"
)

// TestPayer: a shop's till judges a payer online by the server (no old
// balance refuses them) and offline by the allowance and block its
// profile carries, and a guardian's limits from it either way; a
// resident with no wallet facts here is no payer.
func TestPayer(t *testing.T) {
	limit := int64(1_000)
	st := &state.State{Profiles: map[string]template.Profile{
		"R-1": {Resident: "R-1", Facility: "shop", Pay: &template.Pay{Name: "カガ タロウ", Allowance: 2_000, FaceOnly: &limit, Adult: true}},
		"R-2": {Resident: "R-2", Facility: "shop", Pay: &template.Pay{Name: "カガ ハナコ", Blocked: true, AdultFrom: "2038-05-05"}},
		"R-3": {Resident: "R-3", Facility: "shop"},
		"R-4": {Resident: "R-4", Facility: "shop", Pay: &template.Pay{Name: "カガ サブロウ", Allowance: 500, PerPayment: 500, Daily: 1_000, AdultFrom: "2040-01-01"}},
	}}
	cases := []struct {
		name      string
		resident  string
		offline   bool
		ok        bool
		balance   int64
		debt      bool
		faceOnly  int64
		amount    int64
		wantStep  checkout.Step
		wantWhy   checkout.Reason
		ofAgeNote bool
	}{
		{"online: the server judges the balance", "R-1", false, true, wallet.MaxAmount, false, 1_000, 5_000, checkout.Confirm, "", true},
		{"offline: within the allowance", "R-1", true, true, 2_000, false, 1_000, 2_000, checkout.Confirm, "", true},
		{"offline: past the allowance", "R-1", true, true, 2_000, false, 1_000, 2_001, checkout.Refused, checkout.OverOffline, true},
		{"offline: recorded debt blocks", "R-2", true, true, 0, true, checkout.DefaultFaceOnly, 100, checkout.Refused, checkout.OfflineBlocked, false},
		{"online: debt does not block", "R-2", false, true, wallet.MaxAmount, false, checkout.DefaultFaceOnly, 100, checkout.Confirm, "", false},
		{"a guardian's per-payment limit, online", "R-4", false, true, wallet.MaxAmount, false, checkout.DefaultFaceOnly, 600, checkout.Refused, checkout.OverPerPayment, false},
		{"within a guardian's limits, online", "R-4", false, true, wallet.MaxAmount, false, checkout.DefaultFaceOnly, 500, checkout.Confirm, "", false},
		{"no wallet facts", "R-3", false, false, 0, false, 0, 100, checkout.LookAtCamera, checkout.NotRecognised, false},
		{"no profile", "R-9", true, false, 0, false, 0, 100, checkout.LookAtCamera, checkout.NotRecognised, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, ok := Payer(st, c.resident, c.offline)
			if ok != c.ok || p.Balance != c.balance || p.Debt != c.debt {
				t.Fatalf("Payer = %+v, %v; want ok %v balance %d debt %v", p, ok, c.ok, c.balance, c.debt)
			}
			if ok && p.FaceOnlyLimit(checkout.Policy{}) != c.faceOnly {
				t.Errorf("face-only limit %d, want %d", p.FaceOnlyLimit(checkout.Policy{}), c.faceOnly)
			}
			if ok && p.Age.Adult != c.ofAgeNote {
				t.Errorf("adult %v, want %v", p.Age.Adult, c.ofAgeNote)
			}
			pay := checkout.Start(checkout.Policy{}, c.offline, checkout.Allowance{Store: memStore{}})
			if err := pay.Keyed(c.amount); err != nil {
				t.Fatal(err)
			}
			err := pay.Face(p, ok, time.Now())
			if pay.Step != c.wantStep {
				t.Fatalf("step %v (%v), want %v", pay.Step, err, c.wantStep)
			}
			if r, _ := err.(*checkout.Refusal); c.wantWhy != "" && (r == nil || r.Reason != c.wantWhy) {
				t.Errorf("refusal %v, want %s", err, c.wantWhy)
			}
		})
	}
}

// memStore is a checkout.Store in memory.
type memStore map[string][]byte

func (m memStore) Load(k string) ([]byte, error) { return m[k], nil }
func (m memStore) Save(k string, v []byte) error { m[k] = v; return nil }

// TestSales: the till lists its shop's payments newest first with what
// was refunded of each; a refund the server refused gives nothing back,
// a payment it refused carries its words, and another shop's are not
// listed. Outcome follows one op to the server's answer.
func TestSales(t *testing.T) {
	op := func(dev string, seq, global uint64, kind string, body any) syncproto.Op {
		b, _ := json.Marshal(body)
		return syncproto.Op{Device: dev, Seq: seq, HLC: seq << 20, Global: global, Kind: kind, Body: b}
	}
	ops := []syncproto.Op{
		op("till", 1, 10, wallet.OpPayment, wallet.Payment{Facility: "shop", Resident: "R-1", Amount: 800}),
		op("till", 2, 11, wallet.OpRefund, wallet.Refund{Facility: "shop", Payment: "till.1", Amount: 300, Staff: "s"}),
		op("till", 3, 12, wallet.OpRefund, wallet.Refund{Facility: "shop", Payment: "till.1", Amount: 600, Staff: "s"}),
		op("till", 4, 0, wallet.OpPayment, wallet.Payment{Facility: "shop", Resident: "R-1", Amount: 1_200, Offline: true}),
		op("till", 5, 13, wallet.OpPayment, wallet.Payment{Facility: "shop", Resident: "R-1", Amount: 2_900}),
		op("other", 1, 14, wallet.OpPayment, wallet.Payment{Facility: "elsewhere", Resident: "R-1", Amount: 50}),
	}
	rejected := []state.Rejected{
		{Op: ops[2], Reason: "refused by the server: 返金額が大きすぎます / too large"},
		{Op: ops[4], Reason: "refused by the server: 残高が足りません。 / The wallet's balance is too low."},
	}
	got := Sales(ops, rejected, "shop")
	want := []Sale{
		{ID: "till.5", Amount: 2_900, Refused: "残高が足りません。 / The wallet's balance is too low.", Posted: true},
		{ID: "till.4", Amount: 1_200, Offline: true},
		{ID: "till.1", Amount: 800, Refunded: 300, Posted: true},
	}
	if len(got) != len(want) {
		t.Fatalf("Sales = %+v, want %d", got, len(want))
	}
	for i := range want {
		g := got[i]
		g.At = want[i].At
		if g != want[i] {
			t.Errorf("sale %d = %+v, want %+v", i, g, want[i])
		}
	}
	if left := got[2].Left(); left != 500 {
		t.Errorf("left of the ¥800 = %d, want 500", left)
	}
	outcomes := []struct {
		op      syncproto.Op
		refused string
		posted  bool
	}{
		{ops[0], "", true},
		{ops[3], "", false},
		{ops[4], "残高が足りません。 / The wallet's balance is too low.", false},
	}
	for _, o := range outcomes {
		if r, p := Outcome(ops, rejected, o.op); r != o.refused || p != o.posted {
			t.Errorf("Outcome(%s) = %q, %v; want %q, %v", o.op.Kind, r, p, o.refused, o.posted)
		}
	}
}

// FuzzSales: the bodies of the payments and refunds a till lists come
// from the feed: whatever they hold, the list has no refund larger than
// what it counts and nothing left below zero.
func FuzzSales(f *testing.F) {
	f.Add([]byte(`{"facility":"shop","resident":"R-1","amount":800}`), []byte(`{"facility":"shop","payment":"d.1","amount":300,"staff":"s"}`))
	f.Add([]byte(`{"facility":"shop","amount":-5}`), []byte(`{"facility":"shop","payment":"d.1","amount":9999999999}`))
	f.Add([]byte(`null`), []byte(`[`))
	f.Fuzz(func(t *testing.T, pay, refund []byte) {
		ops := []syncproto.Op{
			{Device: "d", Seq: 1, Kind: wallet.OpPayment, Body: pay},
			{Device: "d", Seq: 2, Kind: wallet.OpRefund, Body: refund},
		}
		for _, s := range Sales(ops, nil, "shop") {
			if s.Left() < 0 || s.Left() > max(0, s.Amount) {
				t.Fatalf("sale %+v: left %d", s, s.Left())
			}
		}
	})
}
