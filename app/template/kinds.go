package template

import (
	"encoding/json"
	"strings"

	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/app/role"
	"smartpass.city/smartpass/syncproto"
)

// The folded parts: Templates holds the face templates this device may
// match against, Profiles what it may know of those residents, both by
// resident.
var (
	Templates = opkind.NewSlot("templates", func() map[string]Template { return make(map[string]Template) })
	Profiles  = opkind.NewSlot("profiles", func() map[string]Profile { return make(map[string]Profile) })
)

// The city desk records and deletes templates for the facilities a
// resident consented to (each facility's template feed); the server
// writes the profiles beside them, and the redacted place of an erased
// template. Every deletion is audited.
func init() {
	opkind.Register(opkind.Kind{
		Name:        OpPut,
		Validate:    opkind.Rule(Template.Validate),
		Roles:       []role.Role{role.Registrar},
		Feeds:       opkind.Feeds{By: facilityFeeds},
		SnapshotKey: resident,
		Fold:        opkind.Keep(Templates, func(t Template) string { return t.Resident }),
	})
	opkind.Register(opkind.Kind{
		Name:        OpDelete,
		Validate:    opkind.Rule(Delete.Validate),
		Roles:       []role.Role{role.Registrar},
		Feeds:       opkind.Feeds{By: facilityFeeds},
		SnapshotKey: resident,
		Audit: func(op syncproto.Op) (opkind.Entry, bool) {
			d, err := opkind.Decode[Delete](op)
			return opkind.Entry{Action: op.Kind, Subject: d.Resident, Detail: strings.Join(d.Facilities, " ")}, err == nil
		},
		Fold: func(p *opkind.Parts, op syncproto.Op) error {
			d, err := opkind.Decode[Delete](op)
			if err != nil {
				return err
			}
			delete(*Templates.In(p), d.Resident)
			delete(*Profiles.In(p), d.Resident)
			return nil
		},
	})
	opkind.Register(opkind.Kind{
		Name:       OpProfile,
		ServerOnly: true,
		Feeds: opkind.Feeds{By: func(op syncproto.Op) []string {
			var p Profile
			if json.Unmarshal(op.Body, &p) != nil || p.Facility == "" {
				return nil
			}
			return []string{opkind.TemplateFeed(p.Facility)}
		}},
		// Beside the template, not instead of it.
		SnapshotKey: func(op syncproto.Op) string { return resident(op) + "/profile" },
		Fold:        opkind.Keep(Profiles, func(p Profile) string { return p.Resident }),
	})
	// What the server keeps of an erased template: devices ignore it.
	opkind.Register(opkind.Kind{Name: OpErased, ServerOnly: true, SnapshotKey: resident})
}

// facilityFeeds returns the template feeds of the facilities a template
// op is for.
func facilityFeeds(op syncproto.Op) []string {
	var t struct{ Facilities []string }
	json.Unmarshal(op.Body, &t)
	var out []string
	for _, f := range t.Facilities {
		out = append(out, opkind.TemplateFeed(f))
	}
	return out
}

// resident returns the resident a template op is about.
func resident(op syncproto.Op) string {
	var r struct{ Resident string }
	json.Unmarshal(op.Body, &r)
	return r.Resident
}
