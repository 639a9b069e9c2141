// Package transit is a bus or shared taxi's rides paid by face: the taps
// a vehicle's tablet records (a rider boarding, a rider alighting), the
// rides folded from them per rider, the operator's network and fare rules
// read from its GTFS-JP feed and configuration, the seam where a
// completed ride becomes a fare owed to the operator's account (the
// wallet's ledger calls it; nothing here posts), and the ridership
// report an operator files for subsidy, which names no rider.
//
// A tap is a fact: it never conflicts and is never edited. Its time is
// the tablet's clock, which may be wrong on a vehicle that has been
// offline all day; the rule for that is Network.When's.
package transit

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"smartpass.city/smartpass/app/fare"
	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/syncproto"
)

// Op kinds.
const (
	// OpBoard is a rider recognised boarding; its body is a Tap.
	OpBoard = "transit.board"
	// OpAlight is a rider recognised alighting; its body is a Tap.
	OpAlight = "transit.alight"
)

// How a rider was identified.
const (
	ByFace  = "face"
	ByQR    = "qr"
	ByCard  = "card"
	ByStaff = "staff" // the driver confirmed them by sight
)

// Tap is a rider recognised at a door: at the operator (the vehicle's
// facility), on a trip of a service day, at a stop.
type Tap struct {
	Facility string `json:"facility"`
	// Trip is the feed's trip_id the driver picked; Day its service day
	// (YYYY-MM-DD), since a trip id repeats every day it runs.
	Trip string `json:"trip"`
	Day  string `json:"day"`
	// Stop is the feed's stop_id: from the tablet's position against the
	// trip's stops, or the driver's tap.
	Stop     string `json:"stop"`
	Resident string `json:"resident"`
	// Party groups riders the tablet saw board together (a guardian and
	// children, a holder and carer): it names the first tap's record.
	Party string `json:"party,omitempty"`
	// At is the tablet's clock at the tap.
	At  time.Time `json:"at"`
	Via string    `json:"via"`
}

// ErrInvalid is wrapped by Validate.
var ErrInvalid = errors.New("invalid tap")

// MaxID bounds the ids a tap carries (GTFS ids, residents, parties).
const MaxID = 64

// Validate reports whether t can be stored. A tap whose clock is not on
// its service day (or the early hours of the next, for trips past
// midnight) is refused: its clock is a day or more off, or the driver
// picked another day's trip, and either way no fare can be trusted to it.
// A clock hours off within the day is kept (Network.When).
func (t Tap) Validate() error {
	for name, v := range map[string]string{"facility": t.Facility, "trip": t.Trip, "stop": t.Stop, "resident": t.Resident} {
		if v == "" || len(v) > MaxID || !utf8.ValidString(v) {
			return fmt.Errorf("%w: %s %q", ErrInvalid, name, v)
		}
	}
	if len(t.Party) > MaxID {
		return fmt.Errorf("%w: party %q", ErrInvalid, t.Party)
	}
	switch t.Via {
	case ByFace, ByQR, ByCard, ByStaff:
	default:
		return fmt.Errorf("%w: identified by %q", ErrInvalid, t.Via)
	}
	day, err := fare.ParseDay(t.Day)
	if err != nil {
		return fmt.Errorf("%w: service day %q", ErrInvalid, t.Day)
	}
	if t.At.Before(day) || !t.At.Before(day.Add(DayEnd)) {
		return fmt.Errorf("%w: the tablet's clock reads %s, outside service day %s: set the tablet's clock and pick today's trip", ErrInvalid, t.At.In(fare.JST).Format(time.DateTime), t.Day)
	}
	return nil
}

// DayEnd is how long after its midnight a service day runs: GTFS times
// go past 24:00 for trips after midnight.
const DayEnd = 30 * time.Hour

// TapOf returns the tap an op of OpBoard or OpAlight records, checked.
func TapOf(op syncproto.Op) (Tap, error) { return opkind.DecodeValid[Tap](op) }

// RideID is the id of the ride a boarding op opens (and of the record an
// alighting op is): the op's device and seq, unique in the log.
func RideID(op syncproto.Op) string { return opkind.RecordID(op) }
