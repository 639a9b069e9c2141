// Package vehicle is what a bus's or shared taxi's tablet decides, apart
// from its screen: the trips the driver may pick for the day, the
// current stop (moved by the driver's taps, and forward by the tablet's
// position fixes: locate.go), what a rider recognised at the door means (a boarding, an
// alighting, or nothing, and why in words), and the fare the rider is
// shown, priced on the tablet from the operator's published tables by
// the same code the server posts with (transit.Settlement), so it is
// provisional only until the server has stored the tap.
//
// The screen (app/ui/vehicle.go) draws these answers and records the
// taps they name; everything here is plain Go over the folded state,
// tested natively.
package vehicle

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"smartpass.city/smartpass/app/fare"
	"smartpass.city/smartpass/app/transit"
)

// Choice is a trip the driver may pick: its route, headsign, first
// departure (HH:MM), when its fare is paid, and its first and last stops.
type Choice struct {
	Trip, Route, Headsign string
	Departs               string
	Pay                   fare.Pay
	From, To              string // stop ids
}

// ErrNoTrip is wrapped when a trip is not the operator's that day.
var ErrNoTrip = errors.New("no such trip")

// Choices lists the operator's trips for the service day, in order of
// departure, with how each route's fare is paid by the tables in force
// that day.
func Choices(s transit.Settlement, operator string, day time.Time) ([]Choice, error) {
	rules, err := s.Tables.On(operator, day)
	if err != nil {
		return nil, fmt.Errorf("vehicle: trips of %s: %w", operator, err)
	}
	var out []Choice
	for _, t := range s.Network.Trips() {
		if len(t.Calls) == 0 {
			continue
		}
		c := Choice{Trip: t.ID, Route: t.Route, Headsign: t.Headsign, Pay: rules.Routes[t.Route].Pay,
			From: t.Calls[0].Stop, To: t.Calls[len(t.Calls)-1].Stop}
		if d := t.Calls[0].Departure; d >= 0 {
			c.Departs = fmt.Sprintf("%02d:%02d", d/3600, d/60%60)
		}
		out = append(out, c)
	}
	return out, nil
}

// Run is the driver's pick for a run: the operator's trip on a service
// day, its stops in order, and the current one.
type Run struct {
	Operator, Trip, Route string
	// Day is the service day, YYYY-MM-DD.
	Day   string
	Pay   fare.Pay
	Stops []string
	// At is the index of the current stop in Stops.
	At int
	// Points are the stops' positions, in step with Stops, for the
	// tablet's position fixes (Fix).
	Points []Point
	// ByFix is set when a position fix set the current stop (the screen
	// marks it GPS); a driver's tap clears it.
	ByFix bool
	// tapped is when the driver last moved the stop: fixes taken before
	// it are stale.
	tapped time.Time
	// left is the stop the driver last moved back from, which fixes do
	// not take again until the vehicle is seen away from it (0: none).
	left int
}

// Start begins a run of the operator's trip on day, at its first stop.
func Start(s transit.Settlement, operator, trip string, day time.Time) (Run, error) {
	route, ok := s.Network.Route(trip)
	stops := s.Network.Stops(trip)
	if !ok || len(stops) == 0 {
		return Run{}, fmt.Errorf("vehicle: %w: %s", ErrNoTrip, trip)
	}
	rules, err := s.Tables.On(operator, day)
	if err != nil {
		return Run{}, fmt.Errorf("vehicle: trip %s: %w", trip, err)
	}
	return Run{Operator: operator, Trip: trip, Route: route, Day: day.In(fare.JST).Format(time.DateOnly), Pay: rules.Routes[route].Pay, Stops: stops,
		Points: points(s.Network, stops)}, nil
}

// Stop returns the current stop's id.
func (r Run) Stop() string { return r.Stops[r.At] }

// Next moves to the next stop; false at the last.
func (r *Run) Next() bool {
	if r.At+1 >= len(r.Stops) {
		return false
	}
	r.At++
	return true
}

// Prev moves back a stop (the driver tapped next once too often); false
// at the first.
func (r *Run) Prev() bool {
	if r.At == 0 {
		return false
	}
	r.At--
	return true
}

// Ticket is the numbered ticket (整理券) of a boarding at stop: the stop's
// place on the trip, from 1, as the fare board beside the driver counts.
// 0 for a stop the trip does not call at.
func (r Run) Ticket(stop string) int { return slices.Index(r.Stops, stop) + 1 }

// Door says which taps the tablet takes: both (a rider aboard alights, one
// not aboard boards), or only one, for a vehicle with a tablet at each
// door or a driver who sets it.
type Door string

// The doors.
const (
	Both   Door = "both"
	Board  Door = "board"
	Alight Door = "alight"
)

// Reason is why a rider recognised is not recorded: the screen says it
// in words (Words), Japanese first.
type Reason string

// The reasons.
const (
	// NoFacts: the vehicle holds no fare facts of the rider (not
	// consented to this operator yet): they pay by cash or IC.
	NoFacts Reason = "no-facts"
	// Again: the rider tapped at this stop already (seen twice while
	// stepping in).
	Again Reason = "again"
	// NotAboard: an alighting with no boarding recorded: they boarded
	// paying cash or IC, or before the tablet saw them.
	NotAboard Reason = "not-aboard"
	// Aboard: a boarding while the rider is aboard already.
	Aboard Reason = "aboard"
	// Unknown: the face is not recognised: cash or IC.
	Unknown Reason = "unknown"
	// Second: the face alone is not enough at this vehicle's gallery
	// size: the rider shows their QR pass.
	Second Reason = "second"
)

// words are each reason's words, Japanese first.
var words = map[Reason][2]string{
	NoFacts:   {"この路線の運賃情報がありません。現金・ICカードでお支払いください。", "This operator holds no fare facts for you: please pay by cash or IC card."},
	Again:     {"このバス停で記録済みです。", "Already recorded at this stop."},
	NotAboard: {"乗車の記録がありません。現金・ICカードでお支払いください。", "No boarding is recorded for you: please pay by cash or IC card."},
	Aboard:    {"すでに乗車中として記録されています。", "You are recorded as aboard already."},
	Unknown:   {"顔を確認できませんでした。現金・ICカードでお支払いください。", "Not recognised: please pay by cash or IC card."},
	Second:    {"顔だけでは確認できません。QRパスをカメラに見せてください。", "Your face alone is not enough here: please show your QR pass to the camera."},
}

// Words returns r's words, Japanese and English.
func (r Reason) Words() (ja, en string) {
	w, ok := words[r]
	if !ok {
		return string(r), string(r)
	}
	return w[0], w[1]
}

// Action is what to record of a rider recognised: an op of Kind
// (transit.OpBoard or OpAlight) with Tap, or nothing for Reason.
type Action struct {
	Kind   string
	Tap    transit.Tap
	Reason Reason
}

// Decide says what the run records of resident, recognised via (a
// transit.By… constant) at the current stop at now: facts are the
// riders the vehicle holds, book the rides folded so far, party the ride
// a companion joins ("" alone).
func Decide(book transit.Book, facts map[string]transit.Facts, run Run, door Door, resident, via, party string, now time.Time) Action {
	if _, ok := facts[resident]; !ok {
		return Action{Reason: NoFacts}
	}
	stop := run.Stop()
	open, aboard := book.Aboard(run.Operator, run.Trip, run.Day, resident)
	if aboard && open.Board.Stop == stop {
		return Action{Reason: Again}
	}
	if !aboard {
		for _, r := range book.Trips(resident) {
			if r.Facility == run.Operator && r.Trip == run.Trip && r.Day == run.Day && r.Alight != nil && r.Alight.Stop == stop {
				return Action{Reason: Again}
			}
		}
	}
	tap := transit.Tap{Facility: run.Operator, Trip: run.Trip, Day: run.Day, Stop: stop, Resident: resident, At: now, Via: via}
	switch {
	case aboard && door == Board:
		return Action{Reason: Aboard}
	case aboard:
		return Action{Kind: transit.OpAlight, Tap: tap}
	case door == Alight:
		return Action{Reason: NotAboard}
	}
	tap.Party = party
	return Action{Kind: transit.OpBoard, Tap: tap}
}

// Shown is what the screen shows of a tap recorded: on a boarding the
// numbered ticket, and the fare once it is known (a flat fare at once, a
// distance fare at alighting).
type Shown struct {
	Ride   string
	Kind   string
	Ticket int
	Priced bool
	Fare   fare.Fare
	// Err says why a ride the tablet should price is not (the rider's
	// facts or the ride do not fit the feed): staff settle it by hand.
	Err error
}

// Show returns what the screen shows of the tap op recorded as record
// (its transit.RideID), kind OpBoard or OpAlight, once folded into book,
// priced at now from the riders the vehicle holds.
func Show(s transit.Settlement, book transit.Book, facts map[string]transit.Facts, run Run, kind, record string, now time.Time) (Shown, bool) {
	sh := Shown{Kind: kind}
	ride, ok := book.Rides[record]
	if kind == transit.OpAlight {
		ok = false
		for _, r := range book.Rides {
			if r.AlightID == record {
				ride, ok = r, true
				break
			}
		}
	}
	if !ok {
		return sh, false // not folded yet
	}
	sh.Ride, sh.Ticket = ride.ID, run.Ticket(ride.Board.Stop)
	charges, unpriced := s.Charges(book.Of(ride.Facility), transit.FareRiders(facts), now)
	for _, c := range charges {
		if c.Ride == ride.ID {
			sh.Priced, sh.Fare = true, c.Fare
		}
	}
	for _, u := range unpriced {
		if u.Ride == ride.ID {
			sh.Err = u.Reason
		}
	}
	return sh, true
}

// Label names the fare's class or category as the rider is shown it,
// Japanese and English: 大人, 小児, 幼児, 定期, and the discounts.
func Label(f fare.Fare) (ja, en string) {
	switch f.Category {
	case fare.CommPass:
		return "定期", "Commuter pass"
	case fare.Disabled:
		return "障害者割引", "Disability fare"
	case fare.Carer:
		return "介助者", "Carer"
	case fare.Senior:
		return "シニア", "Senior"
	}
	en = map[fare.Class]string{fare.Adult: "Adult", fare.Child: "Child", fare.Preschool: "Preschool", fare.Infant: "Infant"}[f.Class]
	return f.Class.JA(), en
}

// Counts are the run's riders for the driver: boarded on this trip so
// far, and aboard now.
func Counts(book transit.Book, run Run) (boarded, aboard int) {
	for _, r := range book.Of(run.Operator) {
		if r.Trip != run.Trip || r.Day != run.Day {
			continue
		}
		boarded++
		if r.Alight == nil {
			aboard++
		}
	}
	return boarded, aboard
}
