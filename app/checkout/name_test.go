package checkout

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestMaskedName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"カガ タロウ", "カ＊ タ＊＊ 様"},
		{"カガ　タロウ", "カ＊ タ＊＊ 様"},
		{"ｶｶﾞ ﾀﾛｳ", "カ＊ タ＊＊ 様"},            // half-width: ｶﾞ is one character
		{"ガクト ヴィ", "ガ＊＊ ヴ＊ 様"},             // a voiced first character shows whole
		{"ｶﾞｸﾄ ｳﾞｨ", "ガ＊＊ ヴ＊ 様"},           // and so when typed half-width
		{"ハ\u309Aン", "パ＊ 様"},               // combining semi-voiced mark
		{"ユ ア", "ユ ア 様"},                   // one-character parts: nothing to hide
		{"ユ", "ユ 様"},                       // one part of one character
		{"Kaga Taro", "K＊＊＊ T＊＊＊ 様"},       // romaji, upper-cased as cards print it
		{"KAGA  TARO ", "K＊＊＊ T＊＊＊ 様"},     // extra spaces
		{"ヤマダ ハナコ ジュニア", "ヤ＊＊ ハ＊＊ ジ＊＊＊ 様"}, // three parts
		{"", "お客 様"},
		{"　 ", "お客 様"},
	}
	for _, tt := range tests {
		if got := MaskedName(tt.in); got != tt.want {
			t.Errorf("MaskedName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAgeFact(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, time.UTC) }
	tests := []struct {
		birth string
		made  time.Time // when the profile was built
		fact  AgeFact
		on    time.Time
		ok    bool
	}{
		{"19800105", day(2026, 4, 1), AgeFact{Adult: true}, day(2026, 4, 1), true},
		{"20060401", day(2026, 4, 1), AgeFact{Adult: true}, day(2026, 4, 1), true}, // the 20th birthday
		{"20060402", day(2026, 4, 1), AgeFact{From: "2026-04-02"}, day(2026, 4, 1), false},
		{"20060402", day(2026, 4, 1), AgeFact{From: "2026-04-02"}, day(2026, 4, 2), true}, // offline, a day later
		{"20080229", day(2026, 4, 1), AgeFact{From: "2028-02-29"}, day(2028, 2, 28), false},
		{"20060229", day(2026, 2, 28), AgeFact{From: "2026-03-01"}, day(2026, 2, 28), false},
		{"20060229", day(2026, 2, 28), AgeFact{From: "2026-03-01"}, day(2026, 3, 1), true},
		{"2006", day(2026, 4, 1), AgeFact{}, day(2026, 4, 1), false},
	}
	for _, tt := range tests {
		fact, err := AgeFactOf(tt.birth, tt.made)
		if tt.fact == (AgeFact{}) {
			if err == nil {
				t.Errorf("AgeFactOf(%q): no error", tt.birth)
			}
			if (AgeFact{}).OfAge(tt.on) {
				t.Errorf("an unknown age is of age")
			}
			continue
		}
		if err != nil || fact != tt.fact {
			t.Errorf("AgeFactOf(%q, %s) = %+v, %v; want %+v", tt.birth, tt.made.Format(time.DateOnly), fact, err, tt.fact)
			continue
		}
		if got := fact.OfAge(tt.on); got != tt.ok {
			t.Errorf("%q of age on %s = %v, want %v", tt.birth, tt.on.Format(time.DateOnly), got, tt.ok)
		}
	}
}

// FuzzMaskedName: whatever the name, the screen shows only each part's
// first character, masks, spaces and 様, one mask per hidden character.
func FuzzMaskedName(f *testing.F) {
	for _, s := range []string{"カガ タロウ", "ｶﾞｸﾄ", "ユ", "Kaga Taro", "", "ﾞﾞ ﾟ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got := MaskedName(name)
		parts := strings.Fields(strings.ReplaceAll(name, "　", " "))
		if len(parts) == 0 {
			if got != "お客 様" {
				t.Fatalf("MaskedName(%q) = %q", name, got)
			}
			return
		}
		shown := strings.Fields(strings.TrimSuffix(got, " 様"))
		if len(shown) != len(parts) {
			t.Fatalf("MaskedName(%q) = %q: %d parts shown, %d in the name", name, got, len(shown), len(parts))
		}
		for i, p := range parts {
			// One character shown (a kana with no voiced form keeps the
			// mark typed after it), then only masks, never more than the
			// characters hidden.
			first, rest, _ := strings.Cut(shown[i], Mask)
			masks := strings.Count(shown[i], Mask)
			n := utf8.RuneCountInString(first)
			voicedMark := strings.HasSuffix(first, "゛") || strings.HasSuffix(first, "゜")
			if (n != 1 && !(n == 2 && voicedMark)) || strings.Trim(rest, Mask) != "" || masks > utf8.RuneCountInString(p)-1 {
				t.Fatalf("MaskedName(%q) part %d = %q", name, i, shown[i])
			}
		}
	})
}
