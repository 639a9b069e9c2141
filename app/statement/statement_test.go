package statement

import (
	"bytes"
	"encoding/csv"
	"errors"
	"testing"
	"time"
)

var jst = time.FixedZone("JST", 9*3600)

func at(m time.Month, d, h int) time.Time { return time.Date(2026, m, d, h, 0, 0, 0, jst) }

func lines() []Line {
	return []Line{
		{Op: "t1", At: at(3, 5, 10), Kind: TopUp, Amount: 10_000, Where: "市役所窓口"},
		{Op: "p1", At: at(3, 6, 12), Kind: Payment, Amount: 800, Where: "カガヤ商店"},
		{Op: "p2", At: at(3, 6, 13), Kind: Payment, Amount: 5000, Where: "カガヤ商店"},
		{Op: "r1", At: at(3, 7, 9), Kind: Refund, Amount: 300, Where: "カガヤ商店", Original: "p2"},
		{Op: "f1", At: at(3, 20, 9), Kind: FamilyOut, Amount: 2000, Where: "ハナコ"},
		// Offline on 3/31 at 23:00 in Kaga (14:00 UTC), posted in April: March's.
		{Op: "p3", At: time.Date(2026, 3, 31, 14, 0, 0, 0, time.UTC), Kind: Payment, Amount: 1200, Where: "山中食堂", Offline: true},
		// Offline payment that found the wallet short: posted as debt.
		{Op: "p4", At: at(4, 2, 8), Kind: Payment, Amount: 2500, Where: "山中食堂", Offline: true},
		{Op: "f2", At: at(4, 3, 8), Kind: FamilyIn, Amount: 5000, Where: "保護者"},
	}
}

func TestBuild(t *testing.T) {
	months, err := Build(lines(), 500, jst)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		month                                       string
		opening, topups, payments, refunds, closing int64
		rows                                        int
	}{
		{"2026-04", 1800, 5000, 2500, 0, 4300, 2},
		{"2026-03", 500, 10_000, 800 + 5000 + 2000 + 1200, 300, 1800, 6},
	}
	if len(months) != len(want) {
		t.Fatalf("%d months", len(months))
	}
	for i, w := range want {
		m := months[i]
		if m.Month != w.month || m.Opening != w.opening || m.TopUps != w.topups || m.Payments != w.payments ||
			m.Refunds != w.refunds || m.Closing != w.closing || len(m.Rows) != w.rows {
			t.Errorf("month %d = %+v, want %+v", i, m, w)
		}
		if got := m.Opening + m.TopUps + m.Refunds - m.Payments; got != m.Closing {
			t.Errorf("%s: opening and totals make %d, closing %d", m.Month, got, m.Closing)
		}
	}
	if apr := months[0].Rows; apr[0].Op != "p4" || apr[0].Balance != -700 {
		t.Errorf("April's first row %+v: want the offline debt, balance -700", apr[0])
	}
}

func TestBuildRefuses(t *testing.T) {
	for _, c := range []struct {
		name string
		bad  Line
		want error
	}{
		{"op twice", Line{Op: "p1", At: at(4, 9, 9), Kind: Payment, Amount: 800}, ErrDuplicate},
		{"zero", Line{Op: "x", At: at(4, 9, 9), Kind: TopUp}, ErrLine},
		{"unknown kind", Line{Op: "x", At: at(4, 9, 9), Kind: "interest", Amount: 1}, ErrLine},
		{"no op", Line{At: at(4, 9, 9), Kind: TopUp, Amount: 1}, ErrLine},
	} {
		if _, err := Build(append(lines(), c.bad), 0, jst); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	if months, err := Build(nil, 700, jst); err != nil || len(months) != 0 {
		t.Errorf("no lines: %v, %v", months, err)
	}
}

func TestWriteCSV(t *testing.T) {
	months, err := Build(lines(), 500, jst)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteCSV(&b, months[1], jst); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b.Bytes(), []byte("\xef\xbb\xbf")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2+6+1 {
		t.Fatalf("%d rows", len(rows))
	}
	last := rows[7] // the offline payment of 3/31 23:00
	if last[0] != "2026-03-31 23:00" || last[4] != "1200" || last[5] != "1800" || last[6] != "○" {
		t.Errorf("offline row %q", last)
	}
	if tot := rows[8]; tot[3] != "10300" || tot[4] != "9000" || tot[5] != "1800" {
		t.Errorf("totals %q", tot)
	}
}
