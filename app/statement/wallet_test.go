package statement

import (
	"errors"
	"testing"
	"time"

	"smartpass.city/smartpass/app/wallet"
)

// TestFromWallet: the server's lines become the statement's, unsigned
// with their kind, the opening balance worked back from the balance now,
// and a line that moves the wallet against its kind refused.
func TestFromWallet(t *testing.T) {
	at := func(d int) time.Time { return time.Date(2026, 12, d, 1, 0, 0, 0, time.UTC) }
	names := map[string]string{"cash": "市役所窓口", "kaga-shop": "加賀の店"}
	where := func(w string) string { return names[w] }
	good := wallet.Statement{Resident: "R-1", Balance: 2_500, Debt: 0, Lines: []wallet.Line{
		{Cause: "desk.1", At: at(1), Kind: "topup", Amount: 6_000, With: "cash"},
		{Cause: "card:pi_1", At: at(2), Kind: "topup", Amount: 3_000, With: "card"},
		{Cause: "till.1", At: at(3), Kind: "payment", Amount: -800, With: "kaga-shop"},
		{Cause: "till.2", At: at(3), Kind: "refund", Amount: 300, With: "kaga-shop", Of: "till.1"},
		{Cause: "bus.9", At: at(4), Kind: "fare", Amount: -200, With: "kaga-bus"},
		{Cause: "till.3", At: at(5), Kind: "payment", Amount: -1_500, With: "kaga-shop", Debt: 200},
	}}
	for _, tc := range []struct {
		name    string
		s       wallet.Statement
		opening int64
		lines   int
		err     error
	}{
		{"every kind", good, 2_500 - 6_000 - 3_000 + 800 - 300 + 200 + 1_500, 6, nil},
		{"no lines", wallet.Statement{Balance: 0}, 0, 0, nil},
		{"a payment that adds", wallet.Statement{Lines: []wallet.Line{{Cause: "x", Kind: "payment", Amount: 100}}}, 0, 0, ErrLine},
		{"a top-up that takes", wallet.Statement{Lines: []wallet.Line{{Cause: "x", Kind: "topup", Amount: -100}}}, 0, 0, ErrLine},
		{"nothing moved", wallet.Statement{Lines: []wallet.Line{{Cause: "x", Kind: "refund"}}}, 0, 0, ErrLine},
		{"an unknown kind", wallet.Statement{Lines: []wallet.Line{{Cause: "x", Kind: "gift", Amount: 100}}}, 0, 0, ErrLine},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines, opening, err := FromWallet(tc.s, where)
			if !errors.Is(err, tc.err) || opening != tc.opening || len(lines) != tc.lines {
				t.Fatalf("got %d lines, opening %d, %v; want %d, %d, %v", len(lines), opening, err, tc.lines, tc.opening, tc.err)
			}
		})
	}
	lines, opening, _ := FromWallet(good, where)
	if l := lines[2]; l.Kind != Payment || l.Amount != 800 || l.Where != "加賀の店" || l.Op != "till.1" {
		t.Errorf("the ¥800 payment: %+v", l)
	}
	if l := lines[3]; l.Kind != Refund || l.Original != "till.1" {
		t.Errorf("the refund: %+v", l)
	}
	if !lines[5].Offline || lines[2].Offline {
		t.Error("only the payment posted with debt is marked offline")
	}
	months, err := Build(lines, opening, time.UTC)
	if err != nil || len(months) != 1 || months[0].Closing != good.Balance {
		t.Fatalf("the month closes at %+v, %v; want the balance ¥%d", months, err, good.Balance)
	}
}
