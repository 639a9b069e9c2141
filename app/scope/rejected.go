package scope

import (
	"encoding/json"

	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/syncproto"
)

// The server's verdict on an op a device was not allowed to record: it
// stays with the facility that pushed it, and reaches the HQ only when
// the HQ would have seen the original (an HQ kind, refused for scope, not
// for a malformed body). Its audit entry is the original kind's
// (Kind.AuditRefused).
func init() {
	opkind.Register(opkind.Kind{
		Name:       OpRejected,
		ServerOnly: true,
		Facility:   opkind.Field(func(r Rejection) string { return r.Facility }),
		Feeds:      opkind.Feeds{Facility: true, By: rejectedToHQ},
		Audit: func(op syncproto.Op) (opkind.Entry, bool) {
			r, err := opkind.Decode[Rejection](op)
			if err != nil {
				return opkind.Entry{}, false
			}
			k, ok := opkind.Lookup(r.Kind)
			if !ok || k.AuditRefused == nil {
				return opkind.Entry{}, false
			}
			return k.AuditRefused(syncproto.Op{Device: op.Device, Seq: op.Seq, HLC: op.HLC, Kind: r.Kind, Body: r.Body}, r.Reason)
		},
		// The server refused the op its device recorded: show it as
		// refused, with the original kind and body, never apply it.
		Fold: func(p *opkind.Parts, op syncproto.Op) error {
			r, err := opkind.Decode[Rejection](op)
			if err != nil {
				return err
			}
			orig := op
			orig.Kind, orig.Body = r.Kind, r.Body
			rs := opkind.Rejections.In(p)
			*rs = append(*rs, opkind.Rejected{Op: orig, Reason: "refused by the server: " + r.Reason})
			return nil
		},
	})
}

// rejectedToHQ returns the HQ feed for a refusal the HQ must see: of a
// kind the HQ sees, refused for being out of the device's scope (a
// refused hospital op carries the patient's record, so only HQ kinds; a
// malformed record stays with its facility).
func rejectedToHQ(op syncproto.Op) []string {
	var r Rejection
	if json.Unmarshal(op.Body, &r) != nil || r.Invalid || r.Facility == "" {
		return nil
	}
	if k, ok := opkind.Lookup(r.Kind); ok && k.Feeds.HQ {
		return []string{FeedHQ}
	}
	return nil
}
