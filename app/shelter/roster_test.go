package shelter

import (
	"bytes"
	"encoding/csv"
	"reflect"
	"strings"
	"testing"
)

func TestWriteRoster(t *testing.T) {
	people := []Evacuee{
		{ID: "tab-1.1", Kana: "ヤマダ\u3000タロウ", Name: "山田 太郎", BirthYear: 1950},
		{ID: "tab-1.2", Kana: "スズキ", Name: "鈴木, \"花子\"", BirthYear: 1988, Sex: "2", Area: "大聖寺", Household: "H-1",
			Status: StatusOut, Stay: StayCar, Location: "体育館 A-12", Needs: []string{"dialysis", "mobility"},
			Allergies: "そば", Medication: "降圧剤", Pets: "犬1匹", Disclose: true}, // a comma and quotes survive
		{ID: "tab-1.3", Kana: "ア", Name: `=HYPERLINK("http://x","y")`, BirthYear: 2001, Location: "@SUM(A1:A9)", Allergies: "-1+2"}, // formulas are text
	}
	var b bytes.Buffer
	if err := WriteRoster(&b, people, func(string) string { return "大聖寺地区会館" }, "ja"); err != nil {
		t.Fatal(err)
	}
	raw := b.Bytes()
	if !bytes.HasPrefix(raw, []byte{0xEF, 0xBB, 0xBF}) {
		t.Fatal("no UTF-8 byte-order mark: Excel would garble the Japanese")
	}
	if !strings.Contains(string(raw), "\r\n") {
		t.Fatal("lines do not end in CRLF")
	}
	rows, err := csv.NewReader(bytes.NewReader(raw[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"ふりがな", "氏名", "生年", "性別", "地区", "世帯", "状態", "滞在場所", "避難所内の場所", "要配慮", "アレルギー", "服薬", "ペット", "安否情報の開示", "避難所", "記録ID"},
		{"ヤマダ\u3000タロウ", "山田 太郎", "1950", "", "", "", "在所", "避難所", "", "", "", "", "", "不同意", "大聖寺地区会館", "tab-1.1"},
		{"スズキ", "鈴木, \"花子\"", "1988", "女", "大聖寺", "H-1", "一時外出", "車中", "体育館 A-12", "透析・移動の介助", "そば", "降圧剤", "犬1匹", "同意", "大聖寺地区会館", "tab-1.2"},
		{"ア", `'=HYPERLINK("http://x","y")`, "2001", "", "", "", "在所", "避難所", "'@SUM(A1:A9)", "", "'-1+2", "", "", "不同意", "大聖寺地区会館", "tab-1.3"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("roster = %q\nwant %q", rows, want)
	}
}
