package transit

import (
	"errors"
	"fmt"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/fare"
	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/syncproto"
)

// Op kinds of what a vehicle holds of its riders, offline all day: both
// the server's, each to its operator's vehicles only.
const (
	// OpRider is a rider's transit profile at an operator; its body is
	// a Profile. The latest per rider wins.
	OpRider = "transit.rider"
	// OpPass is a commuter pass bought for a rider; its body is a
	// PassRecord. Passes add up; a pass id is kept once.
	OpPass = "transit.pass"
)

// Profile is what an operator's vehicles know of a rider who consented
// to it, to price their rides on the tablet: the birth date, from which
// the class is computed for the day of travel (and never shown: the
// screen shows the class), until when a disability handbook checked at
// the city desk holds, and what the vehicle may take from the wallet
// offline in a day.
type Profile struct {
	Operator string `json:"operator"`
	Resident string `json:"resident"`
	// Birth is YYYY-MM-DD.
	Birth string `json:"birth"`
	// DisabilityUntil is YYYY-MM-DD, the handbook attribute's last day;
	// "" for none.
	DisabilityUntil string `json:"disability_until,omitempty"`
	// Allowance is the yen a vehicle may take offline from the wallet
	// in a day (ledger.OfflineAllowance when the profile was written).
	Allowance int64 `json:"allowance"`
}

// PassRecord is a commuter pass a rider bought, for its operator's
// vehicles.
type PassRecord struct {
	Resident string    `json:"resident"`
	Pass     fare.Pass `json:"pass"`
}

// ErrRider is wrapped by the riders' Validate.
var ErrRider = errors.New("invalid transit rider")

// Validate reports whether p can be stored.
func (p Profile) Validate() error {
	if p.Operator == "" || p.Resident == "" || len(p.Resident) > MaxID {
		return fmt.Errorf("%w: operator %q resident %q", ErrRider, p.Operator, p.Resident)
	}
	if _, err := fare.ParseDay(p.Birth); err != nil {
		return fmt.Errorf("%w: birth: %w", ErrRider, err)
	}
	if p.DisabilityUntil != "" {
		if _, err := fare.ParseDay(p.DisabilityUntil); err != nil {
			return fmt.Errorf("%w: disability_until: %w", ErrRider, err)
		}
	}
	if p.Allowance < 0 {
		return fmt.Errorf("%w: allowance ¥%d", ErrRider, p.Allowance)
	}
	return nil
}

// Validate reports whether r can be stored.
func (r PassRecord) Validate() error {
	p := r.Pass
	if r.Resident == "" || p.ID == "" || p.Operator == "" || len(p.ID) > MaxID {
		return fmt.Errorf("%w: pass %q of %q at %q", ErrRider, p.ID, r.Resident, p.Operator)
	}
	from, err1 := fare.ParseDay(p.From)
	until, err2 := fare.ParseDay(p.Until)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("%w: pass %s: %w", ErrRider, p.ID, err)
	}
	if until.Before(from) || len(p.Routes) == 0 && len(p.Zones) == 0 {
		return fmt.Errorf("%w: pass %s: a period from..until and routes or zones", ErrRider, p.ID)
	}
	switch p.Class {
	case fare.Adult, fare.Child:
	default:
		return fmt.Errorf("%w: pass %s: class %q", ErrRider, p.ID, p.Class)
	}
	return nil
}

// Facts are what a vehicle holds of one rider: their profile and passes.
type Facts struct {
	Profile Profile     `json:"profile"`
	Passes  []fare.Pass `json:"passes,omitempty"`
}

// Rider returns the fare engine's rider of f (ok false before the
// profile arrived: such a rider is not priced, and pays by cash or IC).
func (f Facts) Rider() (fare.Rider, bool) {
	birth, err := fare.ParseDay(f.Profile.Birth)
	if err != nil {
		return fare.Rider{}, false
	}
	r := fare.Rider{Birth: birth, Passes: f.Passes}
	if d, err := fare.ParseDay(f.Profile.DisabilityUntil); err == nil {
		r.DisabilityUntil = d
	}
	return r, true
}

// WithPass returns f holding p once (a pass published again replaces
// its earlier record).
func (f Facts) WithPass(p fare.Pass) Facts {
	out := Facts{Profile: f.Profile}
	for _, q := range f.Passes {
		if q.ID != p.ID {
			out.Passes = append(out.Passes, q)
		}
	}
	out.Passes = append(out.Passes, p)
	return out
}

// Riders is the folded part a vehicle prices its riders from: facts by
// resident.
var Riders = opkind.NewSlot("transit.riders", func() map[string]Facts { return make(map[string]Facts) })

// FareRiders returns the fare engine's riders of the folded facts.
func FareRiders(facts map[string]Facts) map[string]fare.Rider {
	out := make(map[string]fare.Rider, len(facts))
	for id, f := range facts {
		if r, ok := f.Rider(); ok {
			out[id] = r
		}
	}
	return out
}

// The server writes both to the operator's feed only: a vehicle of
// another operator learns nothing of the rider.
func init() {
	opkind.Register(opkind.Kind{
		Name:       OpRider,
		Body:       opkind.Over(Profile.Validate, func(p Profile) string { return p.Operator }),
		ServerOnly: true,
		Feeds:      opkind.Feeds{Facility: true},
		Fold: func(ps *opkind.Parts, op syncproto.Op) error {
			p, err := opkind.DecodeValid[Profile](op)
			if err != nil {
				return err
			}
			all := *Riders.In(ps)
			f := all[p.Resident]
			f.Profile = p
			all[p.Resident] = f
			return nil
		},
	})
	opkind.Register(opkind.Kind{
		Name:       OpPass,
		Body:       opkind.Over(PassRecord.Validate, func(r PassRecord) string { return r.Pass.Operator }),
		ServerOnly: true,
		Feeds:      opkind.Feeds{Facility: true},
		Fold: func(ps *opkind.Parts, op syncproto.Op) error {
			r, err := opkind.DecodeValid[PassRecord](op)
			if err != nil {
				return err
			}
			all := *Riders.In(ps)
			all[r.Resident] = all[r.Resident].WithPass(r.Pass)
			return nil
		},
	})
}

// BuyPass asks for a commuter pass from the wallet of a household
// member: the operator's product, from a day (YYYY-MM-DD).
type BuyPass struct {
	Resident string `json:"resident"`
	Operator string `json:"operator"`
	Product  string `json:"product"`
	From     string `json:"from"`
	// Request is the browser's id for this purchase: sent again after a
	// lost answer, it buys (and charges) once.
	Request string `json:"request"`
}

// PassPath is where an account buys a pass.
const PassPath = "/accounts/transit/pass"

// API is the account endpoints of transit, signed by the household's
// holder: a guardian buys a child's pass from the child's wallet.
var API = struct {
	BuyPass account.Endpoint[BuyPass, PassRecord]
}{
	BuyPass: account.Post[BuyPass, PassRecord](PassPath, account.Holder),
}
