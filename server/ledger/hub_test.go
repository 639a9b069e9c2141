package ledger_test

import (
	"context"
	"crypto/ed25519"
	"strings"
	"testing"

	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/synclog"
	"smartpass.city/smartpass/app/wallet"
	"smartpass.city/smartpass/server/hub"
	"smartpass.city/smartpass/server/hub/hubtest"
	"smartpass.city/smartpass/server/ledger"
	"smartpass.city/smartpass/server/publish"
	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/syncproto"
)

// TestThroughTheHub: a shop's terminal syncs over a real websocket to a
// hub that checks and posts the wallet's ops: an online payment the
// wallet cannot make comes back refused in its own words and posts
// nothing; an offline one that finds the wallet short posts as recorded
// debt and pays the shop in full.
func TestThroughTheHub(t *testing.T) {
	var led *ledger.Ledger
	hs := hubtest.Start(t, hub.Options{
		Verify:  func(device string, op syncproto.Op) error { return led.Check(device, op) },
		Records: func(device string, ops []syncproto.Op) func(store.Tx) error { return led.Records(device, ops) },
	})
	led = ledger.New(hs.Log, ledger.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pub, err := publish.New(hs.Log)
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Facilities(ctx, facility.Facility{ID: "shop-a", Kind: facility.Shop, NameJA: "土産店"}); err != nil {
		t.Fatal(err)
	}
	engine := func(id, at string, role scope.Role) *synclog.Engine {
		_, priv, _ := ed25519.GenerateKey(nil)
		key := hs.Enroll(t, id, at, role, priv)
		eng, err := synclog.New(ctx, synclog.NewMemStore(id), hs.Dialer(), synclog.Options{Signer: key})
		if err != nil {
			t.Fatal(err)
		}
		go eng.Run(ctx)
		return eng
	}
	record := func(eng *synclog.Engine, kind string, body any) {
		if _, err := eng.Record(ctx, kind, body); err != nil {
			t.Fatal(err)
		}
		hubtest.WaitFor(t, "the push acknowledged", func() bool { return eng.Status().Pending == 0 })
	}
	desk := engine("desk-1", "kaga-hq", scope.Registrar)
	till := engine("till-1", "shop-a", scope.Shop)
	record(desk, wallet.OpTopUpCash, wallet.TopUpCash{Resident: "r1", Amount: 1000, Staff: "窓口 山田"})
	record(till, wallet.OpPayment, wallet.Payment{Facility: "shop-a", Resident: "r1", Amount: 800})
	record(till, wallet.OpPayment, wallet.Payment{Facility: "shop-a", Resident: "r1", Amount: 500})
	record(till, wallet.OpPayment, wallet.Payment{Facility: "shop-a", Resident: "r1", Amount: 500, Offline: true})

	var verdict string
	hubtest.WaitFor(t, "the refusal back at the terminal", func() bool {
		ops, _ := till.Ops(ctx)
		for _, op := range ops {
			if op.Seq == 2 && op.Kind == scope.OpRejected && op.Global != 0 {
				verdict = string(op.Body)
				return true
			}
		}
		return false
	})
	if !strings.Contains(verdict, ledger.ErrShort.JA) || !strings.Contains(verdict, ledger.ErrShort.EN) {
		t.Fatalf("the terminal was told %s, want the wallet-short words", verdict)
	}
	for _, tc := range []struct {
		account ledger.Account
		want    ledger.Balance
	}{
		{ledger.Wallet("r1"), ledger.Balance{Balance: -300, Debt: 300}},
		{ledger.Merchant("shop-a"), ledger.Balance{Balance: 1300}},
		{ledger.Clearing(ledger.Cash), ledger.Balance{Balance: -1000}},
	} {
		if got, err := led.Balance(tc.account); err != nil || got != tc.want {
			t.Errorf("%s = %+v, %v; want %+v", tc.account, got, err, tc.want)
		}
	}
	if r, err := ledger.Verify(hs.Log); err != nil || r.Entries != 3 || r.Debt != 300 {
		t.Fatalf("verify: %+v, %v", r, err)
	}
}
