// Package fare computes bus and shared-taxi fares from an operator's
// filed fare data and rules, all of it configuration: the adult fares
// per route (flat, or by origin and destination zone), the fare classes
// by school year (大人, 小児, 幼児, 乳児), the discounts (disability and
// one carer, seniors as the operator sets them), commuter passes,
// transfer discounts and daily caps. Each rider pays the best fare these
// allow, applied without their asking.
//
// Operators file fares within an approved ceiling and change them from a
// date: Tables holds each operator's rules with the date they start, and
// a ride is priced by the rules in force on its day.
//
// The package knows no wallet and no feed format: the transit package
// builds Rules from a GTFS-JP feed and the operator's configuration, and
// hands completed rides here.
package fare

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"
)

// Pay says when a route's fare is paid.
type Pay string

// When fares are paid: a flat-fare route on boarding; a distance (zone)
// fare on alighting, once the destination is known (the rider takes a
// numbered ticket, 整理券, on boarding).
const (
	OnBoarding  Pay = "boarding"
	OnAlighting Pay = "alighting"
)

// Route is one route's adult fares.
type Route struct {
	Pay Pay `json:"pay"`
	// Flat is the adult fare of a flat-fare route, in yen.
	Flat int `json:"flat,omitempty"`
	// Zones are the adult fares of a distance-fare route, by origin
	// zone and then destination zone, in yen.
	Zones map[string]map[string]int `json:"zones,omitempty"`
}

// Discount is a reduced fare: Percent off the fare it applies to, the
// result rounded up to a multiple of RoundUp yen (小児: 50% off, a ¥5
// remainder rounded up to ¥10).
type Discount struct {
	Percent int `json:"percent"`
	RoundUp int `json:"round_up"`
}

// Of returns the discounted fare of yen.
func (d Discount) Of(yen int) int {
	v := yen * (100 - d.Percent)
	unit := 100 * max(d.RoundUp, 1)
	return (v + unit - 1) / unit * max(d.RoundUp, 1)
}

// SeniorRule is an operator's senior fare: from Age (years, by birthday),
// either a Discount or a Flat fare (a one-coin ¥100), whichever the
// operator sets; a rider pays it only when it is lower.
type SeniorRule struct {
	Age      int       `json:"age"`
	Discount *Discount `json:"discount,omitempty"`
	Flat     *int      `json:"flat,omitempty"`
}

// Transfer is a transfer discount: Off yen off a ride boarded within
// Minutes of the end of the rider's previous ride with the operator.
type Transfer struct {
	Minutes int `json:"minutes"`
	Off     int `json:"off"`
}

// Unalighted rules: what a rider who boarded a distance-fare route and
// was never seen alighting pays.
const (
	// ToTripEnd charges the fare to the trip's last stop.
	ToTripEnd = "trip_end"
	// Highest charges the highest fare from the boarding zone.
	Highest = "highest"
)

// Rules are one operator's fare data and rules from a date on.
type Rules struct {
	Operator string `json:"operator"`
	// Account is the ledger account the operator's fares are paid to.
	Account string `json:"account"`
	// From is the day (YYYY-MM-DD, Japan) these rules start.
	From   string           `json:"from"`
	Routes map[string]Route `json:"routes"`
	// Child is the 小児 fare (elementary school).
	Child Discount `json:"child"`
	// InfantUnder is the age (years) below which a rider is 乳児.
	InfantUnder int `json:"infant_under"`
	// FreePreschoolers is how many 幼児 ride free per paying passenger
	// in their party; more (or one alone) pay the 小児 fare.
	FreePreschoolers int `json:"free_preschoolers"`
	// Disability is the fare of a disability handbook holder, and of up
	// to Carers of their party.
	Disability Discount    `json:"disability"`
	Carers     int         `json:"carers"`
	Senior     *SeniorRule `json:"senior,omitempty"`
	Transfer   *Transfer   `json:"transfer,omitempty"`
	// DayCap is the most an adult pays the operator in a day (the
	// day-pass price); 0 for none. Other classes' caps are their own
	// fare of it (a child's, half).
	DayCap int `json:"day_cap,omitempty"`
	// Unalighted is ToTripEnd or Highest.
	Unalighted string `json:"unalighted"`
}

// ErrRules is wrapped by Validate and Parse.
var ErrRules = errors.New("fare rules")

// Validate reports whether r can price rides.
func (r Rules) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w of %s: %s", ErrRules, r.Operator, fmt.Sprintf(format, args...))
	}
	if r.Operator == "" || r.Account == "" {
		return bad("an operator and its account are required")
	}
	if _, err := ParseDay(r.From); err != nil {
		return bad("from %q is not a date YYYY-MM-DD", r.From)
	}
	for name, d := range map[string]Discount{"child": r.Child, "disability": r.Disability} {
		if d.Percent < 0 || d.Percent > 100 || d.RoundUp < 1 {
			return bad("%s discount %+v (percent 0-100, round_up from 1)", name, d)
		}
	}
	if r.InfantUnder < 0 || r.FreePreschoolers < 0 || r.Carers < 0 || r.DayCap < 0 {
		return bad("a negative count or cap")
	}
	if s := r.Senior; s != nil && (s.Age < 60 || (s.Discount == nil) == (s.Flat == nil) || s.Flat != nil && *s.Flat < 0) {
		return bad("senior rule %+v: an age from 60 and one of discount or flat", *s)
	}
	if t := r.Transfer; t != nil && (t.Minutes <= 0 || t.Off <= 0) {
		return bad("transfer rule %+v", *t)
	}
	if r.Unalighted != ToTripEnd && r.Unalighted != Highest {
		return bad("unalighted %q is neither %s nor %s", r.Unalighted, ToTripEnd, Highest)
	}
	if len(r.Routes) == 0 {
		return bad("no routes")
	}
	for id, rt := range r.Routes {
		switch {
		case rt.Pay == OnBoarding && (rt.Flat <= 0 || len(rt.Zones) > 0):
			return bad("route %s pays on boarding: a flat fare and no zones", id)
		case rt.Pay == OnAlighting && (rt.Flat != 0 || len(rt.Zones) == 0):
			return bad("route %s pays on alighting: zone fares and no flat fare", id)
		case rt.Pay != OnBoarding && rt.Pay != OnAlighting:
			return bad("route %s pays %q", id, rt.Pay)
		}
		for o, ds := range rt.Zones {
			if len(ds) == 0 {
				return bad("route %s from %s: no fares to any zone", id, o)
			}
			for d, yen := range ds {
				if yen <= 0 {
					return bad("route %s from %s to %s: fare %d", id, o, d, yen)
				}
			}
		}
	}
	return nil
}

// Parse reads rules from JSON and checks them.
func Parse(b []byte) (Rules, error) {
	var r Rules
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("%w: %w", ErrRules, err)
	}
	return r, r.Validate()
}

// Tables are operators' rules, each from its date.
type Tables []Rules

// ErrNoRules is returned when no rules are in force for a ride.
var ErrNoRules = errors.New("no fare rules in force")

// On returns the operator's rules in force on day: the latest to start
// on or before it.
func (ts Tables) On(operator string, day time.Time) (Rules, error) {
	d := day.In(JST).Format(time.DateOnly)
	var in []Rules
	for _, r := range ts {
		if r.Operator == operator && r.From <= d {
			in = append(in, r)
		}
	}
	if len(in) == 0 {
		return Rules{}, fmt.Errorf("%w: %s on %s", ErrNoRules, operator, d)
	}
	sort.SliceStable(in, func(i, j int) bool { return in[i].From < in[j].From })
	return in[len(in)-1], nil
}

// JST is Japan's time: days and school years turn at midnight there.
var JST = time.FixedZone("JST", 9*60*60)

// ParseDay reads YYYY-MM-DD as a day in Japan.
func ParseDay(s string) (time.Time, error) {
	t, err := time.ParseInLocation(time.DateOnly, s, JST)
	if err != nil {
		return t, fmt.Errorf("fare: day %q: %w", s, err)
	}
	return t, nil
}

// adult returns the adult fare of a ride on route rt from zone o to d
// (d "" for a flat fare).
func (rt Route) adult(o, d string) (int, bool) {
	if rt.Pay == OnBoarding {
		return rt.Flat, true
	}
	yen, ok := rt.Zones[o][d]
	return yen, ok
}

// highest returns the highest adult fare from zone o.
func (rt Route) highest(o string) (int, bool) {
	best, ok := 0, false
	for _, yen := range rt.Zones[o] {
		best, ok = max(best, yen), true
	}
	return best, ok
}
