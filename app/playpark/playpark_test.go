package playpark

import (
	"testing"
	"time"

	"smartpass.city/smartpass/app/template"
)

func TestBands(t *testing.T) {
	for _, tt := range []struct {
		birth string
		at    string
		want  string
	}{
		{"20200402", "20260331", Preschool}, // turned 6 in April 2026: starts April 2027
		{"20200402", "20270401", Elementary},
		{"20200401", "20260401", Elementary}, // April 1st: a year earlier
		{"20200331", "20260401", Elementary},
		{"20200331", "20260331", Preschool},
		{"20140710", "20270331", Elementary}, // the end of sixth grade
		{"20140710", "20270401", Older},
		{"20260101", "20260102", Preschool},
	} {
		birth, _ := ParseBirth(tt.birth)
		at, _ := ParseBirth(tt.at)
		p := template.Profile{Bands: Bands(birth), Local: true}
		if got := p.BandAt(at.Add(time.Hour)); got != tt.want {
			t.Errorf("born %s, on %s: %s, want %s", tt.birth, tt.at, got, tt.want)
		}
		for _, b := range p.Bands {
			if b.From.Month() != time.April || b.From.Day() != 1 {
				t.Errorf("born %s: a band starts on %s, not a school year", tt.birth, b.From)
			}
		}
	}
}

func TestEligibleAndCount(t *testing.T) {
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, jst)
	b := func(s string) []template.Band { d, _ := ParseBirth(s); return Bands(d) }
	profiles := map[string]template.Profile{
		"kid":     {Resident: "kid", Bands: b("20210505"), Local: true},
		"pupil":   {Resident: "pupil", Bands: b("20170505"), Local: true},
		"visitor": {Resident: "visitor", Bands: b("20170505")},
		"teen":    {Resident: "teen", Bands: b("20110505"), Local: true},
		"father":  {Resident: "father", Bands: b("19800505"), Local: true},
	}
	for id, want := range map[string]bool{"kid": true, "pupil": true, "visitor": false, "teen": false, "father": false} {
		if got := Eligible(profiles[id], now); got != want {
			t.Errorf("Eligible(%s) = %v, want %v", id, got, want)
		}
	}
	c := Count([]string{"kid", "pupil", "kid", "pupil", "pupil", "unknown"}, profiles, now)
	if c[Preschool] != 1 || c[Elementary] != 1 || len(c) != 2 {
		t.Fatalf("Count = %v, want one of each", c)
	}
}

func TestParseBirth(t *testing.T) {
	if _, err := ParseBirth("2020-04-01"); err == nil {
		t.Fatal("a birth date with dashes was read")
	}
}
