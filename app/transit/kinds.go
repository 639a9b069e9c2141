package transit

import (
	"errors"
	"fmt"
	"sort"

	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/app/role"
	"smartpass.city/smartpass/syncproto"
)

// Ride is one rider's ride as folded from the taps: the boarding, and
// the alighting once seen.
type Ride struct {
	// ID is the boarding tap's record id.
	ID       string
	Device   string
	Facility string
	Trip     string
	Day      string
	Resident string
	// Party is the party's key: the tap's party, or the ride's own id.
	Party    string
	Via      string
	Board    Tap
	Alight   *Tap
	AlightID string
}

// Book is the folded rides: every ride by id, and the open ones (boarded,
// not yet alighted) by operator, trip, day and rider.
type Book struct {
	Rides map[string]Ride
	Open  map[string]string
}

// Rides is the folded part that holds the book.
var Rides = opkind.NewSlot("rides", func() Book {
	return Book{Rides: make(map[string]Ride), Open: make(map[string]string)}
})

// openKey names a rider's open ride on a trip.
func openKey(t Tap) string {
	return t.Facility + "\x00" + t.Trip + "\x00" + t.Day + "\x00" + t.Resident
}

// A vehicle's tablet records its riders' taps for its own operator; the
// taps go to the operator's feed only (its settlement and reports), and
// each identification is audited.
func init() {
	for _, name := range []string{OpBoard, OpAlight} {
		fold := foldBoard
		if name == OpAlight {
			fold = foldAlight
		}
		opkind.Register(opkind.Kind{
			Name:  name,
			Body:  opkind.Over(Tap.Validate, func(t Tap) string { return t.Facility }),
			Roles: []role.Role{role.Vehicle},
			Feeds: opkind.Feeds{Facility: true},
			Audit: func(op syncproto.Op) (opkind.Entry, bool) {
				t, err := opkind.Decode[Tap](op)
				if err != nil {
					return opkind.Entry{}, false
				}
				return opkind.Entry{Action: op.Kind, Subject: t.Resident, Detail: fmt.Sprintf("%s trip %s %s stop %s via %s", t.Facility, t.Trip, t.Day, t.Stop, t.Via)}, true
			},
			Fold: fold,
		})
	}
}

// ErrTap is wrapped by the fold's refusals: a second boarding while
// aboard, an alighting with no boarding.
var ErrTap = errors.New("tap out of turn")

// foldBoard opens a ride.
func foldBoard(p *opkind.Parts, op syncproto.Op) error {
	t, err := opkind.DecodeValid[Tap](op)
	if err != nil {
		return err
	}
	b := Rides.In(p)
	k := openKey(t)
	if id, aboard := b.Open[k]; aboard {
		return fmt.Errorf("%w: %s is aboard trip %s already (ride %s)", ErrTap, t.Resident, t.Trip, id)
	}
	id := opkind.RecordID(op)
	party := t.Party
	if party == "" {
		party = id
	}
	b.Rides[id] = Ride{ID: id, Device: op.Device, Facility: t.Facility, Trip: t.Trip, Day: t.Day, Resident: t.Resident, Party: party, Via: t.Via, Board: t}
	b.Open[k] = id
	return nil
}

// foldAlight closes the rider's open ride on the trip.
func foldAlight(p *opkind.Parts, op syncproto.Op) error {
	t, err := opkind.DecodeValid[Tap](op)
	if err != nil {
		return err
	}
	b := Rides.In(p)
	k := openKey(t)
	id, aboard := b.Open[k]
	if !aboard {
		return fmt.Errorf("%w: %s alighted from trip %s without boarding by face (paid by cash or IC)", ErrTap, t.Resident, t.Trip)
	}
	r := b.Rides[id]
	r.Alight, r.AlightID = &t, opkind.RecordID(op)
	b.Rides[id] = r
	delete(b.Open, k)
	return nil
}

// Of returns the rides of one operator, in boarding order of the taps'
// clocks.
func (b Book) Of(operator string) []Ride {
	var out []Ride
	for _, r := range b.Rides {
		if r.Facility == operator {
			out = append(out, r)
		}
	}
	sortRides(out)
	return out
}

// sortRides orders rides by boarding clock, then id.
func sortRides(rs []Ride) {
	sort.Slice(rs, func(i, j int) bool {
		if !rs[i].Board.At.Equal(rs[j].Board.At) {
			return rs[i].Board.At.Before(rs[j].Board.At)
		}
		return rs[i].ID < rs[j].ID
	})
}

// Trips returns a rider's rides, in boarding order: what their guardian
// and they themselves see.
func (b Book) Trips(resident string) []Ride {
	var out []Ride
	for _, r := range b.Rides {
		if r.Resident == resident {
			out = append(out, r)
		}
	}
	sortRides(out)
	return out
}

// Aboard returns the rider's open ride on an operator's trip of a
// service day: boarded, not yet seen alighting.
func (b Book) Aboard(operator, trip, day, resident string) (Ride, bool) {
	id, ok := b.Open[openKey(Tap{Facility: operator, Trip: trip, Day: day, Resident: resident})]
	if !ok {
		return Ride{}, false
	}
	return b.Rides[id], true
}
