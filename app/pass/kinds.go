package pass

import "smartpass.city/smartpass/app/opkind"

// Published is the folded part that holds the keys the server published
// last (empty: none yet).
var Published = opkind.NewSlot("pass keys", func() Keys { return Keys{} })

// Only the server publishes its pass keys, on the public feed, so every
// terminal checks passes offline.
func init() {
	opkind.Register(opkind.Kind{
		Name:       OpKeys,
		ServerOnly: true,
		Feeds:      opkind.Feeds{Public: true},
		Fold:       opkind.Replace(Published),
	})
}
