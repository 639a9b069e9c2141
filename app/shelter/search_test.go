package shelter

import "testing"

func TestFoldKana(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"かとう", "カトウ"},
		{"カドウ", "カトウ"},
		{"ｶﾞﾄｳ", "カトウ"},
		{"キョウコ", "キヨウコ"},
		{"ジュンペイ", "シユンヘイ"},
		{"ヤマダ　タロウ", "ヤマタタロウ"},
		{"サトー", "サト"},
		{"ヴィ", "ウイ"},
		{"ボブ", "ホフ"},
		{"ヅヂ", "ツチ"},
		{"ッ", "ツ"},
	} {
		if got := FoldKana(tt.in); got != tt.want {
			t.Errorf("FoldKana(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMatches(t *testing.T) {
	e := Evacuee{Kana: "カガ\u3000トメ", Name: "加賀　とめ", BirthYear: 1940}
	for _, tt := range []struct {
		q    string
		want bool
	}{
		{"かが", true},
		{"ｶｶﾞ ﾄﾒ", true},
		{"かかとめ", true},   // voicing not heard
		{"かがとみ", true},   // one sound misheard
		{"かがとみこ", false}, // two apart
		{"とめ", true},     // the given name alone
		{"やまだ", false},
		{"加賀", true},
		{"加賀 とめ", true}, // spaces aside
		{"山田", false},
		{"", false},
		{"　", false},
	} {
		if got := Matches(tt.q, e); got != tt.want {
			t.Errorf("Matches(%q) = %v, want %v", tt.q, got, tt.want)
		}
	}
}
