package medical

import (
	"fmt"
	"strings"

	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/app/role"
	"smartpass.city/smartpass/syncproto"
)

// Records is the folded part.
var Records = opkind.NewSlot("medical", newRecord)

// Who writes what:
//   - a hospital's publication is the city's record of the hospital
//     (the server writes it, on the public feed, so every account page
//     offers only what a hospital exchanges);
//   - consents and their withdrawal come from the patient's account page,
//     which the server writes on the account holder's behalf; they go to
//     the hospital's feed too, so its reception knows what to ask for;
//   - a hospital's reception publishes visit summaries, kept by the
//     server alone (FeedAll) and shown only through View;
//   - the server records each access as it answers a view: the log the
//     patient reads, and the audit's.
//
// Every one is audited: special-care personal data.
func init() {
	opkind.Register(opkind.Kind{
		Name:        OpPublish,
		Validate:    opkind.Rule(Publish.Validate),
		ServerOnly:  true,
		Feeds:       opkind.Feeds{Public: true},
		SnapshotKey: func(op syncproto.Op) string { p, _ := opkind.Decode[Publish](op); return p.Hospital },
		Audit: func(op syncproto.Op) (opkind.Entry, bool) {
			p, err := opkind.Decode[Publish](op)
			return opkind.Entry{Action: op.Kind, Subject: p.Hospital, Detail: strings.Join(p.Kinds, " ")}, err == nil
		},
		Fold: func(p *opkind.Parts, op syncproto.Op) error {
			v, err := opkind.DecodeValid[Publish](op)
			if err != nil {
				return err
			}
			Records.In(p).Published[v.Hospital] = v.Kinds
			return nil
		},
	})
	opkind.Register(opkind.Kind{
		Name:       OpConsent,
		Body:       opkind.Over(Consent.Validate, func(c Consent) string { return c.Hospital }),
		ServerOnly: true,
		Feeds:      opkind.Feeds{Facility: true},
		Audit: func(op syncproto.Op) (opkind.Entry, bool) {
			c, err := opkind.Decode[Consent](op)
			return opkind.Entry{Action: op.Kind, Subject: c.Resident, Detail: c.Hospital + " " + c.Kind + " until " + c.Until.Format("2006-01-02") + " by " + c.By}, err == nil
		},
		Fold: func(p *opkind.Parts, op syncproto.Op) error {
			c, err := opkind.DecodeValid[Consent](op)
			if err != nil {
				return err
			}
			return Records.In(p).consent(c)
		},
	})
	opkind.Register(opkind.Kind{
		Name:       OpRevoke,
		Body:       opkind.Over(Revoke.Validate, func(r Revoke) string { return r.Hospital }),
		ServerOnly: true,
		Feeds:      opkind.Feeds{Facility: true},
		Audit: func(op syncproto.Op) (opkind.Entry, bool) {
			r, err := opkind.Decode[Revoke](op)
			return opkind.Entry{Action: op.Kind, Subject: r.Resident, Detail: r.Hospital + " " + r.Kind + " by " + r.By}, err == nil
		},
		Fold: func(p *opkind.Parts, op syncproto.Op) error {
			r, err := opkind.DecodeValid[Revoke](op)
			if err != nil {
				return err
			}
			return Records.In(p).revoke(r, hlc.Wall(op.HLC))
		},
	})
	opkind.Register(opkind.Kind{
		Name:  OpSummary,
		Body:  opkind.Over(Summary.Validate, func(s Summary) string { return s.Hospital }),
		Roles: []role.Role{role.Reception},
		Audit: func(op syncproto.Op) (opkind.Entry, bool) {
			s, err := opkind.Decode[Summary](op)
			return opkind.Entry{Action: op.Kind, Subject: s.Resident, Detail: s.Hospital + " " + s.Visit.Format("2006-01-02")}, err == nil
		},
		Fold: func(p *opkind.Parts, op syncproto.Op) error {
			s, err := opkind.DecodeValid[Summary](op)
			if err != nil {
				return err
			}
			r := Records.In(p)
			r.Summaries = append(r.Summaries, Stored{Summary: s, ID: opkind.RecordID(op), At: hlc.Wall(op.HLC)})
			return nil
		},
	})
	// The patient's own import, from the account page: kept like a
	// summary, shown under medication only with consent.
	opkind.Register(opkind.Kind{
		Name:       OpNotebook,
		Validate:   opkind.Rule(Notebook.Validate),
		ServerOnly: true,
		Audit: func(op syncproto.Op) (opkind.Entry, bool) {
			n, err := opkind.Decode[Notebook](op)
			return opkind.Entry{Action: op.Kind, Subject: n.Resident, Detail: fmt.Sprintf("%d medications by %s", len(n.Documents), n.By)}, err == nil
		},
		Fold: func(p *opkind.Parts, op syncproto.Op) error {
			n, err := opkind.DecodeValid[Notebook](op)
			if err != nil {
				return err
			}
			r := Records.In(p)
			r.Summaries = append(r.Summaries, Stored{Summary: n.summary(), ID: opkind.RecordID(op), At: hlc.Wall(op.HLC)})
			return nil
		},
	})
	opkind.Register(opkind.Kind{
		Name:       OpAccess,
		Validate:   opkind.Rule(Access.Validate),
		ServerOnly: true,
		Audit: func(op syncproto.Op) (opkind.Entry, bool) {
			a, err := opkind.Decode[Access](op)
			return opkind.Entry{Action: op.Kind, Subject: a.Resident, Detail: a.Hospital + " " + a.Purpose + " " + strings.Join(a.Kinds, " ") + " " + a.Reason}, err == nil
		},
		Fold: func(p *opkind.Parts, op syncproto.Op) error {
			a, err := opkind.DecodeValid[Access](op)
			if err != nil {
				return err
			}
			r := Records.In(p)
			r.Accesses = append(r.Accesses, Logged{Access: a, ID: opkind.RecordID(op), At: hlc.Wall(op.HLC)})
			return nil
		},
	})
}
