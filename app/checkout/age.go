package checkout

import (
	"fmt"
	"strconv"
	"time"

	"smartpass.city/smartpass/app/account"
)

// AdultAge is the age for alcohol and tobacco in Japan (二十歳未満ノ者ノ
// 飲酒ノ禁止ニ関スル法律, and the tobacco twin): 20, not the civil 18.
const AdultAge = 20

// AgeFact is what a terminal holds to confirm age without holding the
// birth date: a person already of age is just Adult; a younger one
// carries only the day they come of age (From). The screen shows
// neither: only whether the items may be sold.
type AgeFact struct {
	Adult bool   `json:"adult,omitempty"`
	From  string `json:"from,omitempty"` // YYYY-MM-DD they turn AdultAge; "" when Adult or unknown
}

// AgeFactOf is made where the birth date is known (the server, when it
// builds the facility profile): the birth date (YYYYMMDD) stays there.
// From is the first day on which account.Age reaches AdultAge, so the
// count of a year is the one account.Age keeps (born 2/29: of age on 3/1
// in a common year).
func AgeFactOf(birth string, now time.Time) (AgeFact, error) {
	age, err := account.Age(birth, now)
	if err != nil {
		return AgeFact{}, fmt.Errorf("checkout: %w", err)
	}
	if age >= AdultAge {
		return AgeFact{Adult: true}, nil
	}
	// The birthday AdultAge years on; time.Date carries 2/29 in a
	// common year to 3/1, the day account.Age counts the year.
	y, _ := strconv.Atoi(birth[:4])
	m, _ := strconv.Atoi(birth[4:6])
	d, _ := strconv.Atoi(birth[6:])
	from := time.Date(y+AdultAge, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	return AgeFact{From: from.Format(time.DateOnly)}, nil
}

// OfAge reports whether the person may buy age-restricted items on day
// (in the city's time zone). An unknown age (no fact) is not of age.
func (f AgeFact) OfAge(day time.Time) bool {
	if f.Adult {
		return true
	}
	if f.From == "" {
		return false
	}
	return day.Format(time.DateOnly) >= f.From
}
