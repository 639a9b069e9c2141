package transit

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"smartpass.city/smartpass/app/fare"
)

// Charge is a completed ride's fare, owed by the rider to the operator's
// ledger account: what the wallet's ledger posts, once per Ride id.
type Charge struct {
	Ride     string
	Resident string
	Amount   int
	Account  string
	Fare     fare.Fare
	// ClockFixed says the tablet's clock disagreed with the timetable
	// beyond the tolerance, and the timetable's time was used.
	ClockFixed bool
}

// Unpriced is a completed ride that could not be priced, and why: the
// operator settles it by hand (the rider paid cash, or staff look).
type Unpriced struct {
	Ride   string
	Reason error
}

// Settlement prices an operator's rides: its fare tables by date and
// its network.
type Settlement struct {
	Tables  fare.Tables
	Network *Network
}

// Complete reports whether a ride can be charged at now: a flat fare as
// soon as the rider boarded; a distance fare once they alighted, or once
// the trip's grace after its last arrival has passed (the operator's
// rule for riders never seen alighting then prices it).
func (s Settlement) Complete(r Ride, now time.Time) bool {
	route, ok := s.Network.Route(r.Trip)
	if !ok {
		return true // priced to an error, so staff see it
	}
	rules, err := s.Tables.On(r.Facility, r.Board.At)
	if err != nil {
		return true
	}
	if rules.Routes[route].Pay == fare.OnBoarding || r.Alight != nil {
		return true
	}
	day, err := fare.ParseDay(r.Day)
	if err != nil {
		return true
	}
	grace := time.Duration(s.Network.Config.Grace) * time.Minute
	return now.After(s.Network.End(r.Trip, day).Add(grace))
}

// ErrRide is wrapped in an Unpriced's reason when a ride does not fit
// the network (a trip or stop the feed lacks).
var ErrRide = errors.New("ride does not fit the feed")

// Charges returns the charges of the operator's rides that are complete
// at now, for riders whose facts the vehicle holds (riders, by
// resident): each service day's rides priced together by the fare rules
// in force that day, every rider the best fare, rides still under way
// counted provisionally for their party (Complete). The same rides give
// the same charges, so a tablet and the server agree, and pricing again
// after more rides complete leaves the earlier charges as they were
// unless an earlier ride of the same rider completed late (a rider never
// seen alighting, within the grace).
// This is the seam the wallet's ledger calls: it posts Amount from the
// rider to Account, once per Ride.
func (s Settlement) Charges(rides []Ride, riders map[string]fare.Rider, now time.Time) ([]Charge, []Unpriced) {
	type dayKey struct{ operator, day string }
	byDay := make(map[dayKey][]fare.Ride)
	fixed := make(map[string]bool)
	var unpriced []Unpriced
	// Rides still under way are priced too, provisionally (as if never
	// alighted), and charged later: a 幼児 who alights before the parent
	// still rides free on the parent's fare.
	complete := make(map[string]bool)
	for _, r := range rides {
		complete[r.ID] = s.Complete(r, now)
		if _, ok := riders[r.Resident]; !ok {
			if !complete[r.ID] {
				continue
			}
			unpriced = append(unpriced, Unpriced{Ride: r.ID, Reason: fmt.Errorf("%w %s: the vehicle holds no fare facts of them", fare.ErrNoRider, r.Resident)})
			continue
		}
		fr, wasFixed, err := s.fareRide(r)
		if err != nil {
			if complete[r.ID] {
				unpriced = append(unpriced, Unpriced{Ride: r.ID, Reason: err})
			}
			continue
		}
		fixed[r.ID] = wasFixed
		k := dayKey{r.Facility, r.Day}
		byDay[k] = append(byDay[k], fr)
	}
	keys := make([]dayKey, 0, len(byDay))
	for k := range byDay {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].operator != keys[j].operator {
			return keys[i].operator < keys[j].operator
		}
		return keys[i].day < keys[j].day
	})
	var out []Charge
	for _, k := range keys {
		day, _ := fare.ParseDay(k.day)
		rules, err := s.Tables.On(k.operator, day)
		if err == nil {
			var fares []fare.Fare
			if fares, err = fare.Price(rules, byDay[k], riders); err == nil {
				for _, f := range fares {
					if !complete[f.Ride] {
						continue
					}
					out = append(out, Charge{Ride: f.Ride, Resident: f.Rider, Amount: f.Amount, Account: f.Account, Fare: f, ClockFixed: fixed[f.Ride]})
				}
				continue
			}
		}
		for _, fr := range byDay[k] {
			if complete[fr.ID] {
				unpriced = append(unpriced, Unpriced{Ride: fr.ID, Reason: err})
			}
		}
	}
	return out, unpriced
}

// fareRide turns a folded ride into the fare engine's, its times by
// When and its zones from the network.
func (s Settlement) fareRide(r Ride) (fare.Ride, bool, error) {
	route, ok := s.Network.Route(r.Trip)
	if !ok {
		return fare.Ride{}, false, fmt.Errorf("%w: trip %s", ErrRide, r.Trip)
	}
	stops := s.Network.Stops(r.Trip)
	if !slices.Contains(stops, r.Board.Stop) || r.Alight != nil && !slices.Contains(stops, r.Alight.Stop) {
		return fare.Ride{}, false, fmt.Errorf("%w: a stop trip %s does not call at", ErrRide, r.Trip)
	}
	board, fixed := s.Network.When(r.Board)
	fr := fare.Ride{ID: r.ID, Rider: r.Resident, Party: r.Party, Route: route, Board: board, BoardZone: s.Network.Zone(r.Board.Stop), TripEndZone: s.Network.Zone(stops[len(stops)-1])}
	if r.Alight != nil {
		at, f := s.Network.When(*r.Alight)
		fr.Alight, fr.AlightZone, fixed = at, s.Network.Zone(r.Alight.Stop), fixed || f
	}
	return fr, fixed, nil
}
