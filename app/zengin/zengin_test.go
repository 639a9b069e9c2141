package zengin

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestKana(t *testing.T) {
	tests := []struct {
		in, want string
		pos      int // the refused character's place; 0 when accepted
	}{
		{"カガ タロウ", "ｶｶﾞ ﾀﾛｳ", 0},
		{"かが　たろう", "ｶｶﾞ ﾀﾛｳ", 0},
		{"キュウヨ イチロウ", "ｷﾕｳﾖ ｲﾁﾛｳ", 0},
		{"ヴァイオリン", "ｳﾞｱｲｵﾘﾝ", 0},
		{"パピプペポ", "ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ", 0},
		{"ｶｶﾞ ﾀﾛｳ", "ｶｶﾞ ﾀﾛｳ", 0},
		{"ｷｭｳﾖ", "ｷﾕｳﾖ", 0},
		{"スーパー", "ｽ-ﾊﾟ-", 0},
		{"カ)ヤマダ・ショウテン", "ｶ)ﾔﾏﾀﾞ.ｼﾖｳﾃﾝ", 0},
		{"（カ）カガ", "(ｶ)ｶｶﾞ", 0},
		{"ｓｍａｒｔ pass 123", "SMART PASS 123", 0},
		{"ＡＢＣ／１２３", "ABC/123", 0},
		{"ヲノ", "ｵﾉ", 0},
		{"「カガ」", "｢ｶｶﾞ｣", 0},
		{"山田", "", 1},
		{"ｶﾅ,ｶﾅ", "", 3},
		{"カガ😀", "", 3},
		{"ﾀﾛｳ\n", "", 4},
		{"A&B", "", 2},
	}
	for _, tt := range tests {
		got, err := Kana(tt.in)
		var ce *CharError
		switch {
		case tt.pos == 0 && (err != nil || got != tt.want):
			t.Errorf("Kana(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		case tt.pos != 0 && (!errors.As(err, &ce) || ce.Pos != tt.pos || !errors.Is(err, ErrCharacter)):
			t.Errorf("Kana(%q) = %q, %v; want a CharError at %d", tt.in, got, err, tt.pos)
		}
	}
}

// sample is a file with one transfer of each kind the layout allows.
func sample() File {
	return File{
		Header: Header{RequesterCode: "123456", RequesterName: "カガシ", Month: 4, Day: 25,
			From: Account{BankCode: "0144", BankName: "ホッコクギンコウ", BranchCode: "001", BranchName: "ホンテン", Type: Current, Number: "1234567"}},
		Transfers: []Transfer{
			{To: Account{BankCode: "0001", BankName: "ミズホ", BranchCode: "211", BranchName: "アオヤマ", Type: Ordinary, Number: "12345"},
				Name: "カ)カガヤ", Amount: 128_400, CustomerCode1: "42", Kind: '7'},
			{To: Account{BankCode: "9900", BranchCode: "019", Type: Savings, Number: "7654321"},
				Name: "ヤマナカ ショウテン", Amount: MaxAmount, EDI: "SETTLE 2026-04"},
		},
	}
}

// col returns the 1-based columns from..to of a record, as the banks'
// manuals number them.
func col(rec []byte, from, to int) string { return string(rec[from-1 : to]) }

// TestMarshalColumns checks each field at the columns the manuals give
// (the 持込規格 table numbers the header's columns; the data record's
// follow from the widths: 識別表示 is column 113), independently of the
// layout tables the code uses.
func TestMarshalColumns(t *testing.T) {
	b, err := Marshal(sample(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 5*RecordLen {
		t.Fatalf("%d bytes, want 5 records of %d", len(b), RecordLen)
	}
	h, d1, d2, tr, end := b[0:120], b[120:240], b[240:360], b[360:480], b[480:600]
	checks := []struct {
		rec      []byte
		from, to int
		want     string
	}{
		{h, 1, 1, "1"}, {h, 2, 3, "21"}, {h, 4, 4, "0"}, {h, 5, 14, "0000123456"},
		{h, 15, 54, "\xb6\xb6\xde\xbc" + strings.Repeat(" ", 36)}, {h, 55, 58, "0425"},
		{h, 59, 62, "0144"}, {h, 78, 80, "001"}, {h, 96, 96, "2"}, {h, 97, 103, "1234567"}, {h, 104, 120, strings.Repeat(" ", 17)},
		{d1, 1, 1, "2"}, {d1, 2, 5, "0001"}, {d1, 6, 20, "\xd0\xbd\xde\xce" + strings.Repeat(" ", 11)},
		{d1, 21, 23, "211"}, {d1, 39, 42, "0000"}, {d1, 43, 43, "1"}, {d1, 44, 50, "0012345"},
		{d1, 51, 80, "\xb6)\xb6\xb6\xde\xd4" + strings.Repeat(" ", 24)}, {d1, 81, 90, "0000128400"},
		{d1, 91, 91, "0"}, {d1, 92, 101, "0000000042"}, {d1, 102, 111, "0000000000"}, {d1, 112, 112, "7"}, {d1, 113, 113, " "},
		{d2, 81, 90, "9999999999"}, {d2, 92, 111, "SETTLE 2026-04      "}, {d2, 112, 112, " "}, {d2, 113, 113, "Y"},
		{tr, 1, 1, "8"}, {tr, 2, 7, "000002"}, {tr, 8, 19, "010000128399"}, {tr, 20, 120, strings.Repeat(" ", 101)},
		{end, 1, 1, "9"}, {end, 2, 120, strings.Repeat(" ", 119)},
	}
	for _, c := range checks {
		if got := col(c.rec, c.from, c.to); got != c.want {
			t.Errorf("record %q… columns %d–%d = %q, want %q", c.rec[:1], c.from, c.to, got, c.want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, o := range []Options{{}, {CRLF: true}} {
		b, err := Marshal(sample(), o)
		if err != nil {
			t.Fatal(err)
		}
		if o.CRLF != bytes.Contains(b, []byte("\r\n")) {
			t.Fatalf("CRLF %v: %q", o.CRLF, b)
		}
		f, err := Parse(b)
		if err != nil {
			t.Fatalf("CRLF %v: %v", o.CRLF, err)
		}
		if f.Transfers[0].Name != "ｶ)ｶｶﾞﾔ" || f.Transfers[1].EDI != "SETTLE 2026-04" || f.Total() != 128_400+MaxAmount ||
			f.Header.Month != 4 || f.Header.Day != 25 || f.Transfers[0].To.Number != "0012345" {
			t.Fatalf("parsed %+v", f)
		}
		again, err := Marshal(f, o)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("CRLF %v: marshal of the parse differs (%v)", o.CRLF, err)
		}
	}
}

func TestMarshalRefuses(t *testing.T) {
	many := sample()
	many.Transfers = nil
	for range 101 { // 101 × MaxAmount passes the 12-digit total
		many.Transfers = append(many.Transfers, sample().Transfers[1])
	}
	tests := []struct {
		name   string
		change func(*File)
		want   error
		record int
		field  string
	}{
		{"amount over 10 digits", func(f *File) { f.Transfers[0].Amount = MaxAmount + 1 }, ErrAmount, 2, "振込金額"},
		{"amount zero", func(f *File) { f.Transfers[1].Amount = 0 }, ErrAmount, 3, "振込金額"},
		{"negative amount", func(f *File) { f.Transfers[1].Amount = -5 }, ErrAmount, 3, "振込金額"},
		{"total over 12 digits", func(f *File) { *f = many }, ErrAmount, 103, "合計金額"},
		{"kanji name", func(f *File) { f.Transfers[0].Name = "加賀 太郎" }, ErrCharacter, 2, "受取人名"},
		{"name 31 wide", func(f *File) { f.Transfers[0].Name = strings.Repeat("ガ", 15) + "ア" }, ErrTooLong, 2, "受取人名"},
		{"blank name", func(f *File) { f.Transfers[0].Name = "　" }, ErrLayout, 2, "受取人名"},
		{"bank code 3 digits", func(f *File) { f.Transfers[1].To.BankCode = "144" }, ErrDigits, 3, "被仕向銀行番号"},
		{"account 8 digits", func(f *File) { f.Transfers[1].To.Number = "12345678" }, ErrDigits, 3, "口座番号"},
		{"account type 3", func(f *File) { f.Transfers[1].To.Type = '3' }, ErrDigits, 3, "預金種目"},
		{"requester code 11 digits", func(f *File) { f.Header.RequesterCode = "12345678901" }, ErrTooLong, 1, "振込依頼人コード"},
		{"month 13", func(f *File) { f.Header.Month = 13 }, ErrDigits, 1, "振込指定日"},
		{"EDI 21 wide", func(f *File) { f.Transfers[1].EDI = strings.Repeat("A", 21) }, ErrTooLong, 3, "顧客コード/EDI情報"},
		{"customer code letters", func(f *File) { f.Transfers[0].CustomerCode1 = "A1" }, ErrDigits, 2, "顧客コード1"},
		{"no transfers", func(f *File) { f.Transfers = nil }, ErrLayout, 2, "合計件数"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := sample()
			tt.change(&f)
			_, err := Marshal(f, Options{})
			var fe *FieldError
			if !errors.Is(err, tt.want) || !errors.As(err, &fe) || fe.Record != tt.record || fe.Field != tt.field {
				t.Fatalf("err = %v, want %v at record %d %s", err, tt.want, tt.record, tt.field)
			}
			if ja, en, ok := Words(err); !ok || ja == "" || en == "" {
				t.Fatalf("no words for %v", err)
			}
		})
	}
	_, err := Marshal(File{Header: sample().Header, Transfers: []Transfer{{To: sample().Transfers[0].To, Name: "ｶｶﾞ", Amount: 12_000_000_000}}}, Options{})
	if ja, en, _ := Words(err); !strings.Contains(ja, "桁数に収まりません") || !strings.Contains(en, "does not fit") {
		t.Fatalf("words for a too large amount: %q / %q", ja, en)
	}
}

func TestParseRefuses(t *testing.T) {
	good, err := Marshal(sample(), Options{CRLF: true})
	if err != nil {
		t.Fatal(err)
	}
	at := func(record, column int) int { return (record-1)*122 + column - 1 }
	tests := []struct {
		name   string
		change func([]byte) []byte
		want   error
	}{
		{"trailer count off", func(b []byte) []byte { b[at(4, 7)] = '3'; return b }, ErrTotals},
		{"trailer sum off", func(b []byte) []byte { b[at(4, 19)] = '0'; return b }, ErrTotals},
		{"amount not digits", func(b []byte) []byte { b[at(2, 85)] = 'X'; return b }, ErrDigits},
		{"lower case in a name", func(b []byte) []byte { b[at(2, 60)] = 'a'; return b }, ErrCharacter},
		{"small kana in a name", func(b []byte) []byte { b[at(2, 60)] = 0xAF; return b }, ErrCharacter},
		{"LF only", func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")) }, ErrLayout},
		{"CR LF then none", func(b []byte) []byte { return append(b[:122], bytes.ReplaceAll(b[122:], []byte("\r\n"), nil)...) }, ErrLayout},
		{"cut short", func(b []byte) []byte { return b[:len(b)-50] }, ErrLayout},
		{"no end record", func(b []byte) []byte { return b[:4*122] }, ErrLayout},
		{"other kind of file", func(b []byte) []byte { b[at(1, 2)], b[at(1, 3)] = '1', '1'; return b }, ErrLayout},
		{"code 1 (EBCDIC)", func(b []byte) []byte { b[at(1, 4)] = '1'; return b }, ErrLayout},
		{"dummy filled", func(b []byte) []byte { b[at(5, 50)] = 'A'; return b }, ErrLayout},
		{"identification X", func(b []byte) []byte { b[at(3, 113)] = 'X'; return b }, ErrLayout},
		{"amount zero", func(b []byte) []byte { copy(b[at(2, 81):], "0000000000"); return b }, ErrAmount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.change(bytes.Clone(good)))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := Parse(append(bytes.Clone(good), 0x1A)); err != nil {
		t.Fatalf("with an EOF mark: %v", err)
	}
	if _, err := Parse(bytes.TrimSuffix(good, []byte("\r\n"))); err != nil {
		t.Fatalf("without the last CR LF: %v", err)
	}
}

// FuzzParse: Parse never panics, and what it accepts marshals back to
// the same bytes (line ends as the input had them) and parses the same.
func FuzzParse(f *testing.F) {
	for _, o := range []Options{{}, {CRLF: true}} {
		b, err := Marshal(sample(), o)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("1210"))
	f.Add(bytes.Repeat([]byte{' '}, 480))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse(b)
		if err != nil {
			return
		}
		o := Options{CRLF: len(b) > RecordLen+1 && b[RecordLen] == '\r'}
		again, err := Marshal(file, o)
		if err != nil {
			t.Fatalf("parsed but does not marshal: %v", err)
		}
		want := bytes.TrimSuffix(b, []byte{0x1A})
		if o.CRLF && !bytes.HasSuffix(want, []byte("\r\n")) {
			want = append(bytes.Clone(want), '\r', '\n')
		}
		if !bytes.Equal(again, want) {
			t.Fatalf("marshal of the parse differs:\n%q\n%q", again, want)
		}
	})
}

// FuzzKana: what Kana accepts is made only of bytes a field may carry,
// and converting it again changes nothing.
func FuzzKana(f *testing.F) {
	for _, s := range []string{"カガ タロウ", "ｶﾞ", "ヴァ", "ｓｍａｒｔ", "山田", "ー・「」"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := Kana(s)
		if err != nil {
			return
		}
		for _, r := range k {
			if c, ok := runeByte(r); !ok || !allowedByte(c) {
				t.Fatalf("Kana(%q) = %q holds %q", s, k, r)
			}
		}
		if again, err := Kana(k); err != nil || again != k {
			t.Fatalf("Kana(Kana(%q)) = %q, %v; want %q", s, again, err, k)
		}
	})
}

// TestAccountTypeJSON: an account's type travels in JSON as its digit,
// and a type that is none of the four is refused.
func TestAccountTypeJSON(t *testing.T) {
	b, err := json.Marshal(Account{Type: Ordinary})
	if err != nil || !strings.Contains(string(b), `"Type":"1"`) {
		t.Fatalf("marshalled %s, %v", b, err)
	}
	for in, want := range map[string]AccountType{`"1"`: Ordinary, `"2"`: Current, `"4"`: Savings, `"9"`: Other, `"3"`: 0, `"11"`: 0, `1`: 0} {
		var a Account
		err := json.Unmarshal([]byte(`{"Type":`+in+`}`), &a)
		if (err == nil) != (want != 0) || a.Type != want {
			t.Errorf("%s: %q, %v; want %q", in, a.Type, err, want)
		}
	}
}

// FuzzAccountType: whatever text arrives, the type read is one of the
// four, written back as the same text, or refused.
func FuzzAccountType(f *testing.F) {
	for _, s := range []string{"1", "2", "4", "9", "3", "", "11", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var a AccountType
		if err := a.UnmarshalText([]byte(s)); err != nil {
			return
		}
		if a != Ordinary && a != Current && a != Savings && a != Other {
			t.Fatalf("%q read as %q", s, a)
		}
		if b, _ := a.MarshalText(); string(b) != s {
			t.Fatalf("%q written back as %q", s, b)
		}
	})
}
