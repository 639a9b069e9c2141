package cardphoto

import "testing"

// TestBirthYear: the card-face data's birth date, as cards print it.
func TestBirthYear(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"19500101", 1950},
		{"319800401", 1980}, // EYYYYMMDD: the era digit first
		{"", 0},
		{"1950010", 0},
		{"ABCD0101", 0},
		{"01230101", 0}, // no card holder was born in year 123
	} {
		if got := birthYear(tc.in); got != tc.want {
			t.Errorf("birthYear(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// FuzzBirthYear: the field is the card's bytes; any of them gives a
// year of the Gregorian calendar's range or none, never a panic.
func FuzzBirthYear(f *testing.F) {
	for _, s := range []string{"19500101", "319800401", "", "-1230101"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if y := birthYear(s); y != 0 && (y < 1850 || y > 9999) {
			t.Fatalf("birthYear(%q) = %d", s, y)
		}
	})
}
