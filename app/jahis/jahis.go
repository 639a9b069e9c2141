// Package jahis reads the JAHIS 電子版お薬手帳 data a pharmacy prints as a
// QR code on its receipt (JAHIS 電子版お薬手帳データフォーマット仕様書): CSV
// lines in Shift_JIS, the first line the version record ("JAHISTC08,1"),
// every other line a record whose first field is its record number.
//
// It reads what a hospital needs of a medication history (the patient,
// each dispensing's date, pharmacy, prescriber and the drugs with their
// usage) and refuses anything else: bytes that are not Shift_JIS, a text
// that is not this format, a version whose layout was not checked, a
// damaged record, or one part of a split code. The record layout is
// Ver.2.6's (JAHISTC08), see layout.go for where it was confirmed.
//
// The input is outside bytes (a photographed QR code), so every rule is
// checked and the reader is fuzzed; it never panics and never keeps more
// than MaxSize bytes.
package jahis

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
)

// MaxSize bounds an input: a QR code holds under 3 KB, and a split code
// at most a few dozen parts.
const MaxSize = 256 << 10

// The refusals, each wrapped in an *Error that says where.
var (
	// ErrEncoding: the bytes are not Shift_JIS text.
	ErrEncoding = errors.New("jahis: not Shift_JIS text")
	// ErrNotJAHIS: no JAHIS version record first.
	ErrNotJAHIS = errors.New("jahis: not a JAHIS medication notebook")
	// ErrVersion: a version this reader was not checked against.
	ErrVersion = errors.New("jahis: unsupported version")
	// ErrDamaged: a record breaks the layout or the order of records.
	ErrDamaged = errors.New("jahis: damaged data")
	// ErrIncomplete: one part of a code split over several (record 911).
	ErrIncomplete = errors.New("jahis: one part of a split code")
	// ErrTooLarge: more than MaxSize bytes.
	ErrTooLarge = errors.New("jahis: too large")
)

// Error is a refusal: its kind (one of the Err values above), the line
// it concerns (1-based; 0 for the whole input) and what is wrong.
type Error struct {
	Kind   error
	Line   int
	Detail string
}

// Error says the kind, the line and what is wrong.
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%v: line %d: %s", e.Kind, e.Line, e.Detail)
	}
	return fmt.Sprintf("%v: %s", e.Kind, e.Detail)
}

// Unwrap lets errors.Is find the kind.
func (e *Error) Unwrap() error { return e.Kind }

// Words returns what the import screen says of err, Japanese first: each
// kind of refusal in its own words, so a resident knows whether to scan
// again, ask the pharmacy, or scan the other parts.
func Words(err error) (ja, en string) {
	switch {
	case err == nil:
		return "読み取りました", "Read"
	case errors.Is(err, ErrEncoding):
		return "文字コードが読めません（Shift_JISではありません）。もう一度読み取ってください", "The text is not Shift_JIS: scan again"
	case errors.Is(err, ErrNotJAHIS):
		return "お薬手帳のQRコードではありません", "This is not a medication notebook QR code"
	case errors.Is(err, ErrVersion):
		return "この版のお薬手帳データには対応していません。薬局にご相談ください", "This version of the notebook data is not supported: ask the pharmacy"
	case errors.Is(err, ErrIncomplete):
		return "分割されたQRコードの一部です。すべてのQRコードを読み取ってください", "This is one part of a split code: scan every part"
	case errors.Is(err, ErrTooLarge):
		return "データが大きすぎます", "The data is too large"
	case errors.Is(err, ErrDamaged):
		return "データが壊れています。もう一度読み取るか、薬局にご相談ください", "The data is damaged: scan again or ask the pharmacy"
	}
	return "読み取れませんでした", "Could not read"
}

// Notebook is what a code holds: the version, the direction of the data,
// the patient and each dispensing.
type Notebook struct {
	Version string // "JAHISTC08"
	// Output is the version record's 出力区分: 1 from a pharmacy or
	// hospital to the patient, 2 from the patient to a provider.
	Output      int
	Patient     Patient
	Dispensings []Dispensing
}

// Patient is record 1 (患者情報): name, sex and birth date, which the
// import checks against the resident before it keeps anything.
type Patient struct {
	Name  string
	Kana  string
	Sex   string // "male" or "female" (code 1 or 2)
	Birth time.Time
}

// Dispensing is one visit to a pharmacy or hospital: record 5 and those
// after it up to the next 5.
type Dispensing struct {
	Date       time.Time
	Pharmacy   string // record 11: 医療機関等名称
	Prescriber string // record 51: the hospital that prescribed
	Doctor     string // record 55
	Department string // record 55: 診療科名
	RPs        []RP
}

// RP is one prescription instruction: its drugs (201) and their usage
// (301).
type RP struct {
	Number   int
	Drugs    []Drug
	Usage    string // 用法名称
	Quantity int    // 調剤数量: days for internal medicine
	Unit     string // 調剤単位
	Form     string // 剤形コード
}

// Drug is record 201.
type Drug struct {
	Name     string
	Amount   string // 用量
	Unit     string // 単位名
	CodeType string // 薬品コード種別 ("1": no code)
	Code     string
}

// Parse reads one code's data. A code split over several (record 911
// with more than one part) is refused with ErrIncomplete; ParseParts
// joins them.
func Parse(data []byte) (Notebook, error) {
	if len(data) > MaxSize {
		return Notebook{}, &Error{Kind: ErrTooLarge, Detail: fmt.Sprintf("%d bytes", len(data))}
	}
	lines, err := decode(data)
	if err != nil {
		return Notebook{}, err
	}
	return parseLines(lines, false)
}

// decode turns Shift_JIS bytes into lines of fields. A byte sequence
// Shift_JIS does not define decodes to U+FFFD, which never appears in a
// valid notebook, so it is refused rather than kept as a damaged name.
func decode(data []byte) ([][]string, error) {
	text, err := japanese.ShiftJIS.NewDecoder().Bytes(data)
	if err != nil {
		return nil, &Error{Kind: ErrEncoding, Detail: err.Error()}
	}
	if i := bytes.IndexRune(text, utf8.RuneError); i >= 0 {
		line := 1 + bytes.Count(text[:i], []byte("\n"))
		return nil, &Error{Kind: ErrEncoding, Line: line, Detail: "a byte sequence Shift_JIS does not define"}
	}
	s := strings.ReplaceAll(string(text), "\r\n", "\n")
	if s == "" {
		return nil, &Error{Kind: ErrNotJAHIS, Detail: "empty"}
	}
	if !strings.HasPrefix(s, "JAHISTC") {
		first, _, _ := strings.Cut(s, "\n")
		first, _, _ = strings.Cut(first, ",")
		return nil, &Error{Kind: ErrNotJAHIS, Line: 1, Detail: fmt.Sprintf("first field %q", clip(first))}
	}
	if !strings.HasSuffix(s, "\n") {
		// Every record ends with its line end: data without one was cut
		// (a code read half way, a truncated file).
		return nil, &Error{Kind: ErrDamaged, Line: 1 + strings.Count(s, "\n"), Detail: "the last record has no line end: the data was cut"}
	}
	s = strings.TrimSuffix(s, "\n")
	var out [][]string
	for _, l := range strings.Split(s, "\n") {
		if strings.ContainsAny(l, "\r\x00") {
			return nil, &Error{Kind: ErrDamaged, Line: len(out) + 1, Detail: "a control character inside a line"}
		}
		out = append(out, strings.Split(l, ","))
	}
	return out, nil
}

// versionRecord checks the first line.
func versionRecord(f []string) (string, int, error) {
	v := strings.TrimSpace(f[0])
	if !strings.HasPrefix(v, "JAHISTC") {
		return "", 0, &Error{Kind: ErrNotJAHIS, Line: 1, Detail: fmt.Sprintf("first field %q", clip(v))}
	}
	if len(v) != 9 || !digits(v[7:]) {
		return "", 0, &Error{Kind: ErrNotJAHIS, Line: 1, Detail: fmt.Sprintf("version %q is not JAHISTC and two digits", clip(v))}
	}
	if !Supported(v) {
		return v, 0, &Error{Kind: ErrVersion, Line: 1, Detail: versionNote(v)}
	}
	if len(f) < 2 {
		return v, 0, &Error{Kind: ErrDamaged, Line: 1, Detail: "no 出力区分 after the version"}
	}
	out, err := strconv.Atoi(f[1])
	if err != nil || (out != 1 && out != 2) {
		return v, 0, &Error{Kind: ErrDamaged, Line: 1, Detail: fmt.Sprintf("出力区分 %q (1 or 2)", clip(f[1]))}
	}
	return v, out, nil
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// clip shortens outside text quoted in an error.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= 24 {
		return s
	}
	return string([]rune(s)[:24]) + "…"
}
