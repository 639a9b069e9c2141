package wallet

import (
	"fmt"

	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/app/role"
	"smartpass.city/smartpass/syncproto"
)

// Payments and refunds are personal data (who paid where, how much): they
// go to the shop's own feed only, so every terminal of that shop can
// refund a payment another took and keep a payer's offline allowance,
// and to no other facility and not the HQ. Top-ups, limits and freezes
// are the desk's and stay in FeedAll (the audit role's): the desk does
// not need them back, and the resident reads them from the ledger
// through the server. Every one is in the audit chain once stored.
func init() {
	opkind.Register(opkind.Kind{
		Name:         OpPayment,
		AuditRefused: refused(func(p Payment) string { return p.Resident }),
		Body:         opkind.Over(Payment.Validate, func(p Payment) string { return p.Facility }),
		Roles:        []role.Role{role.Shop},
		Feeds:        opkind.Feeds{Facility: true},
		Audit: audit(func(p Payment) (string, string) {
			how := "online"
			if p.Offline {
				how = "offline"
			}
			return p.Resident, fmt.Sprintf("%s ¥%d %s", p.Facility, p.Amount, how)
		}),
	})
	opkind.Register(opkind.Kind{
		Name:         OpRefund,
		AuditRefused: refused(func(p Refund) string { return p.Payment }),
		Body:         opkind.Over(Refund.Validate, func(r Refund) string { return r.Facility }),
		Roles:        []role.Role{role.Shop},
		Feeds:        opkind.Feeds{Facility: true},
		Audit: audit(func(r Refund) (string, string) {
			return r.Payment, fmt.Sprintf("%s ¥%d by %s", r.Facility, r.Amount, r.Staff)
		}),
	})
	opkind.Register(opkind.Kind{
		Name:         OpTopUpCash,
		AuditRefused: refused(func(p TopUpCash) string { return p.Resident }),
		Validate:     opkind.Rule(TopUpCash.Validate),
		Roles:        []role.Role{role.Registrar},
		Audit: audit(func(t TopUpCash) (string, string) {
			return t.Resident, fmt.Sprintf("cash ¥%d by %s confirmed by %q", t.Amount, t.Staff, t.Confirmer)
		}),
	})
	opkind.Register(opkind.Kind{
		Name:     OpLimits,
		Validate: opkind.Rule(Limits.Validate),
		Roles:    []role.Role{role.Registrar},
		Audit: audit(func(l Limits) (string, string) {
			face := "default"
			if l.FaceOnly != nil {
				face = fmt.Sprintf("¥%d", *l.FaceOnly)
			}
			return l.Resident, fmt.Sprintf("guardian %s: ¥%d a day, ¥%d a payment, face only %s (staff %s)", l.Guardian, l.Daily, l.PerPay, face, l.Staff)
		}),
	})
	opkind.Register(opkind.Kind{
		Name:     OpFreeze,
		Validate: opkind.Rule(Freeze.Validate),
		Roles:    []role.Role{role.Registrar},
		Audit: audit(func(f Freeze) (string, string) {
			return f.Resident, fmt.Sprintf("frozen=%t %s (staff %s)", f.Frozen, f.Reason, f.Staff)
		}),
	})
}

// audit makes a Kind.Audit of what a body's subject and detail are.
func audit[T any](of func(T) (subject, detail string)) func(syncproto.Op) (opkind.Entry, bool) {
	return func(op syncproto.Op) (opkind.Entry, bool) {
		v, err := opkind.Decode[T](op)
		if err != nil {
			return opkind.Entry{}, false
		}
		s, d := of(v)
		return opkind.Entry{Action: op.Kind, Subject: s, Detail: d}, true
	}
}

// refused makes a Kind.AuditRefused: the refusal, with its words, about
// the body's subject.
func refused[T any](subject func(T) string) func(syncproto.Op, string) (opkind.Entry, bool) {
	return func(op syncproto.Op, reason string) (opkind.Entry, bool) {
		v, err := opkind.Decode[T](op)
		if err != nil {
			return opkind.Entry{}, false
		}
		return opkind.Entry{Action: op.Kind + ".refused", Subject: subject(v), Detail: reason}, true
	}
}
