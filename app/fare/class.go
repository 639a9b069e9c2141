package fare

import "time"

// Class is a rider's fare class by age.
type Class string

// The classes. 大人 from junior-high school; 小児 elementary school; 幼児
// from InfantUnder years to school; 乳児 below.
const (
	Adult     Class = "adult"
	Child     Class = "child"
	Preschool Class = "preschool"
	Infant    Class = "infant"
)

// JA returns the class's name as Japanese fare tables print it.
func (c Class) JA() string {
	switch c {
	case Adult:
		return "大人"
	case Child:
		return "小児"
	case Preschool:
		return "幼児"
	case Infant:
		return "乳児"
	}
	return string(c)
}

// SchoolStart returns the April 1st on which a child born on birth
// starts elementary school: after the sixth birthday, where the School
// Education Act counts a person a year older from the day before their
// birthday, so a child born on April 1st turns six on March 31st and
// starts a year before one born on April 2nd.
func SchoolStart(birth time.Time) time.Time {
	b := birth.In(JST)
	year := b.Year() + 7
	if b.Month() < time.April || (b.Month() == time.April && b.Day() == 1) {
		year--
	}
	return time.Date(year, time.April, 1, 0, 0, 0, 0, JST)
}

// Age returns the age in whole years on day of someone born on birth
// (a birthday on February 29th counts from March 1st in other years).
func Age(birth, day time.Time) int {
	b, d := birth.In(JST), day.In(JST)
	age := d.Year() - b.Year()
	if d.Month() < b.Month() || (d.Month() == b.Month() && d.Day() < b.Day()) {
		age--
	}
	return age
}

// ClassOn returns the class on day of a rider born on birth: by school
// year for 小児 and 大人 (the class changes on April 1st, not on the
// birthday), by age for 乳児.
func (r Rules) ClassOn(birth, day time.Time) Class {
	start := SchoolStart(birth)
	switch {
	case !day.Before(start.AddDate(6, 0, 0)):
		return Adult
	case !day.Before(start):
		return Child
	case Age(birth, day) >= r.InfantUnder:
		return Preschool
	}
	return Infant
}
