// Package settlement turns the ledger's merchant lines (payments taken,
// refunds given, fees charged) into what each shop is owed: a settlement
// per merchant and period with its per-day totals, written as a CSV the
// shop opens in Excel, and the city's payout, one bank transfer per
// merchant per period in the 総合振込 file (app/zengin).
//
// It takes plain lines, not the ledger's types, so the ledger can change
// its storage without this package noticing and the rules here are
// tested on their own.
package settlement

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"smartpass.city/smartpass/app/excelcsv"
	"smartpass.city/smartpass/app/zengin"
)

// Kind is what a line did to the merchant's balance.
type Kind string

// The kinds of line.
const (
	Payment Kind = "payment" // a payer paid the shop: owed to the shop
	Refund  Kind = "refund"  // the shop gave money back: taken from what it is owed
	Fee     Kind = "fee"     // the city's fee, if it charges one: taken too
)

// Line is one posting to a merchant's account, as the ledger reports it.
type Line struct {
	Merchant string
	Op       string // the op that caused it: each op settles once
	At       time.Time
	Kind     Kind
	Amount   int64 // yen, > 0; the Kind says which way it goes
	Terminal string
	// Original is the payment a refund reverses, for the shop's records.
	Original string
}

// signed is the line's effect on what the shop is owed.
func (l Line) signed() int64 {
	if l.Kind == Payment {
		return l.Amount
	}
	return -l.Amount
}

// Totals are sums over some lines.
type Totals struct {
	Payments, Refunds, Fees int64 // each ≥ 0
	Count                   int   // lines
}

// Net is what the shop is owed for these lines; below zero when refunds
// and fees passed payments.
func (t Totals) Net() int64 { return t.Payments - t.Refunds - t.Fees }

func (t *Totals) add(l Line) {
	t.Count++
	switch l.Kind {
	case Payment:
		t.Payments += l.Amount
	case Refund:
		t.Refunds += l.Amount
	case Fee:
		t.Fees += l.Amount
	}
}

// Day is one day of a settlement: its date ("2026-04-01", in the city's
// time zone), lines in time order and their totals.
type Day struct {
	Date  string
	Lines []Line
	Totals
}

// Settlement is what one merchant is owed for a period [From, To).
type Settlement struct {
	Merchant string
	From, To time.Time
	Days     []Day
	Totals
}

// The errors the caller translates.
var (
	ErrLine      = errors.New("settlement line not valid")
	ErrDuplicate = errors.New("op settled twice")
	ErrNoPayee   = errors.New("merchant has no bank account on file")
)

// Settle groups lines into one settlement per merchant for the period
// [from, to), days cut in loc (the city's time zone). Lines outside the
// period are left for their own. A line with no merchant or op, an
// amount ≤ 0 or an unknown kind is refused (ErrLine), and so is an op
// that appears twice (ErrDuplicate): paying a shop twice for one payment
// is the error settlement exists to prevent.
func Settle(lines []Line, from, to time.Time, loc *time.Location) ([]Settlement, error) {
	seen := make(map[string]bool, len(lines))
	by := make(map[string][]Line)
	for _, l := range lines {
		switch {
		case l.Merchant == "" || l.Op == "":
			return nil, fmt.Errorf("settlement: %w: op %q merchant %q", ErrLine, l.Op, l.Merchant)
		case l.Amount <= 0:
			return nil, fmt.Errorf("settlement: %w: op %s amount %d", ErrLine, l.Op, l.Amount)
		case l.Kind != Payment && l.Kind != Refund && l.Kind != Fee:
			return nil, fmt.Errorf("settlement: %w: op %s kind %q", ErrLine, l.Op, l.Kind)
		case seen[l.Op]:
			return nil, fmt.Errorf("settlement: %w: %s", ErrDuplicate, l.Op)
		}
		seen[l.Op] = true
		if l.At.Before(from) || !l.At.Before(to) {
			continue
		}
		by[l.Merchant] = append(by[l.Merchant], l)
	}
	var out []Settlement
	for m, ls := range by {
		slices.SortStableFunc(ls, func(a, b Line) int { return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Op, b.Op)) })
		s := Settlement{Merchant: m, From: from, To: to}
		for _, l := range ls {
			date := l.At.In(loc).Format(time.DateOnly)
			if len(s.Days) == 0 || s.Days[len(s.Days)-1].Date != date {
				s.Days = append(s.Days, Day{Date: date})
			}
			d := &s.Days[len(s.Days)-1]
			d.Lines = append(d.Lines, l)
			d.add(l)
			s.add(l)
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Settlement) int { return cmp.Compare(a.Merchant, b.Merchant) })
	return out, nil
}

// kindWords are the kinds as the CSV shows them, Japanese first.
var kindWords = map[Kind]string{Payment: "支払 payment", Refund: "返金 refund", Fee: "手数料 fee"}

// csvHeader is the CSV's first row, Japanese and English.
var csvHeader = []string{"日付 date", "時刻 time", "種別 kind", "取引 op", "元の取引 original", "端末 terminal",
	"支払 payments", "返金 refunds", "手数料 fees", "差引 net"}

// WriteCSV writes s as the shop's settlement CSV (through excelcsv, so
// Excel reads it right and runs nothing): a row per line, a 日計 row
// after each day, and a 合計 row at the end. Amounts are plain yen
// numbers so the shop can sum them again.
func WriteCSV(w io.Writer, s Settlement, loc *time.Location) error {
	rows := [][]string{
		// The title row is as wide as the rest, so every reader of CSV
		// (not only Excel) takes the file.
		append([]string{"精算 settlement", s.Merchant, s.From.In(loc).Format(time.DateOnly),
			s.To.In(loc).Add(-time.Nanosecond).Format(time.DateOnly)}, make([]string, len(csvHeader)-4)...),
		csvHeader,
	}
	money := func(t Totals) []string {
		return []string{itoa(t.Payments), itoa(t.Refunds), itoa(t.Fees), itoa(t.Net())}
	}
	for _, d := range s.Days {
		for _, l := range d.Lines {
			var one Totals
			one.add(l)
			rows = append(rows, append([]string{d.Date, l.At.In(loc).Format(time.TimeOnly), kindWords[l.Kind], l.Op, l.Original, l.Terminal}, money(one)...))
		}
		rows = append(rows, append([]string{d.Date, "", "日計 day total", strconv.Itoa(d.Count) + "件", "", ""}, money(d.Totals)...))
	}
	rows = append(rows, append([]string{"", "", "合計 total", strconv.Itoa(s.Count) + "件", "", ""}, money(s.Totals)...))
	if err := excelcsv.Write(w, rows); err != nil {
		return fmt.Errorf("settlement: %w", err)
	}
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Payee is where a merchant is paid: its bank account and the account
// holder's name as the bank has it (katakana; zengin converts it).
type Payee struct {
	Account zengin.Account
	Name    string
}

// Carry is a merchant left out of a payout because it is owed nothing
// (refunds and fees passed payments): its net goes into the next period
// by the ledger, not by a transfer.
type Carry struct {
	Merchant string
	Net      int64
}

// Payout makes the city's transfer file for settlements: one transfer
// per merchant (a merchant's settlements for the period summed), in
// merchant order, each with the period in its EDI field so the shop's
// bank statement names it. A merchant owed nothing is returned in
// carried; one with no payee is refused (ErrNoPayee) rather than left
// out, since a shop unpaid without a word is worse than a file not made.
// An amount the file cannot carry is refused when the file is
// marshalled (zengin.ErrAmount).
func Payout(h zengin.Header, settlements []Settlement, payees map[string]Payee, loc *time.Location) (f zengin.File, carried []Carry, err error) {
	f.Header = h
	net := make(map[string]int64)
	var order []string
	var from, to time.Time
	for _, s := range settlements {
		if _, ok := net[s.Merchant]; !ok {
			order = append(order, s.Merchant)
		}
		net[s.Merchant] += s.Net()
		if from.IsZero() || s.From.Before(from) {
			from = s.From
		}
		if s.To.After(to) {
			to = s.To
		}
	}
	slices.Sort(order)
	edi := "SP" + from.In(loc).Format("20060102") + "-" + to.In(loc).Add(-time.Nanosecond).Format("0102")
	for _, m := range order {
		if net[m] <= 0 {
			carried = append(carried, Carry{Merchant: m, Net: net[m]})
			continue
		}
		p, ok := payees[m]
		if !ok {
			return zengin.File{}, nil, fmt.Errorf("settlement: %w: %s", ErrNoPayee, m)
		}
		f.Transfers = append(f.Transfers, zengin.Transfer{To: p.Account, Name: p.Name, Amount: net[m], EDI: edi, Kind: '7'})
	}
	return f, carried, nil
}
