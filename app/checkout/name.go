package checkout

import (
	"strings"
	"unicode/utf8"
)

// Mask is the character that hides the rest of each part of a name.
const Mask = "＊"

// halfKana and fullKana are JIS X 0201's half-width katakana block
// (U+FF61–U+FF9D) and the full-width characters they stand for, in the
// same order, so a reading stored half-width is masked as people read it.
const (
	halfKana = "｡｢｣､･ｦｧｨｩｪｫｬｭｮｯｰｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜﾝ"
	fullKana = "。「」、・ヲァィゥェォャュョッーアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン"
)

var widen = func() map[rune]rune {
	m := make(map[rune]rune)
	full := []rune(fullKana)
	for i, r := range []rune(halfKana) {
		m[r] = full[i]
	}
	return m
}()

// characters splits a name's part into the characters a person counts:
// half-width kana widened, a voiced mark (ﾞ ﾟ, or the combining ones)
// joined to the kana before it, so ｶﾞ and ガ are both one character.
func characters(s string) []string {
	var out []string
	for _, r := range s {
		step := rune(0)
		switch r {
		case 'ﾞ', '\u3099', '゛':
			step, r = 1, '゛'
		case 'ﾟ', '\u309A', '゜':
			step, r = 2, '゜'
		}
		if n := len(out); step > 0 && n > 0 && isKana(out[n-1]) {
			out[n-1] = voiced(out[n-1], step)
			continue
		}
		if w, ok := widen[r]; ok {
			r = w
		}
		out = append(out, string(r))
	}
	return out
}

// isKana reports whether c is a single katakana, which a voiced mark
// after it joins; after anything else (a mark, a letter) the mark is a
// character of its own.
func isKana(c string) bool {
	r, size := utf8.DecodeRuneInString(c)
	return size == len(c) && r >= 'ァ' && r <= 'ヺ'
}

// voiced returns kana with its voiced (step 1) or semi-voiced (step 2)
// form, which Unicode keeps right after the plain one (カ ガ, ハ バ パ);
// ウ゛ is ヴ. A kana with no such form keeps the mark as it was typed.
func voiced(kana string, step rune) string {
	r, _ := utf8.DecodeRuneInString(kana)
	switch {
	case r == 'ウ' && step == 1:
		return "ヴ"
	case step == 1 && (strings.ContainsRune("カキクケコサシスセソタチツテト", r) || strings.ContainsRune("ハヒフヘホ", r)):
		return string(r + 1)
	case step == 2 && strings.ContainsRune("ハヒフヘホ", r):
		return string(r + 2)
	}
	if step == 1 {
		return kana + "゛"
	}
	return kana + "゜"
}

// MaskedName is what the payer is shown of whose wallet is about to pay:
// each part of the name (split at spaces, half- or full-width) as its
// first character and one ＊ for each character after it, then 様.
// カガ タロウ is shown カ＊ タ＊＊ 様; a one-character part shows as it is
// (ユ 様), since there is nothing to hide and a ＊ would read as a second
// letter. Romaji works the same and is upper-cased as cards print it
// (KAGA TARO → K＊＊＊ T＊＊＊ 様). The count of ＊ is kept so the payer
// recognises the shape of their own name; the letters after the first
// are what a person behind them in the queue must not read.
// An empty name shows as お客 様 (customer), never as nothing: the
// screen must always say that someone's wallet pays.
func MaskedName(name string) string {
	parts := strings.Fields(strings.ReplaceAll(name, "　", " "))
	if len(parts) == 0 {
		return "お客 様"
	}
	out := make([]string, len(parts))
	for i, p := range parts {
		cs := characters(strings.ToUpper(p))
		out[i] = cs[0] + strings.Repeat(Mask, len(cs)-1)
	}
	return strings.Join(out, " ") + " 様"
}
