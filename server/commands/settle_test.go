package commands_test

import (
	"strings"
	"testing"
	"time"

	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/settlement"
	"smartpass.city/smartpass/app/zengin"
	"smartpass.city/smartpass/server/audit"
	"smartpass.city/smartpass/server/commands"
	"smartpass.city/smartpass/server/devices"
	"smartpass.city/smartpass/server/ledger"
	"smartpass.city/smartpass/server/oplog"
	"smartpass.city/smartpass/server/publish"
)

// newSet is the commands over a store of their own, until t ends.
func newSet(t *testing.T) (*oplog.Log, *commands.Set) {
	t.Helper()
	l, err := oplog.Open(t.TempDir(), oplog.Options{Feeds: scope.Feeds})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	w, err := publish.New(l)
	if err != nil {
		t.Fatal(err)
	}
	return l, commands.New(l, w, devices.New(l, commands.FacilitiesOf(l)), nil, audit.New(l))
}

// TestSettle: the command settles each shop for the period from the
// ledger (a CSV per shop) and makes the payout file, which parses back
// to one transfer per shop owed money; a shop with no bank account, a
// period that is not one, and an amount the file's field cannot carry
// are each refused, and each settlement is audited.
func TestSettle(t *testing.T) {
	l, set := newSet(t)
	log := audit.New(l)
	led := ledger.New(l, ledger.Config{})
	day := time.Date(2026, 12, 3, 3, 0, 0, 0, time.UTC) // 12:00 in Kaga
	for _, tr := range []ledger.Transfer{
		{Cause: "desk.1", Kind: ledger.KindTopUp, From: ledger.Clearing(ledger.Cash), To: ledger.Wallet("r1"), Amount: 20_000},
		{Cause: "till-a.1", Kind: ledger.KindPayment, From: ledger.Wallet("r1"), To: ledger.Merchant("shop-a"), Amount: 5_800},
		{Cause: "till-a.2", Kind: ledger.KindRefund, From: ledger.Merchant("shop-a"), To: ledger.Wallet("r1"), Amount: 300},
		{Cause: "till-b.1", Kind: ledger.KindPayment, From: ledger.Wallet("r1"), To: ledger.Merchant("shop-b"), Amount: 1_000},
		{Cause: "till-b.2", Kind: ledger.KindRefund, From: ledger.Merchant("shop-b"), To: ledger.Wallet("r1"), Amount: 1_000},
	} {
		if _, _, err := led.Post(tr, day); err != nil {
			t.Fatal(err)
		}
	}
	city := zengin.Account{BankCode: "0001", BranchCode: "001", Type: zengin.Ordinary, Number: "1234567"}
	req := commands.Settle{From: "2026-12-03", To: "2026-12-03",
		Header: zengin.Header{RequesterCode: "1234567890", RequesterName: "ｶｶﾞｼ", Month: 12, Day: 10, From: city},
		Payees: map[string]settlement.Payee{"shop-a": {Account: zengin.Account{BankCode: "0009", BranchCode: "123", Type: zengin.Ordinary, Number: "7654321"}, Name: "ｶｶﾞﾉﾐｾ"}},
	}
	reply, err := set.Do("settle", []string{commands.Arg(req)})
	if err != nil || reply.Settled == nil {
		t.Fatalf("settle: %+v, %v", reply, err)
	}
	s := reply.Settled
	if len(s.CSV) != 2 || !strings.Contains(s.CSV["shop-a"], "5800") || !strings.Contains(s.CSV["shop-a"], "300") {
		t.Errorf("the settlements: %v", s.CSV)
	}
	f, err := zengin.Parse(s.Payout)
	if err != nil {
		t.Fatalf("the payout file does not parse: %v", err)
	}
	if len(f.Transfers) != 1 || f.Transfers[0].Amount != 5_500 || f.Transfers[0].To.Number != "7654321" {
		t.Errorf("transfers %+v, want ¥5,500 to shop-a alone", f.Transfers)
	}
	if len(s.Carried) != 1 || s.Carried[0].Merchant != "shop-b" || s.Carried[0].Net != 0 {
		t.Errorf("carried %+v, want shop-b owed nothing", s.Carried)
	}

	for _, tc := range []struct {
		name string
		edit func(r *commands.Settle)
		want string
	}{
		{"no bank account", func(r *commands.Settle) { r.Payees = nil }, "bank account"},
		{"no period", func(r *commands.Settle) { r.From = "12/3" }, "not two dates"},
		{"period backwards", func(r *commands.Settle) { r.From, r.To = "2026-12-04", "2026-12-03" }, "not two dates"},
		{"a name the bank's characters cannot carry", func(r *commands.Settle) {
			r.Payees = map[string]settlement.Payee{"shop-a": {Account: r.Payees["shop-a"].Account, Name: "加賀の店"}}
		}, "payout file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := req
			tc.edit(&r)
			if _, err := set.Do("settle", []string{commands.Arg(r)}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
	var settled []audit.Entry
	if _, err := log.Verify(func(e audit.Entry) {
		if e.Action == "ledger.settle" {
			settled = append(settled, e)
		}
	}); err != nil || len(settled) != 1 || !strings.Contains(settled[0].Detail, "1 transfers of ¥5500") {
		t.Fatalf("audited %+v, %v", settled, err)
	}
}
