package jpki

import (
	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/app/role"
	"smartpass.city/smartpass/syncproto"
)

// Published is the folded part that holds the trust anchors and
// revocation lists the server published last (nil: none yet).
var Published = opkind.NewSlot("trust anchors", func() *Anchors { return nil })

// The server publishes its trust anchors to every device. Terminals that
// check a card offline record the check: audited, and again when the
// server's second look refuses it.
func init() {
	opkind.Register(opkind.Kind{
		Name:       OpAnchors,
		ServerOnly: true,
		Feeds:      opkind.Feeds{Public: true},
		Fold:       opkind.Replace(Published),
	})
	opkind.Register(opkind.Kind{
		Name:  OpChecked,
		Body:  opkind.Over(Checked.Validate, func(c Checked) string { return c.Facility }),
		Roles: []role.Role{role.Shelter, role.PlayPark, role.Reception, role.Shop},
		Audit: func(op syncproto.Op) (opkind.Entry, bool) {
			c, err := opkind.Decode[Checked](op)
			return opkind.Entry{Action: op.Kind, Subject: "jpki:" + c.Serial, Detail: c.Facility + " " + c.Outcome}, err == nil
		},
		AuditRefused: func(op syncproto.Op, reason string) (opkind.Entry, bool) {
			c, err := opkind.Decode[Checked](op)
			return opkind.Entry{Action: op.Kind + ".refused", Subject: "jpki:" + c.Serial, Detail: c.Facility + " " + reason}, err == nil
		},
	})
}
