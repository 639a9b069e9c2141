package identify

import (
	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/app/role"
	"smartpass.city/smartpass/syncproto"
)

// PassesUsed is the folded part that holds the passes this device
// admitted (pass.Pass.ID): a pass is admitted once.
var PassesUsed = opkind.NewSlot("passes used", func() map[string]bool { return make(map[string]bool) })

// Every terminal that identifies people records it. The record stays in
// the audit role's feed only (no terminal needs another's), and the law
// wants each accounted for in the audit log.
func init() {
	opkind.Register(opkind.Kind{
		Name:  OpIdentified,
		Body:  opkind.Over(Identification.Validate, func(i Identification) string { return i.Facility }),
		Roles: []role.Role{role.Shelter, role.PlayPark, role.Reception, role.Shop, role.Vehicle},
		Audit: func(op syncproto.Op) (opkind.Entry, bool) {
			i, err := opkind.Decode[Identification](op)
			return opkind.Entry{Action: op.Kind, Subject: i.Resident, Detail: i.Facility + " " + i.Method + " " + i.Outcome}, err == nil
		},
		Fold: func(p *opkind.Parts, op syncproto.Op) error {
			i, err := opkind.Decode[Identification](op)
			if err != nil {
				return err
			}
			if i.Pass != "" && i.Outcome == Accepted {
				(*PassesUsed.In(p))[i.Pass] = true
			}
			return nil
		},
	})
}
