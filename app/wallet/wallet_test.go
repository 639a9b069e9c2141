package wallet

import (
	"encoding/json"
	"errors"
	"testing"

	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/syncproto"
)

// yen is a pointer to n, for the optional amounts.
func yen(n int64) *int64 { return &n }

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    interface{ Validate() error }
		ok   bool
	}{
		{"payment", Payment{Facility: "shop-a", Resident: "r1", Amount: 800}, true},
		{"payment with items", Payment{Facility: "shop-a", Resident: "r1", Amount: 800, Items: []Item{{"せんべい", 500}, {"お茶", 300}}}, true},
		{"items not adding up", Payment{Facility: "shop-a", Resident: "r1", Amount: 800, Items: []Item{{"せんべい", 500}}}, false},
		{"no amount", Payment{Facility: "shop-a", Resident: "r1"}, false},
		{"negative", Payment{Facility: "shop-a", Resident: "r1", Amount: -5}, false},
		{"too much", Payment{Facility: "shop-a", Resident: "r1", Amount: MaxAmount + 1}, false},
		{"no shop", Payment{Resident: "r1", Amount: 800}, false},
		{"refund", Refund{Facility: "shop-a", Payment: "till-1.4", Amount: 300, Staff: "佐藤"}, true},
		{"refund of no op", Refund{Facility: "shop-a", Payment: "till-1", Amount: 300, Staff: "佐藤"}, false},
		{"refund without staff", Refund{Facility: "shop-a", Payment: "till-1.4", Amount: 300}, false},
		{"top-up", TopUpCash{Resident: "r1", Amount: 5000, Staff: "山田"}, true},
		{"top-up confirmed by the same person", TopUpCash{Resident: "r1", Amount: 50000, Staff: "山田", Confirmer: "山田"}, false},
		{"limits", Limits{Resident: "c1", Guardian: "g1", Daily: 3000, PerPay: 1000, Staff: "山田"}, true},
		{"payment limit above the daily", Limits{Resident: "c1", Guardian: "g1", Daily: 1000, PerPay: 3000, Staff: "山田"}, false},
		{"face-only limit", Limits{Resident: "c1", Guardian: "g1", FaceOnly: yen(5000), Staff: "resident:g1"}, true},
		{"face-only 0: always the second factor", Limits{Resident: "c1", Guardian: "g1", FaceOnly: yen(0), Staff: "resident:g1"}, true},
		{"negative face-only limit", Limits{Resident: "c1", Guardian: "g1", FaceOnly: yen(-1), Staff: "resident:g1"}, false},
		{"face-only limit past any amount", Limits{Resident: "c1", Guardian: "g1", FaceOnly: yen(MaxAmount + 1), Staff: "resident:g1"}, false},
		{"freeze without reason", Freeze{Resident: "r1", Frozen: true, Staff: "山田"}, false},
		{"unfreeze", Freeze{Resident: "r1", Staff: "山田"}, true},
	} {
		err := tc.v.Validate()
		if (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

// FuzzBodies: a pushed op's body is outside bytes; decoding and checking
// it by its kind's rules never panics, and a body that passes keeps the
// amounts the ledger relies on (positive, bounded).
func FuzzBodies(f *testing.F) {
	for _, s := range []struct{ kind, body string }{
		{OpPayment, `{"facility":"shop-a","resident":"r1","amount":800,"offline":true}`},
		{OpPayment, `{"facility":"shop-a","resident":"r1","amount":800,"items":[{"name":"a","amount":800}]}`},
		{OpRefund, `{"facility":"shop-a","payment":"till-1.2","amount":300,"staff":"x"}`},
		{OpTopUpCash, `{"resident":"r1","amount":1e3,"staff":"x"}`},
		{OpLimits, `{"resident":"c","guardian":"g","daily":-1,"staff":"x"}`},
		{OpFreeze, `{"resident":"r1","frozen":true,"reason":"lost","staff":"x"}`},
		{OpPayment, `{"amount":9223372036854775807}`},
	} {
		f.Add(s.kind, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, kind string, body []byte) {
		k, ok := opkind.Lookup(kind)
		if !ok || k.Validate == nil {
			return
		}
		op := syncproto.Op{Kind: kind, Body: json.RawMessage(body)}
		if k.Validate(op) != nil {
			return
		}
		var amounts struct{ Amount int64 }
		json.Unmarshal(body, &amounts)
		if (kind == OpPayment || kind == OpRefund || kind == OpTopUpCash) && (amounts.Amount <= 0 || amounts.Amount > MaxAmount) {
			t.Fatalf("%s %s passed with amount %d", kind, body, amounts.Amount)
		}
		if k.Audit != nil {
			k.Audit(op)
		}
	})
}
