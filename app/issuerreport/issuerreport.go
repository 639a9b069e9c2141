// Package issuerreport makes the issuer's base-date figures for the
// city's stored value under the Payment Services Act (資金決済法): the
// unused balance on each base date (基準日, 3/31 and 9/30), whether the
// issuer must notify or report (前払式支払手段の発行に関する報告書, due
// within two months: by 5/31 and 11/30), and the issuance security
// deposit (発行保証金) it must hold: half the unused balance once that
// passes ¥10M (法14条).
//
// Value a city issues itself is exempt (法4条: 国・地方公共団体の発行),
// so for it the figures are produced but nothing is due; a city that
// delegates issuance to a third-sector company is inside the law, and
// the same figures are what that company files. The issuer's type is
// therefore configuration, not code.
package issuerreport

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"smartpass.city/smartpass/app/excelcsv"
)

// IssuerType is who issues the value, which decides what the law asks.
type IssuerType string

// The issuer types.
const (
	// Municipality: the city itself; exempt under 法4条.
	Municipality IssuerType = "municipality"
	// Own: a company issuing value usable only with itself (自家型), e.g.
	// a third-sector company running the city's shops' scheme. It
	// notifies once its unused balance on a base date passes the
	// threshold, and reports from then on.
	Own IssuerType = "own"
	// ThirdParty: value usable at other merchants (第三者型), registered
	// before issuing; it reports every base date.
	ThirdParty IssuerType = "third-party"
)

// DefaultThreshold is the 基準額 of the law, ¥10M (施行令6条).
const DefaultThreshold = 10_000_000

// Issuer is the configuration: who issues, and the threshold (zero for
// DefaultThreshold; a test or a changed ordinance may set another).
type Issuer struct {
	Type      IssuerType
	Name      string
	Threshold int64
	// Notified is true once an Own issuer has notified (自家型発行者の届出).
	Notified bool
}

func (i Issuer) threshold() int64 {
	if i.Threshold > 0 {
		return i.Threshold
	}
	return DefaultThreshold
}

// Input is what the ledger knows at the end of a base date.
type Input struct {
	BaseDate time.Time // 3/31 or 9/30, in the city's time zone
	// Balances are the wallets' balances at the end of the base date;
	// negative ones are recorded offline debt, which is no unused value
	// and is reported apart.
	Balances []int64
	// Issued and Used are the value issued (top-ups) and used (payments
	// less refunds) in the half year to the base date, for the report.
	Issued, Used int64
	// PreviousUnused is the unused balance on the base date before, which
	// decides whether a notified Own issuer still reports.
	PreviousUnused int64
}

// Report is the base-date figures and what they oblige.
type Report struct {
	Issuer   Issuer
	BaseDate time.Time
	Due      time.Time // report and deposit due: two months after the base date

	Unused  int64 // 基準日未使用残高
	Holders int   // wallets with unused value
	Debt    int64 // recorded offline debt, a positive number
	Issued  int64
	Used    int64

	Over       bool  // Unused exceeds the threshold (超える: equal is not over)
	Exempt     bool  // a municipality: nothing is due
	MustNotify bool  // an Own issuer not yet notified, over the threshold
	MustReport bool  // the 報告書 is due
	Deposit    int64 // 発行保証金 required: half of Unused, rounded up, when over
}

// ErrBaseDate is returned for a date that is no base date; ErrIssuer for
// an issuer type not known.
var (
	ErrBaseDate = errors.New("not a base date (3/31 or 9/30)")
	ErrIssuer   = errors.New("unknown issuer type")
)

// IsBaseDate reports whether t's date is 3/31 or 9/30.
func IsBaseDate(t time.Time) bool {
	return (t.Month() == time.March && t.Day() == 31) || (t.Month() == time.September && t.Day() == 30)
}

// LastBaseDate returns the latest base date on or before t's date, in
// t's location: the one a report made at t is about.
func LastBaseDate(t time.Time) time.Time {
	y := t.Year()
	sep := time.Date(y, time.September, 30, 0, 0, 0, 0, t.Location())
	mar := time.Date(y, time.March, 31, 0, 0, 0, 0, t.Location())
	day := time.Date(y, t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	switch {
	case !day.Before(sep):
		return sep
	case !day.Before(mar):
		return mar
	}
	return time.Date(y-1, time.September, 30, 0, 0, 0, 0, t.Location())
}

// Make computes the report for in under issuer.
func Make(issuer Issuer, in Input) (Report, error) {
	if !IsBaseDate(in.BaseDate) {
		return Report{}, fmt.Errorf("issuerreport: %w: %s", ErrBaseDate, in.BaseDate.Format(time.DateOnly))
	}
	r := Report{Issuer: issuer, BaseDate: in.BaseDate, Issued: in.Issued, Used: in.Used,
		// The last day of the second month after: 3/31 → 5/31, 9/30 → 11/30.
		Due: time.Date(in.BaseDate.Year(), in.BaseDate.Month()+3, 0, 0, 0, 0, 0, in.BaseDate.Location())}
	for _, b := range in.Balances {
		switch {
		case b > 0:
			r.Unused += b
			r.Holders++
		case b < 0:
			r.Debt -= b
		}
	}
	limit := issuer.threshold()
	r.Over = r.Unused > limit
	switch issuer.Type {
	case Municipality:
		r.Exempt = true
		return r, nil
	case Own:
		r.MustNotify = r.Over && !issuer.Notified
		// Once notified, an Own issuer reports until two base dates in a
		// row are at or under the threshold.
		r.MustReport = r.Over || (issuer.Notified && in.PreviousUnused > limit)
	case ThirdParty:
		r.MustReport = true
	default:
		return Report{}, fmt.Errorf("issuerreport: %w: %q", ErrIssuer, issuer.Type)
	}
	if r.Over {
		r.Deposit = (r.Unused + 1) / 2
	}
	return r, nil
}

// yesNo is a flag as the CSV shows it.
func yesNo(b bool) string {
	if b {
		return "要 yes"
	}
	return "不要 no"
}

// typeWords are the issuer types as people read them.
var typeWords = map[IssuerType]string{
	Municipality: "地方公共団体（適用除外） municipality (exempt)",
	Own:          "自家型発行者 own issuer",
	ThirdParty:   "第三者型発行者 third-party issuer",
}

// WriteCSV writes r as a two-column CSV (item, value), Japanese first,
// for the issuer's staff to copy into the filing.
func WriteCSV(w io.Writer, r Report) error {
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	rows := [][]string{
		{"項目 item", "値 value"},
		{"発行者 issuer", r.Issuer.Name},
		{"発行者の種別 issuer type", typeWords[r.Issuer.Type]},
		{"基準日 base date", r.BaseDate.Format(time.DateOnly)},
		{"基準日未使用残高（円） unused balance (yen)", n(r.Unused)},
		{"残高のある利用者数 holders with a balance", strconv.Itoa(r.Holders)},
		{"発行額（円） issued in the half year (yen)", n(r.Issued)},
		{"回収額（円） used in the half year (yen)", n(r.Used)},
		{"未精算のオフライン利用（円） recorded offline debt (yen)", n(r.Debt)},
		{"基準額（円） threshold (yen)", n(r.Issuer.threshold())},
		{"基準額超過 over the threshold", yesNo(r.Over)},
		{"届出 notification", yesNo(r.MustNotify)},
		{"報告書 report", yesNo(r.MustReport)},
		{"発行保証金（円） security deposit (yen)", n(r.Deposit)},
		{"提出・供託期限 due", r.Due.Format(time.DateOnly)},
	}
	if r.Exempt {
		rows = append(rows, []string{"備考 note", "資金決済法4条により適用除外。参考のための集計です。 Exempt under §4; figures for reference."})
	}
	if err := excelcsv.Write(w, rows); err != nil {
		return fmt.Errorf("issuerreport: %w", err)
	}
	return nil
}
