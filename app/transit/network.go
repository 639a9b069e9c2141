package transit

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"smartpass.city/smartpass/app/fare"
	"smartpass.city/smartpass/app/gtfsjp"
)

// Config is an operator's configuration beside its feed: its fare rules
// (the routes' fares come from the feed's fare files), and the tolerances
// of its vehicles' clocks and of riders never seen alighting.
type Config struct {
	Fares fare.Rules `json:"fares"`
	// ClockTolerance (minutes): a tap further than this from the
	// timetable's time at its stop is priced at the timetable's time.
	ClockTolerance int `json:"clock_tolerance_minutes"`
	// Grace (minutes) after a trip's last arrival: a rider who boarded
	// a distance-fare trip and was not seen alighting by then is charged
	// by the fares' Unalighted rule.
	Grace int `json:"grace_minutes"`
	// Passes are the commuter passes the operator sells from the wallet
	// (its filed prices, like its fares).
	Passes []PassProduct `json:"passes,omitempty"`
}

// PassProduct is a commuter pass (定期券) an operator sells: valid Days
// from the day it starts, on its Routes or between its Zones, for Class,
// at Price yen.
type PassProduct struct {
	ID     string     `json:"id"`
	NameJA string     `json:"name_ja"`
	NameEN string     `json:"name_en,omitempty"`
	Routes []string   `json:"routes,omitempty"`
	Zones  []string   `json:"zones,omitempty"`
	Class  fare.Class `json:"class"`
	Days   int        `json:"days"`
	Price  int64      `json:"price"`
}

// Product returns the operator's pass product id.
func (c Config) Product(id string) (PassProduct, bool) {
	for _, p := range c.Passes {
		if p.ID == id {
			return p, true
		}
	}
	return PassProduct{}, false
}

// ErrConfig is wrapped by ParseConfig.
var ErrConfig = errors.New("transit configuration")

// ParseConfig reads an operator's configuration (the fares' routes may
// be left out: RulesFromFeed fills them).
func ParseConfig(b []byte) (Config, error) {
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if c.ClockTolerance <= 0 || c.Grace < 0 {
		return c, fmt.Errorf("%w: clock_tolerance_minutes from 1 and grace_minutes from 0", ErrConfig)
	}
	for _, p := range c.Passes {
		if p.ID == "" || p.NameJA == "" || p.Days <= 0 || p.Price <= 0 || len(p.Routes) == 0 && len(p.Zones) == 0 || p.Class != fare.Adult && p.Class != fare.Child {
			return c, fmt.Errorf("%w: pass %q: an id, a Japanese name, days and price from 1, routes or zones, class adult or child", ErrConfig, p.ID)
		}
	}
	return c, nil
}

// Call is a trip's stop at its timetable times (seconds after the
// service day's midnight; -1 where the feed gives none).
type Call struct {
	Stop      string `json:"s"`
	Arrival   int    `json:"a"`
	Departure int    `json:"d"`
}

// TripRec is a feed trip as the vehicle runs it.
type TripRec struct {
	ID       string `json:"id"`
	Route    string `json:"route"`
	Headsign string `json:"headsign,omitempty"`
	Calls    []Call `json:"calls"`
}

// StopRec is a stop as the vehicle shows and locates it: its name, the
// kana reading and English name from translations.txt, its position and
// fare zone.
type StopRec struct {
	ID      string  `json:"id"`
	Name    string  `json:"name"`
	Reading string  `json:"reading,omitempty"`
	NameEN  string  `json:"name_en,omitempty"`
	Lat     float64 `json:"lat"`
	Lon     float64 `json:"lon"`
	Zone    string  `json:"zone,omitempty"`
}

// Network is an operator's stops and trips from its feed.
type Network struct {
	Config Config
	stops  map[string]StopRec
	trips  map[string]TripRec
}

// NewNetwork builds the network of a checked feed.
func NewNetwork(f *gtfsjp.Feed, c Config) *Network {
	stops, trips := records(f)
	return networkOf(stops, trips, c)
}

// networkOf indexes stops and trips.
func networkOf(stops []StopRec, trips []TripRec, c Config) *Network {
	n := &Network{Config: c, stops: make(map[string]StopRec), trips: make(map[string]TripRec)}
	for _, s := range stops {
		n.stops[s.ID] = s
	}
	for _, t := range trips {
		n.trips[t.ID] = t
	}
	return n
}

// records returns a checked feed's stops (those a bus calls at) and
// trips, each trip's calls in stop_sequence order.
func records(f *gtfsjp.Feed) ([]StopRec, []TripRec) {
	var stops []StopRec
	for _, s := range f.Stops {
		if s.LocationType != 0 {
			continue
		}
		stops = append(stops, StopRec{ID: s.ID, Name: s.Name, Reading: f.ReadingOf(s), NameEN: f.Translate("stops", "stop_name", s.ID, s.Name, "en"),
			Lat: s.Lat, Lon: s.Lon, Zone: s.Zone})
	}
	sts := append([]gtfsjp.StopTime(nil), f.StopTimes...)
	sort.SliceStable(sts, func(i, j int) bool { return sts[i].Sequence < sts[j].Sequence })
	calls := make(map[string][]Call)
	for _, st := range sts {
		calls[st.Trip] = append(calls[st.Trip], Call{Stop: st.Stop, Arrival: st.Arrival, Departure: st.Departure})
	}
	trips := make([]TripRec, 0, len(f.Trips))
	for _, t := range f.Trips {
		trips = append(trips, TripRec{ID: t.ID, Route: t.Route, Headsign: t.Headsign, Calls: calls[t.ID]})
	}
	return stops, trips
}

// Stop returns a stop's record.
func (n *Network) Stop(id string) (StopRec, bool) {
	s, ok := n.stops[id]
	return s, ok
}

// Route returns a trip's route.
func (n *Network) Route(tripID string) (string, bool) {
	t, ok := n.trips[tripID]
	return t.Route, ok
}

// Zone returns a stop's fare zone.
func (n *Network) Zone(stop string) string { return n.stops[stop].Zone }

// Stops returns a trip's stops in order.
func (n *Network) Stops(tripID string) []string {
	var out []string
	for _, c := range n.trips[tripID].Calls {
		out = append(out, c.Stop)
	}
	return out
}

// scheduled returns the timetable's time of the trip at stop on the
// service day, when the trip calls there with a time.
func (n *Network) scheduled(tripID, stop string, day time.Time) (time.Time, bool) {
	for _, c := range n.trips[tripID].Calls {
		if c.Stop == stop && c.Departure >= 0 {
			return day.Add(time.Duration(c.Departure) * time.Second), true
		}
	}
	return time.Time{}, false
}

// End returns when a trip's last stop is reached on its service day.
func (n *Network) End(tripID string, day time.Time) time.Time {
	cs := n.trips[tripID].Calls
	if len(cs) == 0 {
		return day
	}
	return day.Add(time.Duration(cs[len(cs)-1].Arrival) * time.Second)
}

// When returns the time a tap counts at: the tablet's clock when it is
// within the clock tolerance of the timetable at the tap's stop, else
// the timetable's time (fixed true). A vehicle offline all day may keep
// a clock hours off; the timetable is then the better witness, and the
// tap is kept and flagged, never dropped: the rider did ride.
func (n *Network) When(t Tap) (at time.Time, fixed bool) {
	day, err := fare.ParseDay(t.Day)
	if err != nil {
		return t.At, false
	}
	s, ok := n.scheduled(t.Trip, t.Stop, day)
	if !ok {
		return t.At, false
	}
	d := t.At.Sub(s)
	if d < 0 {
		d = -d
	}
	if d > time.Duration(n.Config.ClockTolerance)*time.Minute {
		return s, true
	}
	return t.At, false
}

// RulesFromFeed returns the operator's fare rules with each route's
// adult fares from the feed: a route whose fare rules name no zones is a
// flat fare paid on boarding; one whose rules name origin and destination
// zones pays on alighting. Rules without a route apply to every route.
func RulesFromFeed(f *gtfsjp.Feed, base fare.Rules) (fare.Rules, error) {
	const file = "fare_rules.txt"
	price := make(map[string]int)
	for _, a := range f.Fares {
		price[a.ID] = a.Price
	}
	routes := make(map[string]fare.Route)
	for _, r := range f.Routes {
		routes[r.ID] = fare.Route{}
	}
	for i, fr := range f.FareRules {
		if fr.Contains != "" || (fr.Origin == "") != (fr.Destination == "") {
			return base, &gtfsjp.LineError{File: file, Line: f.Line(file, i), Err: fmt.Errorf("%w: a fare by contains_id or by one end only is not supported: give origin_id and destination_id, or neither", ErrConfig)}
		}
		ids := []string{fr.Route}
		if fr.Route == "" {
			ids = ids[:0]
			for id := range routes {
				ids = append(ids, id)
			}
		}
		for _, id := range ids {
			rt := routes[id]
			if fr.Origin == "" {
				if rt.Pay == fare.OnAlighting || rt.Pay == fare.OnBoarding && rt.Flat != price[fr.Fare] {
					return base, &gtfsjp.LineError{File: file, Line: f.Line(file, i), Err: fmt.Errorf("%w: route %s has another fare already", ErrConfig, id)}
				}
				rt.Pay, rt.Flat = fare.OnBoarding, price[fr.Fare]
			} else {
				if rt.Pay == fare.OnBoarding {
					return base, &gtfsjp.LineError{File: file, Line: f.Line(file, i), Err: fmt.Errorf("%w: route %s has a flat fare and zone fares", ErrConfig, id)}
				}
				rt.Pay = fare.OnAlighting
				if rt.Zones == nil {
					rt.Zones = make(map[string]map[string]int)
				}
				if rt.Zones[fr.Origin] == nil {
					rt.Zones[fr.Origin] = make(map[string]int)
				}
				rt.Zones[fr.Origin][fr.Destination] = price[fr.Fare]
			}
			routes[id] = rt
		}
	}
	for _, r := range f.Routes {
		if routes[r.ID].Pay == "" {
			return base, &gtfsjp.LineError{File: "routes.txt", Line: f.Line("routes.txt", indexOf(f.Routes, r.ID)), Err: fmt.Errorf("%w: route %s has no fare in fare_rules.txt", ErrConfig, r.ID)}
		}
	}
	base.Routes = routes
	return base, base.Validate()
}

// indexOf returns the index of the route id in rs.
func indexOf(rs []gtfsjp.Route, id string) int {
	for i, r := range rs {
		if r.ID == id {
			return i
		}
	}
	return -1
}

// Trips returns the network's trips in order of their first departure
// (then id): the list a vehicle's driver picks the day's trip from.
func (n *Network) Trips() []TripRec {
	out := make([]TripRec, 0, len(n.trips))
	for _, t := range n.trips {
		out = append(out, t)
	}
	first := func(t TripRec) int {
		if len(t.Calls) == 0 {
			return -1
		}
		return t.Calls[0].Departure
	}
	sort.Slice(out, func(i, j int) bool {
		if a, b := first(out[i]), first(out[j]); a != b {
			return a < b
		}
		return out[i].ID < out[j].ID
	})
	return out
}
