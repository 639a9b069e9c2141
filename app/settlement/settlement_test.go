package settlement

import (
	"bytes"
	"encoding/csv"
	"errors"
	"testing"
	"time"

	"smartpass.city/smartpass/app/zengin"
)

var jst = time.FixedZone("JST", 9*3600)

func at(day, hour, minute int) time.Time { return time.Date(2026, 4, day, hour, minute, 0, 0, jst) }

// april is the period the tests settle.
var aprilFrom, aprilTo = at(1, 0, 0), time.Date(2026, 5, 1, 0, 0, 0, 0, jst)

func lines() []Line {
	return []Line{
		{Merchant: "shop-b", Op: "p3", At: at(2, 9, 0), Kind: Payment, Amount: 5000, Terminal: "t2"},
		{Merchant: "shop-a", Op: "p1", At: at(1, 10, 0), Kind: Payment, Amount: 800, Terminal: "t1"},
		{Merchant: "shop-a", Op: "p2", At: at(1, 11, 0), Kind: Payment, Amount: 5000, Terminal: "t1"},
		{Merchant: "shop-a", Op: "r1", At: at(1, 12, 0), Kind: Refund, Amount: 300, Terminal: "t1", Original: "p2"},
		{Merchant: "shop-a", Op: "f1", At: at(2, 0, 0), Kind: Fee, Amount: 58},
		// 23:30 UTC on 3/31 is 08:30 on 4/1 in Kaga: April's.
		{Merchant: "shop-a", Op: "p4", At: time.Date(2026, 3, 31, 23, 30, 0, 0, time.UTC), Kind: Payment, Amount: 1200, Terminal: "=cmd"},
		// March's and May's lines belong to other periods.
		{Merchant: "shop-a", Op: "p0", At: at(1, 0, 0).Add(-time.Second), Kind: Payment, Amount: 999},
		{Merchant: "shop-c", Op: "p9", At: aprilTo, Kind: Payment, Amount: 999},
		{Merchant: "shop-c", Op: "r9", At: at(3, 10, 0), Kind: Refund, Amount: 400, Original: "px"},
	}
}

func TestSettle(t *testing.T) {
	got, err := Settle(lines(), aprilFrom, aprilTo, jst)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		merchant string
		days     []string
		net      int64
		dayNet   []int64
		count    int
	}{
		{"shop-a", []string{"2026-04-01", "2026-04-02"}, 800 + 5000 - 300 - 58 + 1200, []int64{800 + 5000 - 300 + 1200, -58}, 5},
		{"shop-b", []string{"2026-04-02"}, 5000, []int64{5000}, 1},
		{"shop-c", []string{"2026-04-03"}, -400, []int64{-400}, 1},
	}
	if len(got) != len(want) {
		t.Fatalf("%d settlements, want %d", len(got), len(want))
	}
	for i, w := range want {
		s := got[i]
		if s.Merchant != w.merchant || s.Net() != w.net || s.Count != w.count || len(s.Days) != len(w.days) {
			t.Fatalf("settlement %d = %s net %d count %d days %d; want %+v", i, s.Merchant, s.Net(), s.Count, len(s.Days), w)
		}
		var sum int64
		for j, d := range s.Days {
			if d.Date != w.days[j] || d.Net() != w.dayNet[j] {
				t.Errorf("%s day %d = %s net %d, want %s %d", s.Merchant, j, d.Date, d.Net(), w.days[j], w.dayNet[j])
			}
			sum += d.Net()
		}
		if sum != s.Net() {
			t.Errorf("%s: days sum to %d, settlement %d", s.Merchant, sum, s.Net())
		}
	}
	if first := got[0].Days[0].Lines[0]; first.Op != "p4" {
		t.Errorf("first line of shop-a is %s, want p4 (time order)", first.Op)
	}
}

func TestSettleRefuses(t *testing.T) {
	tests := []struct {
		name string
		bad  Line
		want error
	}{
		{"op twice", Line{Merchant: "shop-a", Op: "p1", At: at(5, 1, 0), Kind: Payment, Amount: 800}, ErrDuplicate},
		{"zero amount", Line{Merchant: "shop-a", Op: "z", At: at(5, 1, 0), Kind: Payment}, ErrLine},
		{"negative refund", Line{Merchant: "shop-a", Op: "z", At: at(5, 1, 0), Kind: Refund, Amount: -3}, ErrLine},
		{"unknown kind", Line{Merchant: "shop-a", Op: "z", At: at(5, 1, 0), Kind: "gift", Amount: 3}, ErrLine},
		{"no merchant", Line{Op: "z", At: at(5, 1, 0), Kind: Payment, Amount: 3}, ErrLine},
	}
	for _, tt := range tests {
		if _, err := Settle(append(lines(), tt.bad), aprilFrom, aprilTo, jst); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestWriteCSV(t *testing.T) {
	ss, err := Settle(lines(), aprilFrom, aprilTo, jst)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteCSV(&b, ss[0], jst); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b.Bytes(), []byte("\xef\xbb\xbf")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// title, header, 4 lines + 日計 on 4/1, 1 line + 日計 on 4/2, 合計.
	if len(rows) != 2+5+2+1 {
		t.Fatalf("%d rows: %q", len(rows), rows)
	}
	if got := rows[0]; got[1] != "shop-a" || got[2] != "2026-04-01" || got[3] != "2026-04-30" {
		t.Errorf("title row %q", got)
	}
	if got := rows[2]; got[1] != "08:30:00" || got[5] != "'=cmd" || got[6] != "1200" {
		t.Errorf("first line %q: want 08:30 in Kaga, the terminal name defused, 1200", got)
	}
	if got := rows[6]; got[2] != "日計 day total" || got[6] != "7000" || got[7] != "300" || got[9] != "6700" {
		t.Errorf("day total %q", got)
	}
	if got := rows[9]; got[2] != "合計 total" || got[8] != "58" || got[9] != "6642" {
		t.Errorf("total %q", got)
	}
}

func TestPayout(t *testing.T) {
	ss, err := Settle(lines(), aprilFrom, aprilTo, jst)
	if err != nil {
		t.Fatal(err)
	}
	acct := func(n string) zengin.Account {
		return zengin.Account{BankCode: "0144", BranchCode: "101", Type: zengin.Ordinary, Number: n}
	}
	payees := map[string]Payee{"shop-a": {acct("1111111"), "カガヤ ショウテン"}, "shop-b": {acct("2222222"), "ユウゲン）ヤマナカ"}}
	h := zengin.Header{RequesterCode: "1", RequesterName: "カガシ", Month: 5, Day: 8, From: acct("9999999")}
	// shop-a's April in two settlements (two halves) is still one transfer.
	half := time.Date(2026, 4, 2, 0, 0, 0, 0, jst)
	first, _ := Settle(lines(), aprilFrom, half, jst)
	second, _ := Settle(lines(), half, aprilTo, jst)
	for _, c := range []struct {
		name string
		in   []Settlement
	}{{"one settlement each", ss}, {"April in halves", append(first, second...)}} {
		f, carried, err := Payout(h, c.in, payees, jst)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(f.Transfers) != 2 || f.Transfers[0].Amount != 6642 || f.Transfers[1].Amount != 5000 || f.Total() != 11642 {
			t.Fatalf("%s: transfers %+v", c.name, f.Transfers)
		}
		if len(carried) != 1 || carried[0] != (Carry{"shop-c", -400}) {
			t.Fatalf("%s: carried %+v", c.name, carried)
		}
		if f.Transfers[0].EDI != "SP20260401-0430" {
			t.Fatalf("%s: EDI %q", c.name, f.Transfers[0].EDI)
		}
		b, err := zengin.Marshal(f, zengin.Options{CRLF: true})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		back, err := zengin.Parse(b)
		if err != nil || back.Total() != 11642 || back.Transfers[1].Name != "ﾕｳｹﾞﾝ)ﾔﾏﾅｶ" {
			t.Fatalf("%s: parsed %+v, %v", c.name, back.Transfers, err)
		}
	}
	delete(payees, "shop-b")
	if _, _, err := Payout(h, ss, payees, jst); !errors.Is(err, ErrNoPayee) {
		t.Fatalf("no payee: err = %v", err)
	}
	payees["shop-b"] = Payee{acct("2222222"), "ヤマナカ"}
	big := []Settlement{{Merchant: "shop-b", From: aprilFrom, To: aprilTo, Totals: Totals{Payments: zengin.MaxAmount + 1}}}
	f, _, err := Payout(h, big, payees, jst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zengin.Marshal(f, zengin.Options{}); !errors.Is(err, zengin.ErrAmount) {
		t.Fatalf("¥%d in one transfer: err = %v, want ErrAmount", zengin.MaxAmount+1, err)
	}
}
