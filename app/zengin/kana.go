package zengin

import (
	"fmt"
	"strings"
)

// The bytes a C (character) field may hold, in JIS X 0201 as the file
// carries them (コード区分 0): digits, capital letters, the space, the
// symbols ( ) - . / ¥ 「 」 and the large half-width katakana with the
// voiced marks ﾞ ﾟ. This is the set the 全銀協 rules give for names
// (the banks' manuals list it as 半角カナ大文字・英大文字・数字・
// スペース・()-./「」¥ and ﾞﾟ); small kana (ｧ…ｯ), ｦ, the long-vowel
// mark ｰ and the comma are left out because banks refuse them in names.
func allowedByte(b byte) bool {
	switch {
	case b >= '0' && b <= '9', b >= 'A' && b <= 'Z':
		return true
	case strings.IndexByte(" ()-./\\", b) >= 0: // 0x5C is ¥ in JIS X 0201
		return true
	case b == 0xA2 || b == 0xA3: // ｢ ｣
		return true
	case b >= 0xB1 && b <= 0xDF: // ｱ … ﾝ ﾞ ﾟ
		return true
	}
	return false
}

// byteRune is the character a byte of the file stands for: ASCII as it
// is except 0x5C, which JIS X 0201 reads as ¥, and 0xA1–0xDF the
// half-width katakana block U+FF61–U+FF9F.
func byteRune(b byte) rune {
	switch {
	case b == 0x5C:
		return '¥'
	case b >= 0xA1 && b <= 0xDF:
		return rune(b-0xA1) + 0xFF61
	}
	return rune(b)
}

// runeByte is byteRune's inverse for the characters the file can carry.
func runeByte(r rune) (byte, bool) {
	switch {
	case r == '¥' || r == '\\':
		return 0x5C, true
	case r >= 0x20 && r < 0x7F:
		return byte(r), true
	case r >= 0xFF61 && r <= 0xFF9F:
		return byte(r-0xFF61) + 0xA1, true
	}
	return 0, false
}

// fullKana maps full-width katakana to half-width, the voiced ones split
// into the base and ﾞ or ﾟ as JIS X 0201 has no precomposed forms. Small
// kana map to their large forms (ッ→ﾂ, ャ→ﾔ) as banks register names:
// キュウヨ is held as ｷﾕｳﾖ. ヲ is held as ｵ, ヰ ヱ as ｲ ｴ, for the same reason.
var fullKana = func() map[rune]string {
	m := make(map[rune]string)
	rows := []struct{ full, half string }{
		{"アイウエオ", "ｱｲｳｴｵ"}, {"ァィゥェォ", "ｱｲｳｴｵ"},
		{"カキクケコ", "ｶｷｸｹｺ"}, {"ガギグゲゴ", "ｶｷｸｹｺ"},
		{"サシスセソ", "ｻｼｽｾｿ"}, {"ザジズゼゾ", "ｻｼｽｾｿ"},
		{"タチツテト", "ﾀﾁﾂﾃﾄ"}, {"ダヂヅデド", "ﾀﾁﾂﾃﾄ"}, {"ッ", "ﾂ"},
		{"ナニヌネノ", "ﾅﾆﾇﾈﾉ"},
		{"ハヒフヘホ", "ﾊﾋﾌﾍﾎ"}, {"バビブベボ", "ﾊﾋﾌﾍﾎ"}, {"パピプペポ", "ﾊﾋﾌﾍﾎ"},
		{"マミムメモ", "ﾏﾐﾑﾒﾓ"},
		{"ヤユヨ", "ﾔﾕﾖ"}, {"ャュョ", "ﾔﾕﾖ"},
		{"ラリルレロ", "ﾗﾘﾙﾚﾛ"},
		{"ワヲン", "ﾜｵﾝ"}, {"ヮヰヱ", "ﾜｲｴ"}, {"ヵヶ", "ｶｹ"}, {"ヴ", "ｳ"},
	}
	for _, row := range rows {
		full, half := []rune(row.full), []rune(row.half)
		for i, r := range full {
			m[r] = string(half[i])
		}
	}
	for _, r := range "ガギグゲゴザジズゼゾダヂヅデドバビブベボヴ" {
		m[r] += "ﾞ"
	}
	for _, r := range "パピプペポ" {
		m[r] += "ﾟ"
	}
	// Half-width forms that are not allowed but have an allowed twin.
	for from, to := range map[rune]string{'ｧ': "ｱ", 'ｨ': "ｲ", 'ｩ': "ｳ", 'ｪ': "ｴ", 'ｫ': "ｵ", 'ｯ': "ﾂ", 'ｬ': "ﾔ", 'ｭ': "ﾕ", 'ｮ': "ﾖ", 'ｦ': "ｵ", 'ｰ': "-", '･': ".", '｡': "."} {
		m[from] = to
	}
	// Marks and punctuation people type in a name.
	for from, to := range map[rune]string{'ー': "-", '－': "-", '−': "-", '‐': "-", '・': ".", '。': ".", '　': " ", '「': "｢", '」': "｣", '（': "(", '）': ")", '゛': "ﾞ", '゜': "ﾟ", '￥': "¥"} {
		m[from] = to
	}
	return m
}()

// CharError is a character a field cannot carry, with its place (1 for
// the first character) so the person fixing it finds it.
type CharError struct {
	Rune rune
	Pos  int
}

// Error names the character and its place.
func (e *CharError) Error() string {
	return fmt.Sprintf("%q (character %d) cannot go in a bank transfer file", e.Rune, e.Pos)
}

// Unwrap lets errors.Is(err, ErrCharacter) find it.
func (e *CharError) Unwrap() error { return ErrCharacter }

// Kana returns s as a C field carries it: half-width katakana (voiced
// marks split), capital letters, digits and the allowed symbols.
// Hiragana and full-width katakana, full-width letters and digits and
// lower case are converted; anything else (kanji, a comma, an emoji) is
// refused with a *CharError rather than dropped, since a name changed
// silently sends money to nobody.
func Kana(s string) (string, error) {
	var b strings.Builder
	pos := 0
	for _, r := range s {
		pos++
		switch {
		case r >= 'ぁ' && r <= 'ゖ':
			r += 'ァ' - 'ぁ' // hiragana to katakana, then on as katakana
		case r >= '！' && r <= '～':
			r -= '！' - '!' // full-width ASCII
		}
		if r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		if to, ok := fullKana[r]; ok {
			b.WriteString(to)
			continue
		}
		if c, ok := runeByte(r); ok && allowedByte(c) {
			b.WriteRune(r)
			continue
		}
		return "", &CharError{Rune: r, Pos: pos}
	}
	return b.String(), nil
}
