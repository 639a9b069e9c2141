package gtfsjp

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// table is one file read as CSV: its columns by header name and its rows
// with the line each starts on.
type table struct {
	file  string
	cols  map[string]int
	rows  [][]string
	lines []int
}

// parse reads a file's bytes as a GTFS CSV table.
func parse(file string, b []byte) (*table, error) {
	b = bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF})
	if err := checkUTF8(file, b); err != nil {
		return nil, err
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1 // checked below, with the line
	r.ReuseRecord = false
	t := &table{file: file, cols: make(map[string]int)}
	header, err := r.Read()
	if err == io.EOF {
		return nil, at(file, 0, ErrMissing, "the file is empty: no header")
	}
	if err != nil {
		return nil, csvError(file, err)
	}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if _, dup := t.cols[h]; dup && h != "" {
			return nil, at(file, 1, ErrSyntax, "column %s twice", h)
		}
		t.cols[h] = i
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(file, err)
		}
		line, _ := r.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		if len(rec) != len(header) {
			return nil, at(file, line, ErrSyntax, "%d fields, the header has %d", len(rec), len(header))
		}
		for i, c := range rec {
			if len(c) > MaxFieldLen {
				return nil, at(file, line, ErrSyntax, "field %s longer than %d bytes", header[i], MaxFieldLen)
			}
			rec[i] = strings.TrimSpace(c)
		}
		t.rows = append(t.rows, rec)
		t.lines = append(t.lines, line)
	}
	return t, nil
}

// csvError places a CSV reader's error at its line.
func csvError(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return at(file, pe.Line, ErrSyntax, "%v", pe.Err)
	}
	return at(file, 0, ErrSyntax, "%v", err)
}

// checkUTF8 refuses a file that is not UTF-8, naming the first bad line,
// and says Shift_JIS when the bytes read as it.
func checkUTF8(file string, b []byte) error {
	if utf8.Valid(b) {
		return nil
	}
	line, start := 1, 0
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		if r == '\n' {
			line, start = line+1, i+1
		}
		i += n
	}
	end := bytes.IndexByte(b[start:], '\n')
	if end < 0 {
		end = len(b) - start
	}
	// The whole file, or at least its first bad line, read as Shift_JIS:
	// an export from a Japanese spreadsheet, or a line pasted from one.
	if looksShiftJIS(b) || looksShiftJIS(bytes.TrimRight(b[start:start+end], "\r")) {
		return &LineError{File: file, Line: line, Err: fmt.Errorf("%w; %w: save the feed as UTF-8 and import it again", ErrShiftJIS, ErrEncoding)}
	}
	return &LineError{File: file, Line: line, Err: fmt.Errorf("%w: this line holds bytes that are not UTF-8", ErrEncoding)}
}

// looksShiftJIS reports whether b is well-formed Shift_JIS (ASCII,
// half-width katakana, and lead/trail byte pairs) with at least one
// double-byte character: what an export from a Japanese Excel is.
func looksShiftJIS(b []byte) bool {
	pairs := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c < 0x80 || (c >= 0xA1 && c <= 0xDF):
		case (c >= 0x81 && c <= 0x9F) || (c >= 0xE0 && c <= 0xFC):
			if i+1 >= len(b) {
				return false
			}
			t := b[i+1]
			if t < 0x40 || t == 0x7F || t > 0xFC {
				return false
			}
			i++
			pairs++
		default:
			return false
		}
	}
	return pairs > 0
}

// row is one row of a table, read by column name.
type row struct {
	t    *table
	i    int
	errs error
}

// each calls fn with every row of t; the first error stops it.
func (t *table) each(fn func(r *row) error) error {
	for i := range t.rows {
		r := &row{t: t, i: i}
		if err := fn(r); err != nil {
			return err
		}
		if r.errs != nil {
			return r.errs
		}
	}
	return nil
}

// need reports the first of cols the header lacks.
func (t *table) need(cols ...string) error {
	for _, c := range cols {
		if _, ok := t.cols[c]; !ok {
			return at(t.file, 1, ErrMissing, "column %s is", c)
		}
	}
	return nil
}

// line is the row's line in its file.
func (r *row) line() int { return r.t.lines[r.i] }

// str returns the cell of column c, "" when the file lacks the column.
func (r *row) str(c string) string {
	if i, ok := r.t.cols[c]; ok {
		return r.t.rows[r.i][i]
	}
	return ""
}

// fail records the row's first fault.
func (r *row) fail(kind error, format string, args ...any) {
	if r.errs == nil {
		r.errs = at(r.t.file, r.line(), kind, format, args...)
	}
}

// id returns a required id cell.
func (r *row) id(c string) string {
	s := r.str(c)
	if s == "" {
		r.fail(ErrMissing, "%s is empty", c)
	}
	return s
}

// integer returns an integer cell; def when empty.
func (r *row) integer(c string, def int) int {
	s := r.str(c)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		r.fail(ErrSyntax, "%s %q is not a whole number", c, s)
	}
	return n
}

// float returns a required decimal cell within [lo, hi].
func (r *row) float(c string, lo, hi float64) float64 {
	s := r.str(c)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < lo || v > hi {
		r.fail(ErrSyntax, "%s %q is not a number from %g to %g", c, s, lo, hi)
	}
	return v
}

// clock returns a GTFS time cell (H:MM:SS, hours may pass 24) in
// seconds; -1 when empty and allowed.
func (r *row) clock(c string, need bool) int {
	s := r.str(c)
	if s == "" {
		if need {
			r.fail(ErrMissing, "%s is empty", c)
		}
		return -1
	}
	p := strings.Split(s, ":")
	if len(p) != 3 {
		r.fail(ErrSyntax, "%s %q is not HH:MM:SS", c, s)
		return -1
	}
	h, e1 := strconv.Atoi(p[0])
	m, e2 := strconv.Atoi(p[1])
	sec, e3 := strconv.Atoi(p[2])
	if e1 != nil || e2 != nil || e3 != nil || h < 0 || h > 47 || m < 0 || m > 59 || sec < 0 || sec > 59 || len(p[1]) != 2 || len(p[2]) != 2 {
		r.fail(ErrSyntax, "%s %q is not HH:MM:SS", c, s)
		return -1
	}
	return h*3600 + m*60 + sec
}

// date returns a YYYYMMDD cell, checked.
func (r *row) date(c string) string {
	s := r.str(c)
	if _, err := ParseDate(s); err != nil {
		r.fail(ErrSyntax, "%s %q is not a date YYYYMMDD", c, s)
	}
	return s
}
