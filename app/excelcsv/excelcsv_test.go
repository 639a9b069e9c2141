package excelcsv

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
)

func TestCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"山田 太郎", "山田 太郎"},
		{"1950", "1950"},
		{"-5", "-5"},
		{"+3.5", "+3.5"},
		{"a=b", "a=b"},
		{`=HYPERLINK("http://x","y")`, `'=HYPERLINK("http://x","y")`},
		{"@SUM(A1:A9)", "'@SUM(A1:A9)"},
		{"+1+1", "'+1+1"},
		{"-1+2", "'-1+2"},
		{"-Inf", "'-Inf"},
		{"+NaN", "'+NaN"},
		{"-1e5", "'-1e5"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"＝1+1", "'＝1+1"},
	}
	for _, tt := range tests {
		if got := Cell(tt.in); got != tt.want {
			t.Errorf("Cell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWrite(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, [][]string{{"名前", "生年"}, {"=cmd|' /C calc'!A0", "-20"}}); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b.Bytes(), bom) || !strings.Contains(b.String(), "\r\n") {
		t.Fatalf("no BOM or CRLF: %q", b.String())
	}
	rows, err := csv.NewReader(bytes.NewReader(b.Bytes()[len(bom):])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if rows[1][0] != "'=cmd|' /C calc'!A0" || rows[1][1] != "-20" {
		t.Fatalf("rows = %q", rows)
	}
}

// FuzzCell: no cell comes out starting a formula unless it is a number.
func FuzzCell(f *testing.F) {
	for _, s := range []string{"=1", "-1", "@x", "abc", "+1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Cell(s)
		if out != s && out != "'"+s {
			t.Fatalf("Cell(%q) = %q changed the text", s, out)
		}
		if out == s && s != "" && strings.ContainsRune(formulaStarts, []rune(s)[0]) && strings.ContainsAny(s, "()!:=&|\"") {
			t.Fatalf("Cell(%q) left a formula", s)
		}
	})
}
