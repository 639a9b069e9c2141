// Package excelcsv writes CSV files that people open in Excel: UTF-8 with
// a byte-order mark (without it a Japanese Windows garbles the names),
// CRLF line ends, and no cell that Excel would run as a formula. Every
// CSV the project writes goes through Write.
//
// A cell that starts with =, +, -, @, a tab or a carriage return is
// taken by Excel (and LibreOffice, Google Sheets) as a formula, so a
// name typed as =HYPERLINK("http://x","y") would become a link, and
// worse formulas can run commands or leak other cells. Such a cell is
// written with a leading apostrophe, as OWASP advises: the spreadsheet
// shows the text as typed. A plain number, negative ones included
// (-5, +3.5), is left alone: it is no formula, and a year or a count
// stays a number.
package excelcsv

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// bom makes Excel read the file as UTF-8.
var bom = []byte{0xEF, 0xBB, 0xBF}

// Write writes rows to w as a CSV file for Excel, every cell through
// Cell.
func Write(w io.Writer, rows [][]string) error {
	if _, err := w.Write(bom); err != nil {
		return fmt.Errorf("excelcsv: %w", err)
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	for _, row := range rows {
		safe := make([]string, len(row))
		for i, c := range row {
			safe[i] = Cell(c)
		}
		if err := cw.Write(safe); err != nil {
			return fmt.Errorf("excelcsv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("excelcsv: %w", err)
	}
	return nil
}

// formulaStarts are the first characters that make a spreadsheet read a
// cell as a formula; the full-width forms are included because Japanese
// spreadsheet input may turn them into the ASCII ones.
const formulaStarts = "=+-@\t\r＝＋－＠"

// Cell returns s as it is safe to write in a cell: with an apostrophe
// before it when it would start a formula and is not a plain number.
func Cell(s string) string {
	if s == "" || !strings.ContainsRune(formulaStarts, []rune(s)[0]) {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "eEnNiI") {
		return s // -5, +3.5: a number, not a formula
	}
	return "'" + s
}
