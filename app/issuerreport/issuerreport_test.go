package issuerreport

import (
	"bytes"
	"encoding/csv"
	"errors"
	"testing"
	"time"
)

var jst = time.FixedZone("JST", 9*3600)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, jst) }

// balances returns wallets summing to total (in pieces of at most ¥50,000),
// with one recorded debt of ¥700 that must not lower the unused balance.
func balances(total int64) []int64 {
	out := []int64{-700, 0}
	for total > 0 {
		b := min(total, 50_000)
		out = append(out, b)
		total -= b
	}
	return out
}

func TestMake(t *testing.T) {
	const limit = DefaultThreshold
	tests := []struct {
		name     string
		issuer   Issuer
		unused   int64
		previous int64
		over     bool
		notify   bool
		report   bool
		deposit  int64
	}{
		{"city, far over", Issuer{Type: Municipality}, 3 * limit, 0, true, false, false, 0},
		{"own, at the threshold", Issuer{Type: Own}, limit, 0, false, false, false, 0},
		{"own, ¥1 over", Issuer{Type: Own}, limit + 1, 0, true, true, true, (limit + 2) / 2},
		{"own notified, ¥1 over", Issuer{Type: Own, Notified: true}, limit + 1, limit + 1, true, false, true, (limit + 2) / 2},
		{"own notified, under after over", Issuer{Type: Own, Notified: true}, limit - 1, limit + 1, false, false, true, 0},
		{"own notified, under twice", Issuer{Type: Own, Notified: true}, limit - 1, limit, false, false, false, 0},
		{"own, even over", Issuer{Type: Own}, 2*limit + 2, 0, true, true, true, limit + 1},
		{"third party, under", Issuer{Type: ThirdParty}, 5, 0, false, false, true, 0},
		{"third party, at", Issuer{Type: ThirdParty}, limit, 0, false, false, true, 0},
		{"third party, over", Issuer{Type: ThirdParty}, limit + 1, 0, true, false, true, (limit + 2) / 2},
		{"own, threshold set lower", Issuer{Type: Own, Threshold: 1000}, 1001, 0, true, true, true, 501},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Make(tt.issuer, Input{BaseDate: date(2027, time.March, 31), Balances: balances(tt.unused), PreviousUnused: tt.previous})
			if err != nil {
				t.Fatal(err)
			}
			if r.Unused != tt.unused || r.Debt != 700 || r.Over != tt.over || r.MustNotify != tt.notify || r.MustReport != tt.report || r.Deposit != tt.deposit {
				t.Fatalf("report %+v; want unused %d over %v notify %v report %v deposit %d", r, tt.unused, tt.over, tt.notify, tt.report, tt.deposit)
			}
			if r.Exempt != (tt.issuer.Type == Municipality) {
				t.Fatalf("exempt %v for %s", r.Exempt, tt.issuer.Type)
			}
			if r.Deposit > 0 && 2*r.Deposit < r.Unused {
				t.Fatalf("deposit %d is less than half of %d", r.Deposit, r.Unused)
			}
		})
	}
}

func TestBaseDates(t *testing.T) {
	for _, c := range []struct {
		base time.Time
		due  time.Time
	}{{date(2027, time.March, 31), date(2027, time.May, 31)}, {date(2026, time.September, 30), date(2026, time.November, 30)}} {
		r, err := Make(Issuer{Type: Own}, Input{BaseDate: c.base})
		if err != nil || !r.Due.Equal(c.due) {
			t.Errorf("base %s: due %s, %v; want %s", c.base.Format(time.DateOnly), r.Due.Format(time.DateOnly), err, c.due.Format(time.DateOnly))
		}
	}
	for _, d := range []time.Time{date(2027, time.March, 30), date(2027, time.April, 1), date(2026, time.December, 31), date(2026, time.October, 1)} {
		if _, err := Make(Issuer{Type: Own}, Input{BaseDate: d}); !errors.Is(err, ErrBaseDate) {
			t.Errorf("%s: err = %v, want ErrBaseDate", d.Format(time.DateOnly), err)
		}
	}
	if _, err := Make(Issuer{Type: "bank"}, Input{BaseDate: date(2027, time.March, 31)}); !errors.Is(err, ErrIssuer) {
		t.Errorf("unknown type: err = %v", err)
	}
	for _, c := range []struct{ at, want time.Time }{
		{date(2027, time.March, 31), date(2027, time.March, 31)},
		{date(2027, time.March, 30), date(2026, time.September, 30)},
		{date(2027, time.January, 5), date(2026, time.September, 30)},
		{date(2027, time.September, 29), date(2027, time.March, 31)},
		{date(2027, time.December, 31), date(2027, time.September, 30)},
	} {
		if got := LastBaseDate(c.at); !got.Equal(c.want) {
			t.Errorf("LastBaseDate(%s) = %s, want %s", c.at.Format(time.DateOnly), got.Format(time.DateOnly), c.want.Format(time.DateOnly))
		}
	}
}

func TestWriteCSV(t *testing.T) {
	for _, typ := range []IssuerType{Municipality, Own} {
		r, err := Make(Issuer{Type: typ, Name: "=加賀市"}, Input{BaseDate: date(2026, time.September, 30), Balances: balances(DefaultThreshold + 1), Issued: 4_000_000, Used: 3_000_000})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := WriteCSV(&b, r); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b.Bytes(), []byte("\xef\xbb\xbf")))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		got := make(map[string]string)
		for _, row := range rows {
			got[row[0]] = row[1]
		}
		want := map[string]string{
			"発行者 issuer": "'=加賀市",
			"基準日未使用残高（円） unused balance (yen)": "10000001",
			"発行保証金（円） security deposit (yen)":  "5000001",
			"提出・供託期限 due":                      "2026-11-30",
		}
		if typ == Municipality {
			want["発行保証金（円） security deposit (yen)"] = "0"
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", typ, k, got[k], v)
			}
		}
		if _, note := got["備考 note"]; note != (typ == Municipality) {
			t.Errorf("%s: exemption note %v", typ, note)
		}
	}
}
