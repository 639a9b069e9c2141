// Package fares posts transit fares to the city wallet's ledger and
// keeps what an operator's vehicles must know of their riders offline.
//
// A vehicle's tablet records taps (transit.board, transit.alight) all
// day offline and pushes them when it has signal. Poster.Records is a
// hub Options.Records hook, joined with the ledger's: in the push's
// transaction it notes each tap in the server's private records and
// posts each ride that became complete (a flat fare on boarding, a zone
// fare on alighting, a rider never seen alighting once the trip's grace
// has passed) from the rider's wallet to the operator's transit account,
// once per ride (ledger.RideCause), whatever the resends.
//
// Where the ride state lives: the hook sees one push, and a ride's
// boarding and alighting can come in different pushes, so the rides
// are kept in the private records, per operator and service day (one
// record per ride, keyed by its boarding op), with an index of the open
// ones (operator, trip, day, rider). A day's rides are priced together
// (transit.Settlement.Charges: parties, transfers and the day's cap need
// them all), and a ride's fare, once posted, is never posted again.
// Days with rides still to post are marked, and Sweep prices them again
// later (the rider who never alighted, whose trip's grace ends after the
// vehicle's last sync).
//
// The riders' facts the fares are priced by are the ones the vehicles
// hold: SetProfile and BuyPass publish them to the operator's feed
// (transit.rider, transit.pass) and keep the same facts in the private
// records in the same batch, so the server prices as the tablet did.
package fares

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"smartpass.city/smartpass/app/fare"
	"smartpass.city/smartpass/app/transit"
	"smartpass.city/smartpass/server/ledger"
	"smartpass.city/smartpass/server/publish"
	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/syncproto"
)

// Settlements give an operator's settlement for a service day
// (Networks, from the log).
type Settlements interface {
	On(operator string, day time.Time) (transit.Settlement, error)
}

// Poster posts rides' fares and publishes riders' facts.
type Poster struct {
	recs store.Records
	nets Settlements
	led  *ledger.Ledger
	pub  *publish.Writer
	// Now is the server's clock, which decides when a ride never seen
	// alighting is complete (tests set it).
	Now    func() time.Time
	Logger *slog.Logger
	// OfflineCap is the city's cap on what a vehicle takes offline from
	// a wallet in a day (ledger.OfflineAllowance); default ¥3,000.
	OfflineCap int64
}

// New returns the poster over the store's private records, the
// operators' settlements, the ledger and the server's writer.
func New(recs store.Records, nets Settlements, led *ledger.Ledger, pub *publish.Writer) *Poster {
	return &Poster{recs: recs, nets: nets, led: led, pub: pub, Now: time.Now, Logger: slog.Default(), OfflineCap: 3000}
}

// The private records of the rides and riders.
const (
	kindOpen     = "fares.open"     // openID -> ride id
	kindDay      = "fares.day"      // dayID -> "" while the day has rides to post
	kindRider    = "fares.rider"    // riderID -> transit.Facts
	kindUnpriced = "fares.unpriced" // ride cause -> why it could not be priced (staff settle it)
	ridePrefix   = "fares.ride."    // + hex(dayID): ride id -> transit.Ride
)

// sep joins the parts of a record id: no feed id or resident holds it.
const sep = "\x1f"

// dayKey is an operator's service day.
type dayKey struct{ operator, day string }

func (k dayKey) id() string { return k.operator + sep + k.day }

func dayOf(id string) dayKey {
	op, day, _ := strings.Cut(id, sep)
	return dayKey{op, day}
}

// rideKind names the records of a day's rides.
func rideKind(k dayKey) string { return ridePrefix + hex.EncodeToString([]byte(k.id())) }

func openID(t transit.Tap) string {
	return strings.Join([]string{t.Facility, t.Trip, t.Day, t.Resident}, sep)
}

func riderID(operator, resident string) string { return operator + sep + resident }

func putJSON(tx store.Tx, kind, id string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Put(kind, id, b)
}

// Records is the hub's Options.Records for the vehicles' taps (join it
// with the ledger's): it notes each tap of the push and posts the fares
// of the rides it completes, in the push's transaction. The operators'
// settlements are read before the transaction; a day with no network
// imported yet keeps its rides noted, and Sweep prices them once it is.
func (p *Poster) Records(device string, ops []syncproto.Op) func(store.Tx) error {
	var taps []syncproto.Op
	days := map[dayKey]bool{}
	for _, op := range ops {
		if op.Kind != transit.OpBoard && op.Kind != transit.OpAlight {
			continue
		}
		t, err := transit.TapOf(op)
		if err != nil {
			continue // the hub stored it as refused
		}
		op.Device = device
		taps = append(taps, op)
		days[dayKey{t.Facility, t.Day}] = true
	}
	if len(taps) == 0 {
		return nil
	}
	sets := p.settlements(days)
	now := p.Now()
	return func(tx store.Tx) error {
		for _, op := range taps {
			if err := note(tx, op); err != nil {
				return fmt.Errorf("fares: note %s %s: %w", op.Kind, transit.RideID(op), err)
			}
		}
		for _, k := range sortedDays(days) {
			if s, ok := sets[k]; ok {
				if _, err := price(tx, k, s, now); err != nil {
					return err
				}
			}
		}
		return nil
	}
}

// settlements returns the settlement of each day that has one.
func (p *Poster) settlements(days map[dayKey]bool) map[dayKey]transit.Settlement {
	out := make(map[dayKey]transit.Settlement, len(days))
	for k := range days {
		day, err := fare.ParseDay(k.day)
		if err != nil {
			continue
		}
		s, err := p.nets.On(k.operator, day)
		if err != nil {
			p.Logger.Warn("fares: rides kept unpriced", "operator", k.operator, "day", k.day, "err", err)
			continue
		}
		out[k] = s
	}
	return out
}

func sortedDays(days map[dayKey]bool) []dayKey {
	out := make([]dayKey, 0, len(days))
	for k := range days {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b dayKey) int { return strings.Compare(a.id(), b.id()) })
	return out
}

// note records a tap: a boarding opens a ride (a resend, or a second
// boarding while aboard, which the fold refuses too, changes nothing);
// an alighting closes the rider's open ride (none open: a resend, or a
// rider who boarded paying cash).
func note(tx store.Tx, op syncproto.Op) error {
	t, err := transit.TapOf(op)
	if err != nil {
		return nil
	}
	k := dayKey{t.Facility, t.Day}
	id := transit.RideID(op)
	open, aboard, err := store.GetJSON[string](tx, kindOpen, openID(t))
	if err != nil {
		return err
	}
	if op.Kind == transit.OpBoard {
		if _, seen, err := store.GetJSON[transit.Ride](tx, rideKind(k), id); err != nil || seen || aboard {
			return err
		}
		party := t.Party
		if party == "" {
			party = id
		}
		r := transit.Ride{ID: id, Device: op.Device, Facility: t.Facility, Trip: t.Trip, Day: t.Day, Resident: t.Resident, Party: party, Via: t.Via, Board: t}
		if err := putJSON(tx, rideKind(k), id, r); err != nil {
			return err
		}
		if err := putJSON(tx, kindOpen, openID(t), id); err != nil {
			return err
		}
		return tx.Put(kindDay, k.id(), nil)
	}
	if !aboard {
		return nil
	}
	r, ok, err := store.GetJSON[transit.Ride](tx, rideKind(k), open)
	if err != nil || !ok {
		return cmp(err, fmt.Errorf("fares: open ride %s has no record", open))
	}
	r.Alight, r.AlightID = &t, id
	if err := putJSON(tx, rideKind(k), open, r); err != nil {
		return err
	}
	if err := tx.Delete(kindOpen, openID(t)); err != nil {
		return err
	}
	return tx.Put(kindDay, k.id(), nil)
}

func cmp(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// price prices a day's rides with s at now and posts the fares of the
// complete ones not posted yet; the day stays marked while any ride is
// still under way. It returns the entries posted.
func price(tx store.Tx, k dayKey, s transit.Settlement, now time.Time) (int, error) {
	rides, riders, err := dayRides(tx, k)
	if err != nil {
		return 0, err
	}
	byID := make(map[string]transit.Ride, len(rides))
	for _, r := range rides {
		byID[r.ID] = r
	}
	charges, unpriced := s.Charges(rides, riders, now)
	posted := 0
	for _, c := range charges {
		r := byID[c.Ride]
		at := r.Board.At
		if r.Alight != nil {
			at = r.Alight.At
		}
		_, ok, err := ledger.PostFare(tx, ledger.RideFare{Cause: ledger.RideCause(k.operator, c.Ride), Resident: c.Resident, Operator: k.operator, Amount: int64(c.Amount), At: at})
		if err != nil {
			return posted, fmt.Errorf("fares: post ride %s: %w", c.Ride, err)
		}
		if ok {
			posted++
		}
	}
	left := map[string]bool{}
	for _, u := range unpriced {
		left[u.Ride] = true
		if err := tx.Put(kindUnpriced, ledger.RideCause(k.operator, u.Ride), []byte(u.Reason.Error())); err != nil {
			return posted, err
		}
	}
	// A ride left unpriced is the operator's to settle by hand: it does
	// not keep the day marked (it is priced again if the day gets
	// another tap).
	for _, r := range rides {
		done, err := ledger.Decided(tx, ledger.RideCause(k.operator, r.ID))
		if err != nil || !done && !left[r.ID] {
			return posted, err
		}
	}
	return posted, tx.Delete(kindDay, k.id())
}

// dayRides reads a day's rides and the facts of their riders the
// server prices by (a rider it holds no valid facts of is left out, and
// their ride unpriced).
func dayRides(tx store.Tx, k dayKey) ([]transit.Ride, map[string]fare.Rider, error) {
	var rides []transit.Ride
	err := tx.Each(rideKind(k), func(_ string, v []byte) error {
		var r transit.Ride
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("fares: ride: %w", err)
		}
		rides = append(rides, r)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	riders := map[string]fare.Rider{}
	for _, r := range rides {
		if _, done := riders[r.Resident]; done {
			continue
		}
		f, ok, err := store.GetJSON[transit.Facts](tx, kindRider, riderID(k.operator, r.Resident))
		if err != nil {
			return nil, nil, err
		}
		if fr, valid := f.Rider(); ok && valid {
			riders[r.Resident] = fr
		}
	}
	return rides, riders, nil
}

// ErrReport is wrapped when a report cannot be made for what was asked:
// a day that is not YYYY-MM-DD, an operator with no network that day.
var ErrReport = errors.New("fares: no such report")

// Ridership is the operator's ridership report of a service day (day,
// YYYY-MM-DD): its rides priced at the poster's now as they are posted
// (a ride still under way is not counted yet), tallied by route, stop
// pair, hour and category (transit.Report). It names no rider.
func (p *Poster) Ridership(operator, day string) ([]transit.RidershipRow, error) {
	d, err := fare.ParseDay(day)
	if err != nil {
		return nil, fmt.Errorf("%w: day %q: %w", ErrReport, day, err)
	}
	s, err := p.nets.On(operator, d)
	if err != nil {
		return nil, fmt.Errorf("%w: %s on %s: %w", ErrReport, operator, day, err)
	}
	var rides []transit.Ride
	var riders map[string]fare.Rider
	err = p.recs.View(func(tx store.Tx) error {
		var err error
		rides, riders, err = dayRides(tx, dayKey{operator, day})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("fares: ridership of %s on %s: %w", operator, day, err)
	}
	charges, _ := s.Charges(rides, riders, p.Now())
	rows, _ := transit.Report(s.Network, rides, charges)
	return rows, nil
}

// Sweep prices again, at the poster's now, every day with rides still
// to post: a rider never seen alighting is charged once the trip's grace
// has passed, whenever the vehicle last synced. The server runs it every
// few minutes; it returns the fares posted.
func (p *Poster) Sweep() (int, error) {
	days := map[dayKey]bool{}
	err := p.recs.View(func(tx store.Tx) error {
		return tx.Each(kindDay, func(id string, _ []byte) error {
			days[dayOf(id)] = true
			return nil
		})
	})
	if err != nil || len(days) == 0 {
		return 0, err
	}
	sets := p.settlements(days)
	now := p.Now()
	posted := 0
	err = p.recs.Update(func(tx store.Tx) error {
		posted = 0
		for _, k := range sortedDays(days) {
			s, ok := sets[k]
			if !ok {
				continue
			}
			n, err := price(tx, k, s, now)
			if err != nil {
				return err
			}
			posted += n
		}
		return nil
	})
	return posted, err
}

// Unpriced returns the rides of operator that could not be priced, and
// why (a rider the vehicle held no facts of, a stop the feed lacks): the
// operator settles them by hand.
func (p *Poster) Unpriced(operator string) (map[string]string, error) {
	out := map[string]string{}
	prefix := ledger.RideCause(operator, "")
	err := p.recs.View(func(tx store.Tx) error {
		return tx.Each(kindUnpriced, func(id string, v []byte) error {
			if ride, ok := strings.CutPrefix(id, prefix); ok {
				done, err := ledger.Decided(tx, id)
				if err == nil && !done {
					out[ride] = string(v)
				}
				return err
			}
			return nil
		})
	})
	return out, err
}
