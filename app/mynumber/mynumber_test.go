package mynumber

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// A number that passes the check digit, and is nobody's (11 digits
// counting up, check digit 8).
const sample = "123456789018"

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{sample, true},
		{"123456789019", false}, // wrong check digit
		{"12345678901", false},
		{"1234567890180", false},
		{"12345678901a", false},
		{"１２３４５６７８９０１８", false}, // full-width digits: typed, not read from the card
		{"000000000000", true},  // r = 0: check digit 0
	} {
		n, err := Parse(tt.in)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("Parse(%q) = %v", tt.in, err)
		}
		if err == nil && n.Reveal() != tt.in {
			t.Errorf("Parse(%q).Reveal() = %q", tt.in, n.Reveal())
		}
	}
	// Every check digit from its eleven digits, the other ten refused.
	for i := range 200 {
		d := fmt.Sprintf("%011d", i*7919)
		c := CheckDigit(d)
		for x := byte(0); x <= 9; x++ {
			_, err := Parse(d + string('0'+x))
			if (x == c) != (err == nil) {
				t.Fatalf("%s%d: %v (check digit %d)", d, x, err, c)
			}
		}
	}
}

// TestNeverPrinted: every way a Number could be printed or encoded by
// mistake shows no digit.
func TestNeverPrinted(t *testing.T) {
	n, _ := Parse(sample)
	for _, s := range []string{fmt.Sprint(n), fmt.Sprintf("%v %+v %#v %s", n, n, n, n), fmt.Errorf("oops: %v", n).Error(), fmt.Sprintf("%v", struct{ N Number }{n})} {
		if strings.Contains(s, "1234") {
			t.Errorf("printed: %s", s)
		}
	}
	if b, err := json.Marshal(struct{ N Number }{n}); err == nil {
		t.Errorf("JSON encoded: %s", b)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{sample, "000000000000", "12345678901x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatal(err)
			}
			return
		}
		if n.Reveal() != s || strings.Contains(fmt.Sprint(n), s[:4]) && s[:4] != "****" {
			t.Fatalf("Parse(%q) = %v", s, n)
		}
	})
}
