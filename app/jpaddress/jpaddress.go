// Package jpaddress splits a Japanese address, as the My Number Card's
// certificate holds it (one line of full-width text, prefecture first),
// into its prefecture and municipality: the unit that levies resident
// tax, so the one that may not give its own residents a hometown-tax gift
// and the one a one-stop application is forwarded to.
//
// It works from the address's own suffixes (都道府県, 郡, 市区町村) and a
// short list of the municipalities whose names hold one of those
// characters inside (四日市市, 町田市, 郡山市, ...), not from a copy of the
// national list of 1,741 municipalities: the list changes with mergers
// and is not in the package registries. A designated city's ward is part
// of the city (the city levies the tax); Tokyo's special wards are
// municipalities of their own.
package jpaddress

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrUnparsed is wrapped by Parse when an address names no prefecture or
// no municipality: the caller says so in words and asks a person.
var ErrUnparsed = errors.New("jpaddress: the address names no prefecture and municipality")

// Place is where an address is: its prefecture and municipality, as
// written in the address (石川県, 加賀市).
type Place struct {
	Prefecture   string
	Municipality string
}

// String is the two parts together, as they begin the address.
func (p Place) String() string { return p.Prefecture + p.Municipality }

// Parse returns the place an address is in. Spaces (half- and
// full-width) between the parts are ignored.
func Parse(address string) (Place, error) {
	a := strings.NewReplacer(" ", "", "　", "").Replace(strings.TrimSpace(address))
	pref := prefecture(a)
	if pref == "" {
		return Place{}, fmt.Errorf("%w: no prefecture at the start of %q", ErrUnparsed, address)
	}
	rest := a[len(pref):]
	m := municipality(pref, rest)
	if m == "" {
		return Place{}, fmt.Errorf("%w: no city, ward, town or village after %s in %q", ErrUnparsed, pref, address)
	}
	return Place{Prefecture: pref, Municipality: m}, nil
}

// prefecture returns the prefecture that starts a, or "".
func prefecture(a string) string {
	if strings.HasPrefix(a, "北海道") {
		return "北海道"
	}
	// Every other prefecture is two or three characters and 都, 府 or
	// 県 (神奈川県, 和歌山県, 鹿児島県 are the three-character ones).
	for i, n := 0, 0; i < len(a) && n < 4; n++ {
		r, size := utf8.DecodeRuneInString(a[i:])
		i += size
		if (r == '都' || r == '府' || r == '県') && n >= 2 {
			return a[:i]
		}
	}
	return ""
}

// inner are municipalities whose names hold 市, 区, 町, 村 or 郡 before
// their own suffix, where the first such character would cut the name
// short.
var inner = []string{
	"四日市市", "廿日市市", "市川市", "市原市", "野々市市", "市貝町",
	"町田市", "大町市", "十日町市",
	"村山市", "東村山市", "武蔵村山市", "羽村市", "村上市", "大村市", "田村市",
	"郡山市", "郡上市", "小郡市",
}

// innerDistricts are districts whose names hold 市 or 村, which the rule
// for districts (no such character before 郡) would miss.
var innerDistricts = []string{"余市郡", "高市郡", "北村山郡", "西村山郡", "東村山郡"}

// municipality returns the municipality that starts rest (after the
// prefecture pref), or "".
func municipality(pref, rest string) string {
	for _, m := range inner {
		if strings.HasPrefix(rest, m) {
			return m
		}
	}
	// A town or village in a district: 能美郡川北町. The district is not
	// the municipality; the town after it is. A 郡 after a city's name
	// (岡山市北区郡) is a place in the city, and 郡 before 市 names a
	// city (小郡市, in inner).
	district := -1
	for _, d := range innerDistricts {
		if strings.HasPrefix(rest, d) {
			district = len(d) - len("郡")
		}
	}
	if i := strings.Index(rest, "郡"); district < 0 && i > 0 && !strings.ContainsAny(rest[:i], "市区町村") {
		district = i
	}
	if district >= 0 {
		after := rest[district+len("郡"):]
		if j := strings.IndexAny(after, "町村"); j > 0 {
			return after[:j+len("町")]
		}
		return ""
	}
	// Tokyo's special wards are municipalities: 東京都千代田区.
	if pref == "東京都" {
		if i := strings.Index(rest, "区"); i > 0 && !strings.Contains(rest[:i], "市") {
			return rest[:i+len("区")]
		}
	}
	// A city (a designated city's ward belongs to it), or a town or
	// village with no district (東京都大島町): the first suffix.
	if i := strings.IndexAny(rest, "市町村"); i > 0 {
		return rest[:i+len("市")]
	}
	return ""
}
