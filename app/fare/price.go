package fare

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"
)

// Rider is what the vehicle knows of a rider to price their rides: the
// birth date (the class is computed from it on the day of travel, and
// never shown), until when a disability handbook checked at the city
// desk holds, and their commuter passes.
type Rider struct {
	Birth time.Time
	// DisabilityUntil is the last day the handbook attribute holds;
	// zero for none.
	DisabilityUntil time.Time
	Passes          []Pass
}

// Pass is a commuter pass (定期券): for one operator, from From to Until
// (days YYYY-MM-DD, both included), on its Routes or between any of its
// Zones, bought for a class. A ride it covers is free.
type Pass struct {
	ID       string   `json:"id"`
	Operator string   `json:"operator"`
	From     string   `json:"from"`
	Until    string   `json:"until"`
	Routes   []string `json:"routes,omitempty"`
	Zones    []string `json:"zones,omitempty"`
	Class    Class    `json:"class"`
}

// Covers reports whether p makes ride on day free: in its period, and on
// one of its routes or with both ends in its zones (a ride that leaves
// the pass's zones pays its whole fare: there is no settling of the
// difference, 乗り越し精算, yet).
func (p Pass) Covers(operator string, ride Ride, day time.Time) bool {
	d := day.In(JST).Format(time.DateOnly)
	if p.Operator != operator || d < p.From || d > p.Until {
		return false
	}
	if slices.Contains(p.Routes, ride.Route) {
		return true
	}
	return ride.BoardZone != "" && slices.Contains(p.Zones, ride.BoardZone) && slices.Contains(p.Zones, ride.endZone())
}

// Ride is one rider's ride as the vehicle recorded it.
type Ride struct {
	ID    string
	Rider string
	// Party groups riders who boarded together (a guardian and their
	// children, a holder and their carer); "" rides alone.
	Party string
	Route string
	Board time.Time
	// BoardZone and AlightZone are the zones of the stops (distance
	// fares).
	BoardZone string
	// Alight is zero when the rider was never seen alighting.
	Alight     time.Time
	AlightZone string
	// TripEndZone is the zone of the trip's last stop, for a rider who
	// never alighted (Rules.Unalighted).
	TripEndZone string
}

// endZone is where the ride ended as far as fares go.
func (r Ride) endZone() string {
	if r.Alight.IsZero() {
		return r.TripEndZone
	}
	return r.AlightZone
}

// Category is what a ride is counted as in reports: a class, or the
// discount or product the rider rode on.
type Category string

// The categories beyond the classes.
const (
	Senior   Category = "senior"
	Disabled Category = "disability"
	Carer    Category = "carer"
	CommPass Category = "commuter_pass"
)

// Fare is a priced ride.
type Fare struct {
	Ride, Rider string
	Class       Class
	// Category is the class, or senior, disability, carer or
	// commuter_pass when the best fare came from one.
	Category Category
	// Adult is the ride's adult fare; Amount what the rider pays.
	Adult, Amount int
	// Transfer and Capped say that the transfer discount or the day's
	// cap lowered Amount; Unalighted that the rider was never seen
	// alighting and paid by the operator's rule.
	Transfer, Capped, Unalighted bool
	// Account is the operator's ledger account the fare is paid to.
	Account string
}

// Errors Price returns, wrapped with the ride.
var (
	ErrNoFare  = errors.New("no fare for this ride")
	ErrNoRider = errors.New("unknown rider")
)

// Price prices one operator's rides, each rider the best fare the rules
// allow: the class fare, or a senior, disability or carer fare, or free
// on a commuter pass, whichever is lowest; then the transfer discount and
// the day's cap, in the order the rides were boarded. Rides are priced
// together because a party shares the preschoolers' free places and the
// carer's discount, and a rider's earlier rides that day decide the
// transfer and the cap; pricing the same rides again gives the same
// fares, so the caller can price a whole day each time a ride completes.
func Price(r Rules, rides []Ride, riders map[string]Rider) ([]Fare, error) {
	order := slices.Clone(rides)
	sort.SliceStable(order, func(i, j int) bool {
		if !order[i].Board.Equal(order[j].Board) {
			return order[i].Board.Before(order[j].Board)
		}
		return order[i].ID < order[j].ID
	})
	fares := make([]Fare, len(order))
	for i, ride := range order {
		f, err := r.single(ride, riders)
		if err != nil {
			return nil, err
		}
		fares[i] = f
	}
	r.parties(order, fares, riders)
	r.history(order, fares)
	return fares, nil
}

// single prices a ride alone: its class and adult fare, and the best of
// class, senior, disability and pass (the party's rules come after).
func (r Rules) single(ride Ride, riders map[string]Rider) (Fare, error) {
	who, ok := riders[ride.Rider]
	if !ok {
		return Fare{}, fmt.Errorf("ride %s: %w %s", ride.ID, ErrNoRider, ride.Rider)
	}
	rt, ok := r.Routes[ride.Route]
	if !ok {
		return Fare{}, fmt.Errorf("ride %s: %w: route %s is not %s's", ride.ID, ErrNoFare, ride.Route, r.Operator)
	}
	f := Fare{Ride: ride.ID, Rider: ride.Rider, Class: r.ClassOn(who.Birth, ride.Board), Account: r.Account}
	var adult int
	switch {
	case rt.Pay == OnBoarding:
		adult, ok = rt.adult("", "")
	case ride.Alight.IsZero() && r.Unalighted == Highest:
		adult, ok = rt.highest(ride.BoardZone)
		f.Unalighted = true
	default:
		adult, ok = rt.adult(ride.BoardZone, ride.endZone())
		f.Unalighted = ride.Alight.IsZero()
	}
	if !ok {
		return Fare{}, fmt.Errorf("ride %s: %w: route %s from zone %q to %q", ride.ID, ErrNoFare, ride.Route, ride.BoardZone, ride.endZone())
	}
	f.Adult = adult
	f.Category, f.Amount = Category(f.Class), r.classFare(f.Class, adult)
	better := func(c Category, yen int) {
		if yen < f.Amount {
			f.Category, f.Amount = c, yen
		}
	}
	day := ride.Board
	if s := r.Senior; s != nil && f.Class == Adult && Age(who.Birth, day) >= s.Age {
		if s.Discount != nil {
			better(Senior, s.Discount.Of(adult))
		} else {
			better(Senior, *s.Flat)
		}
	}
	if holds(who.DisabilityUntil, day) {
		better(Disabled, r.Disability.Of(r.classFare(f.Class, adult)))
	}
	for _, p := range who.Passes {
		if p.Covers(r.Operator, ride, day) {
			better(CommPass, 0)
		}
	}
	return f, nil
}

// holds reports whether an attribute valid through until holds on day.
func holds(until, day time.Time) bool {
	if until.IsZero() {
		return false
	}
	u := until.In(JST)
	last := time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, JST).AddDate(0, 0, 1)
	return day.Before(last)
}

// classFare is the fare of a class before discounts: 幼児 pay the 小児
// fare here, and parties() frees those their party carries.
func (r Rules) classFare(c Class, adult int) int {
	switch c {
	case Adult:
		return adult
	case Infant:
		return 0
	}
	return r.Child.Of(adult)
}

// parties applies the rules of riders who board together: up to
// FreePreschoolers 幼児 free per paying passenger (the rest pay the
// 小児 fare), and up to Carers members per disability holder at the
// disability fare.
func (r Rules) parties(order []Ride, fares []Fare, riders map[string]Rider) {
	members := make(map[string][]int)
	for i, ride := range order {
		if ride.Party != "" {
			members[ride.Party] = append(members[ride.Party], i)
		}
	}
	for _, ms := range members {
		// A holder counts by the handbook, whatever fare they rode on (a
		// holder on a commuter pass still brings a carer).
		payers, holders := 0, 0
		holder := make(map[int]bool)
		for _, i := range ms {
			if c := fares[i].Class; c == Adult || c == Child {
				payers++
			}
			if holds(riders[order[i].Rider].DisabilityUntil, order[i].Board) {
				holder[i] = true
				holders++
			}
		}
		free := payers * r.FreePreschoolers
		carers := holders * r.Carers
		for _, i := range ms {
			f := &fares[i]
			switch {
			case f.Class == Preschool && free > 0:
				free--
				f.Category, f.Amount = Category(Preschool), 0
			case f.Class != Preschool && f.Class != Infant && !holder[i] && carers > 0:
				if yen := r.Disability.Of(r.classFare(f.Class, f.Adult)); yen < f.Amount {
					carers--
					f.Category, f.Amount = Carer, yen
				}
			}
		}
	}
}

// history applies each rider's earlier rides of the day: the transfer
// discount within its minutes of the last ride's end, and the day's cap.
func (r Rules) history(order []Ride, fares []Fare) {
	type day struct {
		rider, date string
	}
	paid := make(map[day]int)
	lastEnd := make(map[string]time.Time)
	for i, ride := range order {
		f := &fares[i]
		if t := r.Transfer; t != nil && f.Amount > 0 {
			if end, ok := lastEnd[ride.Rider]; ok && !ride.Board.Before(end) && ride.Board.Sub(end) <= time.Duration(t.Minutes)*time.Minute {
				f.Amount, f.Transfer = max(f.Amount-t.Off, 0), true
			}
		}
		end := ride.Alight
		if end.IsZero() {
			end = ride.Board
		}
		lastEnd[ride.Rider] = end
		if r.DayCap == 0 {
			continue
		}
		k := day{ride.Rider, ride.Board.In(JST).Format(time.DateOnly)}
		if limit := r.classFare(f.Class, r.DayCap); paid[k]+f.Amount > limit {
			f.Amount, f.Capped = max(limit-paid[k], 0), true
		}
		paid[k] += f.Amount
	}
}
