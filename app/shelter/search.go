package shelter

import (
	"strings"
	"unicode"
)

// FoldKana reduces a reading to what people hear alike, for searching:
// katakana (hiragana and half-width folded as NormalizeKana does), no
// spaces, dots or long-vowel marks, small kana as large (ャ→ヤ), voiced
// as unvoiced (ガ→カ, パ→ハ). An inquirer on the phone says "かとう" for
// カトウ and カドウ alike; staff type ｶﾄｳ on a half-width keyboard.
func FoldKana(s string) string {
	var b strings.Builder
	for _, r := range NormalizeKana(s) {
		switch {
		case r == '\u3000' || r == '・' || r == 'ー' || unicode.IsSpace(r):
			continue
		case r == 'ヴ':
			r = 'ウ'
		case strings.ContainsRune("ァィゥェォッャュョヮヵヶ", r):
			r = []rune("アイウエオツヤユヨワカケ")[strings.IndexRune("ァィゥェォッャュョヮヵヶ", r)/3]
		case r >= 'カ' && r <= 'ド' && isVoiced(r):
			r--
		case r >= 'ハ' && r <= 'ポ' && (r-'ハ')%3 != 0:
			r -= (r - 'ハ') % 3
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isVoiced reports whether r, in カ..ド, is a voiced kana (ガ, ザ, ダ, ...).
// Between カ and チ voiced kana follow each unvoiced one; from ッ the small
// tsu shifts the pattern by one.
func isVoiced(r rune) bool {
	if r <= 'ヂ' {
		return (r-'カ')%2 == 1
	}
	return r == 'ヅ' || r == 'デ' || r == 'ド'
}

// foldText is a name as typed, for a kanji search: full-width letters and
// digits as ASCII, no spaces.
func foldText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			continue
		case r >= '！' && r <= '～':
			r -= '！' - '!'
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// Matches reports whether a search for q finds e: a reading (in any kana,
// any width) found in e's reading, or within one sound of it; or the
// written name containing q, spaces and widths aside.
func Matches(q string, e Evacuee) bool {
	if strings.TrimSpace(q) == "" {
		return false
	}
	if isKana(NormalizeKana(q)) {
		fq, fk := FoldKana(q), FoldKana(e.Kana)
		if fq == "" {
			return false
		}
		return strings.Contains(fk, fq) || (len([]rune(fq)) >= 3 && within1(fk, fq))
	}
	return e.Name != "" && strings.Contains(foldText(e.Name), foldText(q))
}

// within1 reports whether a and b differ by at most one kana inserted,
// deleted or replaced: a misheard sound.
func within1(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	if len(ra) < len(rb) {
		ra, rb = rb, ra
	}
	if len(ra)-len(rb) > 1 {
		return false
	}
	i, j, diff := 0, 0, 0
	for i < len(ra) && j < len(rb) {
		if ra[i] == rb[j] {
			i, j = i+1, j+1
			continue
		}
		if diff++; diff > 1 {
			return false
		}
		if len(ra) == len(rb) {
			j++
		}
		i++
	}
	return diff+(len(ra)-i) <= 1
}
