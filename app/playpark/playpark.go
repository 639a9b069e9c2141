// Package playpark is the children's play park's rule and its report:
// resident children before and during elementary school enter free. The
// park's terminal learns only a child's age band and whether they live in
// the city (template.Profile), never a name, an address or a birth date,
// and reports the day's entries by band.
package playpark

import (
	"fmt"
	"time"

	"smartpass.city/smartpass/app/template"
)

// Age bands.
const (
	Preschool  = "preschool"  // 未就学児
	Elementary = "elementary" // 小学生
	Older      = "older"      // 中学生以上: not free
)

// Bands returns the bands of a child born on birth, from the school
// years: elementary school starts on the April 1st after the sixth
// birthday (a child born on April 1st starts a year earlier, as the
// School Education Act counts ages), and lasts six years. The dates
// given away are school-year starts, which say no more than the band.
func Bands(birth time.Time) []template.Band {
	start := birth.Year() + 7
	if birth.Month() < time.April || (birth.Month() == time.April && birth.Day() == 1) {
		start--
	}
	april := func(year int) time.Time { return time.Date(year, time.April, 1, 0, 0, 0, 0, jst) }
	return []template.Band{
		{Band: Preschool, From: april(birth.Year() - 1)}, // from before birth: no birth date
		{Band: Elementary, From: april(start)},
		{Band: Older, From: april(start + 6)},
	}
}

// jst is Japan's time: school years start at midnight there.
var jst = time.FixedZone("JST", 9*60*60)

// Eligible reports whether the profile's holder enters free at now: a
// child of the city before or during elementary school.
func Eligible(p template.Profile, now time.Time) bool {
	b := p.BandAt(now)
	return p.Local && (b == Preschool || b == Elementary)
}

// ParseBirth reads a card's birth date (YYYYMMDD).
func ParseBirth(s string) (time.Time, error) {
	t, err := time.ParseInLocation("20060102", s, jst)
	if err != nil {
		return time.Time{}, fmt.Errorf("playpark: birth date %q: %w", s, err)
	}
	return t, nil
}

// Counts are a day's entries by band, each child once.
type Counts map[string]int

// Count tallies the residents admitted (by id, any order, repeats
// allowed) by their band at now.
func Count(admitted []string, profiles map[string]template.Profile, now time.Time) Counts {
	c := Counts{}
	seen := map[string]bool{}
	for _, id := range admitted {
		if seen[id] {
			continue
		}
		seen[id] = true
		if b := profiles[id].BandAt(now); b != "" {
			c[b]++
		}
	}
	return c
}
