package cli

import (
	"bytes"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"smartpass.city/smartpass/server/api"
	"smartpass.city/smartpass/server/ledger"
	"smartpass.city/smartpass/server/oplog"
	"smartpass.city/smartpass/server/store"
)

// TestLedgerVerify: `server ledger-verify` on a store with postings says
// the books hold, and fails once a balance is edited behind the ledger.
func TestLedgerVerify(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	logger := slog.New(slog.DiscardHandler)
	key, err := loadKey(keyPath("", data), data, true, logger)
	if err != nil {
		t.Fatal(err)
	}
	withStore := func(fn func(l *oplog.Log)) {
		l, err := oplog.Open(data, api.LogOptions(key, nil))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		fn(l)
	}
	withStore(func(l *oplog.Log) {
		led := ledger.New(l, ledger.Config{})
		for _, tr := range []ledger.Transfer{
			{Cause: "card:pi_1", Kind: ledger.KindTopUp, From: ledger.Clearing(ledger.Card), To: ledger.Wallet("r1"), Amount: 5000},
			{Cause: "card:pi_2", Kind: ledger.KindTopUp, From: ledger.Clearing(ledger.Card), To: ledger.Wallet("r2"), Amount: 700},
		} {
			if _, _, err := led.Post(tr, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	})
	var out bytes.Buffer
	if err := runAdmin("ledger-verify", []string{"-data", data}, &out, logger); err != nil || !strings.Contains(out.String(), "ledger intact: 2 entries over 3 accounts") || !strings.Contains(out.String(), "¥5700 unused") {
		t.Fatalf("ledger-verify: %v\n%s", err, out.String())
	}
	withStore(func(l *oplog.Log) {
		if err := l.Update(func(tx store.Tx) error { return tx.Put("ledger.balance", "wallet:r2", []byte(`{"balance":7000}`)) }); err != nil {
			t.Fatal(err)
		}
	})
	out.Reset()
	if err := runAdmin("ledger-verify", []string{"-data", data}, &out, logger); !errors.Is(err, ledger.ErrBroken) && (err == nil || !strings.Contains(err.Error(), "wallet:r2")) {
		t.Fatalf("ledger-verify after an edited balance: %v\n%s", err, out.String())
	}
}
