package cli

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"smartpass.city/smartpass/app/zengin"
	"smartpass.city/smartpass/server/api"
	"smartpass.city/smartpass/server/ledger"
	"smartpass.city/smartpass/server/oplog"
)

// TestSettleCommand: `server settle` on a store with a shop's payments
// writes its settlement CSV and the payout file, which parses to the one
// transfer the shop is owed; without the payout file it says what to give.
func TestSettleCommand(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	logger := slog.New(slog.DiscardHandler)
	key, err := loadKey(keyPath("", data), data, true, logger)
	if err != nil {
		t.Fatal(err)
	}
	l, err := oplog.Open(data, api.LogOptions(key, nil))
	if err != nil {
		t.Fatal(err)
	}
	led := ledger.New(l, ledger.Config{})
	day := time.Date(2026, 12, 3, 3, 0, 0, 0, time.UTC)
	for _, tr := range []ledger.Transfer{
		{Cause: "card:pi_1", Kind: ledger.KindTopUp, From: ledger.Clearing(ledger.Card), To: ledger.Wallet("r1"), Amount: 5000},
		{Cause: "till-1.1", Kind: ledger.KindPayment, From: ledger.Wallet("r1"), To: ledger.Merchant("kaga-shop"), Amount: 1800},
	} {
		if _, _, err := led.Post(tr, day); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	payout := filepath.Join(t.TempDir(), "payout.json")
	os.WriteFile(payout, []byte(`{"header": {"RequesterCode": "1234567890", "RequesterName": "ｶｶﾞｼ", "Month": 12, "Day": 10,
		"From": {"BankCode": "0001", "BranchCode": "001", "Type": "1", "Number": "1234567"}},
	 "payees": {"kaga-shop": {"Name": "ｶｶﾞﾉﾐｾ", "Account": {"BankCode": "0009", "BranchCode": "123", "Type": "1", "Number": "7654321"}}}}`), 0o600)
	dir := t.TempDir()
	var out bytes.Buffer
	if err := runAdmin("settle", []string{"-data", data, "-from", "2026-12-03", "-to", "2026-12-03", "-payout", payout, "-out", dir}, &out, logger); err != nil {
		t.Fatalf("settle: %v\n%s", err, out.String())
	}
	csv, err := os.ReadFile(filepath.Join(dir, "settlement-kaga-shop-2026-12-03-2026-12-03.csv"))
	if err != nil || !strings.Contains(string(csv), "1800") {
		t.Fatalf("the settlement: %v %q", err, csv)
	}
	b, err := os.ReadFile(filepath.Join(dir, "payout-2026-12-03-2026-12-03.txt"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := zengin.Parse(b)
	if err != nil || len(f.Transfers) != 1 || f.Transfers[0].Amount != 1800 {
		t.Fatalf("the payout file: %+v, %v", f.Transfers, err)
	}
	if err := runAdmin("settle", []string{"-data", data, "-from", "2026-12-03", "-to", "2026-12-03"}, &out, logger); err == nil || !strings.Contains(err.Error(), "-payout") {
		t.Fatalf("settle without the payout file: %v", err)
	}
}
