package hospital

import (
	"time"

	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/app/role"
	"smartpass.city/smartpass/syncproto"
)

// Arrival is a reception as the desk's queue lists it: the record, its
// id and when it was made.
type Arrival struct {
	Reception
	ID string
	At time.Time
}

// The folded parts: Patients holds the patient numbers by facility and
// then resident; Arrivals every reception, in fold (arrival) order.
var (
	Patients = opkind.NewSlot("patients", func() map[string]map[string]string { return make(map[string]map[string]string) })
	Arrivals = opkind.NewSlot("receptions", func() []Arrival { return nil })
)

// A hospital's reception links its own patient numbers and records
// receptions, on its own feed only: never the HQ's.
func init() {
	opkind.Register(opkind.Kind{
		Name:  OpLink,
		Body:  opkind.Over(Link.Validate, func(l Link) string { return l.Facility }),
		Roles: []role.Role{role.Reception},
		Feeds: opkind.Feeds{Facility: true},
		Fold: func(p *opkind.Parts, op syncproto.Op) error {
			l, err := opkind.DecodeValid[Link](op)
			if err != nil {
				return err
			}
			ps := *Patients.In(p)
			if ps[l.Facility] == nil {
				ps[l.Facility] = make(map[string]string)
			}
			ps[l.Facility][l.Resident] = l.Patient
			return nil
		},
	})
	opkind.Register(opkind.Kind{
		Name:  OpReception,
		Body:  opkind.Over(Reception.Validate, func(r Reception) string { return r.Facility }),
		Roles: []role.Role{role.Reception},
		Feeds: opkind.Feeds{Facility: true},
		Fold: func(p *opkind.Parts, op syncproto.Op) error {
			r, err := opkind.DecodeValid[Reception](op)
			if err != nil {
				return err
			}
			as := Arrivals.In(p)
			*as = append(*as, Arrival{Reception: r, ID: opkind.RecordID(op), At: hlc.Wall(op.HLC)})
			return nil
		},
	})
}
