package facility

import "smartpass.city/smartpass/app/opkind"

// Facilities is the folded part that holds every facility, by id.
var Facilities = opkind.NewSlot("facilities", func() map[string]Facility { return make(map[string]Facility) })

// Only the server writes facility records; every device needs them.
func init() {
	opkind.Register(opkind.Kind{
		Name:       OpUpsert,
		ServerOnly: true,
		Feeds:      opkind.Feeds{Public: true},
		Fold:       opkind.Keep(Facilities, func(f Facility) string { return f.ID }),
	})
}
