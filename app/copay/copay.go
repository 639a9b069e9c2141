// Package copay computes a patient's share of a hospital bill (窓口負担):
// the insurance share by age and income class, a city's child medical
// subsidy as a separate payer, and the yen rounding the law sets. The
// hospital's accounting posts the points; the class comes from the
// staff's qualification check (the pass never asks the national system);
// this package only does the arithmetic, the same on every device.
//
// The rules (健康保険法 §74 and §75, 国民健康保険法 §42 and §42-2, 高齢者
// の医療の確保に関する法律 §67):
//   - until the first 31 March on or after the day the child reaches 6
//     (未就学): 2割;
//   - then until the end of the month in which they reach 70: 3割;
//   - from the next month until the day before their 75th birthday: 2割,
//     3割 with current-level income (現役並み所得);
//   - from the 75th birthday (後期高齢者医療): 1割, 2割 (一定以上所得) or
//     3割 (現役並み所得).
//
// A person "reaches" an age on the day before the birthday (年齢計算ニ関
// スル法律), which is why a child born on 1 April starts school a year
// before one born on 2 April, and the same day decides the 70 boundary.
//
// Rounding: the share is rounded to ¥10, an odd amount under ¥5 down and
// from ¥5 up (健康保険法 §75: 五円未満の端数は切り捨て、五円以上十円未満の
// 端数は十円に切り上げ), once per bill, as the window charges it.
package copay

import (
	"errors"
	"fmt"
	"time"
)

// YenPerPoint is the value of one point of the national fee schedule.
const YenPerPoint = 10

// Income is the patient's income class, as staff set it from the
// qualification check.
type Income int

// The classes.
const (
	// General is 一般 (and 低所得): 2割 at 70–74, 1割 from 75.
	General Income = iota
	// Upper is 一定以上所得 from 75 (2割); at 70–74 it counts as General.
	Upper
	// Active is 現役並み所得: 3割 from 70.
	Active
)

// String names the class as the qualification check does.
func (c Income) String() string {
	switch c {
	case General:
		return "一般"
	case Upper:
		return "一定以上所得"
	case Active:
		return "現役並み所得"
	}
	return fmt.Sprintf("Income(%d)", int(c))
}

// ErrInvalid is wrapped by every refusal of this package.
var ErrInvalid = errors.New("copay: invalid")

// Bracket names why a rate applies, for the receipt.
type Bracket string

// The brackets.
const (
	Preschool Bracket = "未就学"
	Working   Bracket = "70歳未満"
	Senior    Bracket = "70〜74歳"
	Elder     Bracket = "75歳以上"
)

// Rate is the share in tenths (割) a patient born on birth pays on day
// on, and the bracket that decides it.
func Rate(birth, on time.Time, c Income) (tenths int, b Bracket, err error) {
	birth, on = dateOf(birth), dateOf(on)
	switch {
	case c < General || c > Active:
		return 0, "", fmt.Errorf("%w: income class %d", ErrInvalid, int(c))
	case birth.IsZero() || on.Before(birth):
		return 0, "", fmt.Errorf("%w: born %s, treated %s", ErrInvalid, birth.Format(time.DateOnly), on.Format(time.DateOnly))
	case !on.After(SchoolYearEnd(birth, 6)):
		return 2, Preschool, nil
	case on.Before(monthAfter(Reaches(birth, 70))):
		return 3, Working, nil
	case on.Before(birthday(birth, 75)):
		if c == Active {
			return 3, Senior, nil
		}
		return 2, Senior, nil
	}
	return [...]int{General: 1, Upper: 2, Active: 3}[c], Elder, nil
}

// Reaches is the day a person born on birth reaches age n: the day
// before the birthday (for 29 February, 28 February in other years).
func Reaches(birth time.Time, n int) time.Time {
	return birthday(birth, n).AddDate(0, 0, -1)
}

// birthday is the nth birthday (1 March for 29 February in other years).
func birthday(birth time.Time, n int) time.Time { return dateOf(birth).AddDate(n, 0, 0) }

// SchoolYearEnd is the first 31 March on or after the day a person
// reaches age n: for n = 6, the end of pre-school; for 12, of elementary
// school; for 15, of junior high; for 18, of the year a high-school
// student finishes.
func SchoolYearEnd(birth time.Time, n int) time.Time {
	r := Reaches(birth, n)
	end := time.Date(r.Year(), time.March, 31, 0, 0, 0, 0, time.UTC)
	if r.After(end) {
		end = end.AddDate(1, 0, 0)
	}
	return end
}

// monthAfter is the first day of the month after t's.
func monthAfter(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
}

// dateOf is t's calendar date, at midnight UTC: the rules are about
// days, and Japan has one time zone.
func dateOf(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// Round rounds a share to ¥10: under ¥5 down, from ¥5 up.
func Round(yen int64) int64 {
	if r := yen % 10; r < 5 {
		return yen - r
	}
	return yen - yen%10 + 10
}
