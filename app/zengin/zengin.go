// Package zengin writes and reads the Japanese banks' bulk transfer file
// (全銀協制定フォーマット 総合振込, 種別コード 21), the file the city hands
// its bank to pay the shops their settlements.
//
// The layout, as the banks' manuals give it (全銀協制定ファイルフォーマット
// 【総合振込】; 宮崎銀行 and 京都銀行 EB manuals): records of 120 bytes, in
// JIS X 0201 (コード区分 0: ASCII plus half-width katakana, the same bytes
// as Shift_JIS for these characters), either back to back or each
// followed by CR LF (122 bytes); CR or LF alone is refused. One header
// record (データ区分 1), one data record (2) per transfer, a trailer (8)
// with the count and the sum, and an end record (9). Number fields (N)
// are right-aligned and zero-filled, character fields (C) left-aligned
// and space-filled.
//
//	header  1 | 種別 21 | コード区分 0 | 依頼人コード N10 | 依頼人名 C40 | 振込指定日 MMDD |
//	        仕向銀行 N4 C15 | 仕向支店 N3 C15 | 預金種目 N1 | 口座番号 N7 | ダミー C17
//	data    2 | 被仕向銀行 N4 C15 | 被仕向支店 N3 C15 | 手形交換所 N4 | 預金種目 N1 |
//	        口座番号 N7 | 受取人名 C30 | 振込金額 N10 | 新規コード N1 |
//	        顧客コード1 N10 顧客コード2 N10 (or EDI情報 C20) | 振込区分 N1 | 識別表示 C1 | ダミー C7
//	trailer 8 | 合計件数 N6 | 合計金額 N12 | ダミー C101
//	end     9 | ダミー C119
package zengin

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// RecordLen is the length of every record, line end not counted.
const RecordLen = 120

// MaxAmount is the largest transfer the 10-digit amount field holds;
// MaxTotal the largest sum the trailer's 12 digits hold.
const (
	MaxAmount = 9_999_999_999
	MaxTotal  = 999_999_999_999
	MaxCount  = 999_999
)

// AccountType is 預金種目.
type AccountType byte

// The account types a transfer may go to.
const (
	Ordinary AccountType = '1' // 普通預金
	Current  AccountType = '2' // 当座預金
	Savings  AccountType = '4' // 貯蓄預金
	Other    AccountType = '9' // その他
)

// MarshalText writes the type as its digit, so JSON carries "1", not 49.
func (t AccountType) MarshalText() ([]byte, error) { return []byte{byte(t)}, nil }

// UnmarshalText reads the type's digit: 1 普通, 2 当座, 4 貯蓄, 9 その他.
func (t *AccountType) UnmarshalText(b []byte) error {
	if len(b) != 1 || !strings.ContainsRune("1249", rune(b[0])) {
		return fmt.Errorf("zengin: account type %q: want 1 (普通), 2 (当座), 4 (貯蓄) or 9", b)
	}
	*t = AccountType(b[0])
	return nil
}

// Account is a bank account: bank and branch by code (and name in
// half-width kana, which the bank only checks against its code), type
// and number.
type Account struct {
	BankCode   string // 4 digits, 統一金融機関番号
	BankName   string // up to 15 characters, may be empty
	BranchCode string // 3 digits
	BranchName string // up to 15 characters, may be empty
	Type       AccountType
	Number     string // up to 7 digits, zero-filled on the left
}

// Header is the requester: the city, by the code its bank gave it.
type Header struct {
	RequesterCode string // up to 10 digits (委託者コード)
	RequesterName string // up to 40 characters
	Month, Day    int    // 振込指定日
	From          Account
}

// Transfer is one data record: money to one account.
type Transfer struct {
	To            Account
	ClearingHouse string // 手形交換所番号, unused: "0000" when empty
	Name          string // 受取人名, up to 30 characters
	Amount        int64  // yen, 1 to MaxAmount
	NewCode       byte   // 新規コード: '0' (or '1' first time, '2' changed)
	CustomerCode1 string // up to 10 digits; ignored when EDI is set
	CustomerCode2 string // up to 10 digits; ignored when EDI is set
	// EDI is the 20-character EDI information (識別表示 Y) the payee's
	// bank passes on, e.g. the settlement's reference; empty for none.
	EDI  string
	Kind byte // 振込区分: '7' 電信, '8' 文書, or ' ' for the bank's default
}

// File is a whole 総合振込 file.
type File struct {
	Header    Header
	Transfers []Transfer
}

// Total is the sum of the transfers, as the trailer carries it.
func (f File) Total() int64 {
	var t int64
	for _, tr := range f.Transfers {
		t += tr.Amount
	}
	return t
}

// The errors the caller translates; each *FieldError wraps one.
var (
	ErrCharacter = errors.New("character not allowed")
	ErrTooLong   = errors.New("too long for its field")
	ErrDigits    = errors.New("not digits")
	ErrAmount    = errors.New("amount does not fit its field")
	ErrLayout    = errors.New("not a 総合振込 file")
	ErrTotals    = errors.New("trailer disagrees with the data records")
)

// FieldError is a field of a record that could not be written or read.
// Record counts from 1 (the header); Field is the field's Japanese name
// as the banks' manuals give it.
type FieldError struct {
	Record int
	Field  string
	Err    error
}

// Error names the record and the field, for logs; Words is for people.
func (e *FieldError) Error() string {
	return fmt.Sprintf("zengin: record %d, %s: %v", e.Record, e.Field, e.Err)
}

// Unwrap lets errors.Is find the kind of fault (ErrAmount, ErrCharacter…).
func (e *FieldError) Unwrap() error { return e.Err }

// Words returns what a person is told about err, in Japanese and
// English; ok is false for an error this package did not make.
func Words(err error) (ja, en string, ok bool) {
	var fe *FieldError
	if !errors.As(err, &fe) {
		return "", "", false
	}
	where := fmt.Sprintf("%d件目のレコードの%s", fe.Record, fe.Field)
	whereEN := fmt.Sprintf("record %d, field %s", fe.Record, fe.Field)
	var ce *CharError
	switch {
	case errors.As(err, &ce):
		return fmt.Sprintf("%s：「%c」(%d文字目)は振込に使えない文字です。カタカナ・英大文字・数字で書いてください。", where, ce.Rune, ce.Pos),
			fmt.Sprintf("%s: %q (character %d) cannot be used in a bank transfer; write it in katakana, capital letters and digits.", whereEN, ce.Rune, ce.Pos), true
	case errors.Is(err, ErrAmount):
		return fmt.Sprintf("%s：金額が振込ファイルの桁数に収まりません（1件 %d円まで、合計 %d円まで）。分けて振り込んでください。", where, MaxAmount, MaxTotal),
			fmt.Sprintf("%s: the amount does not fit the transfer file (at most ¥%d a transfer, ¥%d in all); split the payout.", whereEN, MaxAmount, MaxTotal), true
	case errors.Is(err, ErrTooLong):
		return where + "：長すぎます。", whereEN + ": too long.", true
	case errors.Is(err, ErrDigits):
		return where + "：数字で書いてください。", whereEN + ": must be digits.", true
	case errors.Is(err, ErrTotals):
		return where + "：合計がデータと合いません。", whereEN + ": the totals disagree with the transfers.", true
	}
	return where + "：総合振込のファイルとして読めません。", whereEN + ": not a bulk transfer file.", true
}

// field is one field of a record: its name, width, and whether it holds
// digits (N) or characters (C).
type field struct {
	name  string
	width int
	num   bool
}

// The record layouts, field by field; each sums to RecordLen.
var (
	headerLayout = []field{
		{"データ区分", 1, true}, {"種別コード", 2, true}, {"コード区分", 1, true},
		{"振込依頼人コード", 10, true}, {"振込依頼人名", 40, false}, {"振込指定日", 4, true},
		{"仕向銀行番号", 4, true}, {"仕向銀行名", 15, false}, {"仕向支店番号", 3, true}, {"仕向支店名", 15, false},
		{"預金種目(依頼人)", 1, true}, {"口座番号(依頼人)", 7, true}, {"ダミー", 17, false},
	}
	dataLayout = []field{
		{"データ区分", 1, true}, {"被仕向銀行番号", 4, true}, {"被仕向銀行名", 15, false},
		{"被仕向支店番号", 3, true}, {"被仕向支店名", 15, false}, {"手形交換所番号", 4, true},
		{"預金種目", 1, true}, {"口座番号", 7, true}, {"受取人名", 30, false}, {"振込金額", 10, true},
		{"新規コード", 1, true}, {"顧客コード/EDI情報", 20, false}, {"振込区分", 1, false},
		{"識別表示", 1, false}, {"ダミー", 7, false},
	}
	trailerLayout = []field{{"データ区分", 1, true}, {"合計件数", 6, true}, {"合計金額", 12, true}, {"ダミー", 101, false}}
	endLayout     = []field{{"データ区分", 1, true}, {"ダミー", 119, false}}
)

// put appends the values to a record by the layout: numbers right-aligned
// and zero-filled, characters converted by Kana, left-aligned and
// space-filled. A value too wide for its field is refused, never cut.
func put(record int, layout []field, values []string) ([]byte, error) {
	out := make([]byte, 0, RecordLen)
	for i, f := range layout {
		v := values[i]
		if f.num {
			if strings.Trim(v, "0123456789") != "" {
				return nil, &FieldError{record, f.name, fmt.Errorf("%w: %q", ErrDigits, v)}
			}
			if len(v) > f.width {
				return nil, &FieldError{record, f.name, fmt.Errorf("%w: %q is %d digits, the field %d", ErrTooLong, v, len(v), f.width)}
			}
			out = append(out, strings.Repeat("0", f.width-len(v))+v...)
			continue
		}
		k, err := Kana(v)
		if err != nil {
			return nil, &FieldError{record, f.name, err}
		}
		var enc []byte
		for _, r := range k {
			c, _ := runeByte(r) // Kana let only encodable runes through
			enc = append(enc, c)
		}
		if len(enc) > f.width {
			return nil, &FieldError{record, f.name, fmt.Errorf("%w: %q is %d characters, the field %d", ErrTooLong, k, len(enc), f.width)}
		}
		out = append(out, enc...)
		out = append(out, bytes.Repeat([]byte{' '}, f.width-len(enc))...)
	}
	return out, nil
}

// exact checks that a code is exactly n digits: a bank code of 3 digits
// is a mistake, not a code to pad.
func exact(record int, name, v string, n int) error {
	if len(v) != n || strings.Trim(v, "0123456789") != "" {
		return &FieldError{record, name, fmt.Errorf("%w: %q is not %d digits", ErrDigits, v, n)}
	}
	return nil
}

// Options say how the file is laid out where banks differ.
type Options struct {
	// CRLF ends each record with CR LF, as most banks' upload screens
	// take it; without it the records run back to back.
	CRLF bool
}

// Marshal returns f as a 総合振込 file. It refuses, with a *FieldError
// naming the record and field, a value its field cannot carry: an
// amount of 0 or over MaxAmount (ErrAmount), a sum over MaxTotal, a
// name with kanji (ErrCharacter), a name too long (ErrTooLong).
func Marshal(f File, o Options) ([]byte, error) {
	h := f.Header
	if err := checkHeader(h); err != nil {
		return nil, err
	}
	if len(f.Transfers) == 0 || len(f.Transfers) > MaxCount {
		return nil, &FieldError{2, "合計件数", fmt.Errorf("%w: %d transfers (1 to %d)", ErrLayout, len(f.Transfers), MaxCount)}
	}
	var records [][]byte
	rec, err := put(1, headerLayout, []string{"1", "21", "0", h.RequesterCode, h.RequesterName,
		fmt.Sprintf("%02d%02d", h.Month, h.Day), h.From.BankCode, h.From.BankName, h.From.BranchCode,
		h.From.BranchName, string(rune(h.From.Type)), h.From.Number, ""})
	if err != nil {
		return nil, err
	}
	records = append(records, rec)
	var total int64
	for i, t := range f.Transfers {
		n := i + 2
		if t.NewCode == 0 {
			t.NewCode = '0'
		}
		if t.Kind == 0 {
			t.Kind = ' '
		}
		if t.ClearingHouse == "" {
			t.ClearingHouse = "0000"
		}
		if err := checkTransfer(n, t); err != nil {
			return nil, err
		}
		if total += t.Amount; total > MaxTotal {
			return nil, &FieldError{len(f.Transfers) + 2, "合計金額", fmt.Errorf("%w: the sum passes ¥%d", ErrAmount, MaxTotal)}
		}
		codes, ident := "", " "
		if t.EDI != "" {
			codes, ident = t.EDI, "Y"
		} else {
			for _, c := range []struct{ name, v string }{{"顧客コード1", t.CustomerCode1}, {"顧客コード2", t.CustomerCode2}} {
				if len(c.v) > 10 || strings.Trim(c.v, "0123456789") != "" {
					return nil, &FieldError{n, c.name, fmt.Errorf("%w: %q (up to 10 digits)", ErrDigits, c.v)}
				}
			}
			codes = pad0(t.CustomerCode1, 10) + pad0(t.CustomerCode2, 10)
		}
		rec, err := put(n, dataLayout, []string{"2", t.To.BankCode, t.To.BankName, t.To.BranchCode,
			t.To.BranchName, t.ClearingHouse, string(rune(t.To.Type)), t.To.Number, t.Name,
			strconv.FormatInt(t.Amount, 10), string(rune(t.NewCode)), codes, string(rune(t.Kind)), ident, ""})
		if err != nil {
			return nil, err
		}
		records = append(records, rec)
	}
	n := len(f.Transfers) + 2
	rec, err = put(n, trailerLayout, []string{"8", strconv.Itoa(len(f.Transfers)), strconv.FormatInt(total, 10), ""})
	if err != nil {
		return nil, err
	}
	records = append(records, rec)
	rec, _ = put(n+1, endLayout, []string{"9", ""})
	records = append(records, rec)
	sep := []byte(nil)
	if o.CRLF {
		sep = []byte("\r\n")
	}
	var out []byte
	for _, r := range records {
		out = append(append(out, r...), sep...)
	}
	return out, nil
}

// pad0 zero-fills a customer code, which is digits or empty.
func pad0(v string, n int) string {
	if len(v) >= n {
		return v
	}
	return strings.Repeat("0", n-len(v)) + v
}

// checkAccount checks what put cannot: code lengths and account type.
func checkAccount(record int, a Account) error {
	prefix := ""
	if record == 1 {
		prefix = "仕向"
	} else {
		prefix = "被仕向"
	}
	if err := exact(record, prefix+"銀行番号", a.BankCode, 4); err != nil {
		return err
	}
	if err := exact(record, prefix+"支店番号", a.BranchCode, 3); err != nil {
		return err
	}
	switch a.Type {
	case Ordinary, Current, Savings, Other:
	default:
		return &FieldError{record, "預金種目", fmt.Errorf("%w: %q (1, 2, 4 or 9)", ErrDigits, rune(a.Type))}
	}
	if a.Number == "" || len(a.Number) > 7 || strings.Trim(a.Number, "0123456789") != "" {
		return &FieldError{record, "口座番号", fmt.Errorf("%w: %q (up to 7 digits)", ErrDigits, a.Number)}
	}
	return nil
}

// MaxFileSize bounds what Parse reads: a file of MaxCount transfers with
// line ends, so a stray upload cannot make it hold gigabytes.
const MaxFileSize = (MaxCount + 3) * (RecordLen + 2)

// Parse reads a 総合振込 file, records back to back or each ended by CR
// LF (a final 0x1A end-of-file mark, which some PC tools add, is
// allowed). It checks every field against the layout and the trailer
// against the data records; the first fault is returned as a
// *FieldError.
func Parse(b []byte) (File, error) {
	var f File
	if len(b) > MaxFileSize {
		return f, &FieldError{0, "ファイル", fmt.Errorf("%w: %d bytes, more than %d", ErrLayout, len(b), MaxFileSize)}
	}
	b = bytes.TrimSuffix(b, []byte{0x1A})
	records, err := split(b)
	if err != nil {
		return f, err
	}
	if len(records) < 4 {
		return f, &FieldError{len(records), "ファイル", fmt.Errorf("%w: %d records, a file has at least 4", ErrLayout, len(records))}
	}
	// Each record's kind first, so a missing record is named as such and
	// not as a field that does not fit where another record sits.
	last := len(records) - 1
	for i, r := range records {
		want := byte('2')
		switch i {
		case 0:
			want = '1'
		case last - 1:
			want = '8'
		case last:
			want = '9'
		}
		if r[0] != want {
			return f, &FieldError{i + 1, "データ区分", fmt.Errorf("%w: %q where %q belongs", ErrLayout, r[0], want)}
		}
	}
	v, err := get(1, headerLayout, records[0])
	if err != nil {
		return f, err
	}
	if v[1] != "21" || v[2] != "0" {
		return f, &FieldError{1, "種別コード", fmt.Errorf("%w: 種別 %s コード区分 %s (want 21, 0)", ErrLayout, v[1], v[2])}
	}
	f.Header = Header{RequesterCode: v[3], RequesterName: trim(v[4]), From: Account{
		BankCode: v[6], BankName: trim(v[7]), BranchCode: v[8], BranchName: trim(v[9]), Type: AccountType(v[10][0]), Number: v[11]}}
	f.Header.Month, _ = strconv.Atoi(v[5][:2])
	f.Header.Day, _ = strconv.Atoi(v[5][2:])
	if err := checkHeader(f.Header); err != nil {
		return f, err
	}
	var total int64
	for i, r := range records[1 : last-1] {
		n := i + 2
		v, err := get(n, dataLayout, r)
		if err != nil {
			return f, err
		}
		amount, _ := strconv.ParseInt(v[9], 10, 64)
		t := Transfer{To: Account{BankCode: v[1], BankName: trim(v[2]), BranchCode: v[3], BranchName: trim(v[4]),
			Type: AccountType(v[6][0]), Number: v[7]}, ClearingHouse: v[5], Name: trim(v[8]), Amount: amount, NewCode: v[10][0], Kind: v[12][0]}
		switch v[13] {
		case "Y":
			if t.EDI = trim(v[11]); t.EDI == "" {
				return f, &FieldError{n, "EDI情報", fmt.Errorf("%w: 識別表示 Y with no EDI information", ErrLayout)}
			}
		case " ":
			if strings.Trim(v[11], "0123456789") != "" || len(v[11]) != 20 {
				return f, &FieldError{n, "顧客コード", fmt.Errorf("%w: %q", ErrDigits, v[11])}
			}
			t.CustomerCode1, t.CustomerCode2 = v[11][:10], v[11][10:]
		default:
			return f, &FieldError{n, "識別表示", fmt.Errorf("%w: %q (Y or space)", ErrLayout, v[13])}
		}
		if err := checkTransfer(n, t); err != nil {
			return f, err
		}
		total += t.Amount
		f.Transfers = append(f.Transfers, t)
	}
	v, err = get(last, trailerLayout, records[last-1])
	if err != nil {
		return f, err
	}
	count, _ := strconv.Atoi(v[1])
	sum, _ := strconv.ParseInt(v[2], 10, 64)
	if count != len(f.Transfers) || sum != total {
		return f, &FieldError{last, "合計件数/合計金額", fmt.Errorf("%w: trailer %d transfers ¥%d, records %d transfers ¥%d", ErrTotals, count, sum, len(f.Transfers), total)}
	}
	if _, err := get(last+1, endLayout, records[last]); err != nil {
		return f, err
	}
	return f, nil
}

// checkHeader checks the header's values, for Marshal and Parse alike.
func checkHeader(h Header) error {
	if h.Month < 1 || h.Month > 12 || h.Day < 1 || h.Day > 31 {
		return &FieldError{1, "振込指定日", fmt.Errorf("%w: %02d%02d", ErrDigits, h.Month, h.Day)}
	}
	return checkAccount(1, h.From)
}

// checkTransfer checks a data record's values, for Marshal and Parse
// alike, beyond what the fields' widths and kinds check.
func checkTransfer(n int, t Transfer) error {
	if t.Amount < 1 || t.Amount > MaxAmount {
		return &FieldError{n, "振込金額", fmt.Errorf("%w: ¥%d (1 to %d)", ErrAmount, t.Amount, MaxAmount)}
	}
	if strings.TrimSpace(t.Name) == "" {
		return &FieldError{n, "受取人名", fmt.Errorf("%w: empty", ErrLayout)}
	}
	if t.Kind != ' ' && t.Kind != '7' && t.Kind != '8' {
		return &FieldError{n, "振込区分", fmt.Errorf("%w: %q", ErrDigits, t.Kind)}
	}
	return checkAccount(n, t.To)
}

// split cuts b into records: all 120 bytes back to back, or all 120
// bytes each followed by CR LF (the last one's CR LF optional).
func split(b []byte) ([][]byte, error) {
	var out [][]byte
	crlf := len(b) > RecordLen+1 && b[RecordLen] == '\r' && b[RecordLen+1] == '\n'
	for len(b) > 0 {
		n := len(out) + 1
		if len(b) < RecordLen {
			return nil, &FieldError{n, "レコード長", fmt.Errorf("%w: %d bytes left, a record is %d", ErrLayout, len(b), RecordLen)}
		}
		rec := b[:RecordLen]
		if i := bytes.IndexAny(rec, "\r\n"); i >= 0 {
			return nil, &FieldError{n, "レコード長", fmt.Errorf("%w: a line end at byte %d of a %d-byte record", ErrLayout, i+1, RecordLen)}
		}
		out = append(out, rec)
		b = b[RecordLen:]
		if crlf {
			if len(b) == 0 {
				break
			}
			if len(b) < 2 || b[0] != '\r' || b[1] != '\n' {
				return nil, &FieldError{n, "改行", fmt.Errorf("%w: record %d not ended by CR LF like the first", ErrLayout, n)}
			}
			b = b[2:]
		}
	}
	return out, nil
}

// get cuts a record into its fields' values by the layout: numbers as
// the digits they are, characters decoded and with the fill spaces cut.
func get(record int, layout []field, rec []byte) ([]string, error) {
	var out []string
	for _, f := range layout {
		raw := rec[:f.width]
		rec = rec[f.width:]
		if f.num {
			for _, c := range raw {
				if c < '0' || c > '9' {
					return nil, &FieldError{record, f.name, fmt.Errorf("%w: %q", ErrDigits, raw)}
				}
			}
			out = append(out, string(raw))
			continue
		}
		var s []rune
		for i, c := range raw {
			if !allowedByte(c) {
				return nil, &FieldError{record, f.name, &CharError{Rune: byteRune(c), Pos: i + 1}}
			}
			s = append(s, byteRune(c))
		}
		if f.name == "ダミー" && strings.Trim(string(s), " ") != "" {
			return nil, &FieldError{record, f.name, fmt.Errorf("%w: the dummy area is not blank", ErrLayout)}
		}
		out = append(out, string(s))
	}
	return out, nil
}

// trim cuts a character field's fill spaces.
func trim(s string) string { return strings.TrimRight(s, " ") }
