package access

import (
	"fmt"
	"strings"

	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/app/role"
	"smartpass.city/smartpass/syncproto"
)

// Staff at a shelter and at the HQ read personal data on their screens;
// each read is accounted for in the audit log, and stays in the audit
// role's feed only.
func init() {
	opkind.Register(opkind.Kind{
		Name:  OpRead,
		Body:  opkind.Over(Read.Validate, func(r Read) string { return r.Facility }),
		Roles: []role.Role{role.Shelter, role.HQ},
		Audit: func(op syncproto.Op) (opkind.Entry, bool) {
			r, err := opkind.Decode[Read](op)
			return opkind.Entry{Action: op.Kind, Subject: strings.Join(r.Records, " "), Detail: fmt.Sprintf("%s %s %s %d records", r.Facility, r.What, r.Shelter, r.Count)}, err == nil
		},
	})
}
