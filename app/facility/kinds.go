package facility

import (
	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/syncproto"
)

// Facilities is the folded part that holds every facility, by id.
var Facilities = opkind.NewSlot("facilities", func() map[string]Facility { return make(map[string]Facility) })

// Only the server writes facility records; every device needs them.
func init() {
	opkind.Register(opkind.Kind{
		Name:       OpUpsert,
		ServerOnly: true,
		Feeds:      opkind.Feeds{Public: true},
		Fold: func(p *opkind.Parts, op syncproto.Op) error {
			f, err := opkind.DecodeValid[Facility](op)
			if err != nil {
				return err
			}
			(*Facilities.In(p))[f.ID] = f
			return nil
		},
	})
}
