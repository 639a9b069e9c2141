// Package statement makes the resident's wallet statement, month by
// month, for the account page: what came in (top-ups, refunds, money a
// guardian sent), what went out (payments, money sent to a family
// member), and the balance after each line, from the plain lines the
// ledger reports for one wallet.
//
// Lines are placed by when they happened, not when they were posted: an
// offline payment made on 3/31 and posted at the 4/2 sync is March's,
// so a past month's figures may still change until every terminal has
// synced. The statement is therefore made afresh each time it is shown,
// never stored.
package statement

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"smartpass.city/smartpass/app/excelcsv"
)

// Kind is what a line did to the wallet.
type Kind string

// The kinds of line.
const (
	TopUp     Kind = "topup"      // cash at the city desk or by card: in
	Payment   Kind = "payment"    // paid at a shop or a bus: out
	Refund    Kind = "refund"     // a shop gave money back: in
	FamilyIn  Kind = "family-in"  // a guardian funded this wallet: in
	FamilyOut Kind = "family-out" // this wallet funded a family member's: out
)

// in reports whether a kind adds to the balance.
func (k Kind) in() bool { return k == TopUp || k == Refund || k == FamilyIn }

// known reports whether k is a kind of line.
func (k Kind) known() bool {
	return k == TopUp || k == Payment || k == Refund || k == FamilyIn || k == FamilyOut
}

// Line is one posting to the wallet, as the ledger reports it.
type Line struct {
	Op     string
	At     time.Time
	Kind   Kind
	Amount int64  // yen, > 0; the Kind says which way
	Where  string // the shop, the desk, the family member: as the page names it
	// Original is the payment a refund reverses.
	Original string
	// Offline: taken offline, posted at a later sync.
	Offline bool
}

// Row is a line with the balance after it.
type Row struct {
	Line
	Balance int64
}

// Month is one month of the statement.
type Month struct {
	Month    string // "2026-04"
	Opening  int64  // balance before the month's first line
	Rows     []Row
	TopUps   int64 // top-ups and family money in
	Payments int64 // payments and family money out
	Refunds  int64
	Closing  int64
}

// The errors the caller translates.
var (
	ErrLine      = errors.New("statement line not valid")
	ErrDuplicate = errors.New("op on the statement twice")
)

// Build makes the statement from a wallet's lines, opening being the
// balance before the earliest of them, months cut in loc (the city's
// time zone), newest month first as the account page lists them. A
// line with no op, an amount ≤ 0 or an unknown kind is refused
// (ErrLine), and so is an op twice (ErrDuplicate): the ledger posts
// each op once, and a statement that showed one twice would be wrong.
// The balance may go below zero, where an offline payment posted as
// recorded debt.
func Build(lines []Line, opening int64, loc *time.Location) ([]Month, error) {
	seen := make(map[string]bool, len(lines))
	for _, l := range lines {
		switch {
		case l.Op == "" || l.Amount <= 0 || !l.Kind.known():
			return nil, fmt.Errorf("statement: %w: op %q kind %q amount %d", ErrLine, l.Op, l.Kind, l.Amount)
		case seen[l.Op]:
			return nil, fmt.Errorf("statement: %w: %s", ErrDuplicate, l.Op)
		}
		seen[l.Op] = true
	}
	sorted := slices.Clone(lines)
	slices.SortStableFunc(sorted, func(a, b Line) int { return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Op, b.Op)) })
	var months []Month
	balance := opening
	for _, l := range sorted {
		name := l.At.In(loc).Format("2006-01")
		if len(months) == 0 || months[len(months)-1].Month != name {
			months = append(months, Month{Month: name, Opening: balance, Closing: balance})
		}
		m := &months[len(months)-1]
		switch l.Kind {
		case TopUp, FamilyIn:
			m.TopUps += l.Amount
		case Refund:
			m.Refunds += l.Amount
		case Payment, FamilyOut:
			m.Payments += l.Amount
		}
		if l.Kind.in() {
			balance += l.Amount
		} else {
			balance -= l.Amount
		}
		m.Rows = append(m.Rows, Row{Line: l, Balance: balance})
		m.Closing = balance
	}
	slices.Reverse(months)
	return months, nil
}

// kindWords are the kinds as the page and the CSV show them.
var kindWords = map[Kind][2]string{
	TopUp:     {"チャージ", "top-up"},
	Payment:   {"支払い", "payment"},
	Refund:    {"返金", "refund"},
	FamilyIn:  {"家族から", "from family"},
	FamilyOut: {"家族へ", "to family"},
}

// Words returns the kind as the page shows it, Japanese and English.
func (k Kind) Words() (ja, en string) { w := kindWords[k]; return w[0], w[1] }

// WriteCSV writes one month as a CSV the resident can download (Excel-
// safe through excelcsv): a row per line with the balance after it, and
// the month's totals.
func WriteCSV(w io.Writer, m Month, loc *time.Location) error {
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	rows := [][]string{
		{"日時 time", "種別 kind", "内容 where", "入金 in", "出金 out", "残高 balance", "オフライン offline"},
		{m.Month + " 繰越 opening", "", "", "", "", n(m.Opening), ""},
	}
	for _, r := range m.Rows {
		ja, en := r.Kind.Words()
		in, out := "", ""
		if r.Kind.in() {
			in = n(r.Amount)
		} else {
			out = n(r.Amount)
		}
		off := ""
		if r.Offline {
			off = "○"
		}
		rows = append(rows, []string{r.At.In(loc).Format("2006-01-02 15:04"), ja + " " + en, r.Where, in, out, n(r.Balance), off})
	}
	rows = append(rows,
		[]string{"合計 totals", "チャージ top-ups " + n(m.TopUps), "返金 refunds " + n(m.Refunds), n(m.TopUps + m.Refunds), n(m.Payments), n(m.Closing), ""})
	if err := excelcsv.Write(w, rows); err != nil {
		return fmt.Errorf("statement: %w", err)
	}
	return nil
}
