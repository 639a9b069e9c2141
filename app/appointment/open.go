package appointment

import (
	"cmp"
	"slices"
	"time"

	"smartpass.city/smartpass/app/hospital"
)

// Open is a slot as the account page offers it: when, how long, and how
// many places are left.
type Open struct {
	Department string    `json:"department"`
	Start      time.Time `json:"start"`
	Minutes    int       `json:"minutes"`
	Free       int       `json:"free"`
}

// Offer lists hosp's department's slots a resident can book at now:
// those starting after now and before now+within, with their free
// places, soonest first. A full slot is listed with Free 0, so the page
// can say it is full rather than hide it.
func (b *Book) Offer(hosp, dept string, now time.Time, within time.Duration) []Open {
	var out []Open
	for _, day := range b.Days[hosp][dept] {
		for _, s := range day.Slots {
			if !s.Start.After(now) || !s.Start.Before(now.Add(within)) {
				continue
			}
			n, _ := b.taken(hosp, dept, s.Start, "")
			out = append(out, Open{Department: dept, Start: s.Start, Minutes: s.Minutes, Free: max(s.Capacity-n, 0)})
		}
	}
	slices.SortFunc(out, func(a, b Open) int { return a.Start.Compare(b.Start) })
	return out
}

// Departments lists the departments of hosp that publish a day
// ending after now, in hospital.Departments' order: those the account
// page offers to book.
func (b *Book) Departments(hosp string, now time.Time) []string {
	var out []string
	for dept, days := range b.Days[hosp] {
		for _, d := range days {
			if len(d.Slots) > 0 && d.Slots[len(d.Slots)-1].Start.After(now) {
				out = append(out, dept)
				break
			}
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		return cmp.Compare(slices.Index(hospital.Departments, a), slices.Index(hospital.Departments, b))
	})
	return out
}
