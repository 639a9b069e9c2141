package appointment

import (
	"fmt"
	"time"

	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/app/role"
	"smartpass.city/smartpass/syncproto"
)

// Books is the folded part.
var Books = opkind.NewSlot("appointments", newBook)

// The hospital's desk (its reception role) publishes slots and records
// no-shows; bookings, moves, cancellations and answers come from the
// resident's account page, which the server writes on the account
// holder's behalf. All go to the hospital's own feed only: the desk's
// list, and answers that reach that hospital's reception and no other.
func init() {
	kind := func(name string, roles []role.Role, body *opkind.Body, audit func(syncproto.Op) (opkind.Entry, bool), fold func(*opkind.Parts, syncproto.Op) error) {
		opkind.Register(opkind.Kind{Name: name, Body: body, Roles: roles, ServerOnly: len(roles) == 0, Feeds: opkind.Feeds{Facility: true}, Audit: audit, Fold: fold})
	}
	at := func(op syncproto.Op) time.Time { return hlc.Wall(op.HLC) }
	desk := []role.Role{role.Reception}

	kind(OpSlots, desk, opkind.Over(Day.Validate, func(d Day) string { return d.Hospital }), nil,
		func(p *opkind.Parts, op syncproto.Op) error {
			d, err := opkind.DecodeValid[Day](op)
			if err != nil {
				return err
			}
			Books.In(p).publish(d)
			return nil
		})
	kind(OpBook, nil, opkind.Over(Booking.Validate, func(b Booking) string { return b.Hospital }),
		func(op syncproto.Op) (opkind.Entry, bool) {
			b, err := opkind.Decode[Booking](op)
			return opkind.Entry{Action: op.Kind, Subject: b.Resident, Detail: fmt.Sprintf("%s %s %s by %s", b.Hospital, b.Department, b.Start.In(JST).Format("2006-01-02 15:04"), b.By)}, err == nil
		},
		func(p *opkind.Parts, op syncproto.Op) error {
			b, err := opkind.DecodeValid[Booking](op)
			if err != nil {
				return err
			}
			return Books.In(p).book(b, opkind.RecordID(op), at(op))
		})
	kind(OpMove, nil, opkind.Over(Move.Validate, func(m Move) string { return m.Hospital }),
		func(op syncproto.Op) (opkind.Entry, bool) {
			m, err := opkind.Decode[Move](op)
			return opkind.Entry{Action: op.Kind, Subject: m.ID, Detail: m.Start.In(JST).Format("2006-01-02 15:04") + " by " + m.By}, err == nil
		},
		func(p *opkind.Parts, op syncproto.Op) error {
			m, err := opkind.DecodeValid[Move](op)
			if err != nil {
				return err
			}
			return Books.In(p).move(m, at(op))
		})
	kind(OpCancel, nil, opkind.Over(Cancel.Validate, func(c Cancel) string { return c.Hospital }),
		func(op syncproto.Op) (opkind.Entry, bool) {
			c, err := opkind.Decode[Cancel](op)
			return opkind.Entry{Action: op.Kind, Subject: c.ID, Detail: "by " + c.By}, err == nil
		},
		func(p *opkind.Parts, op syncproto.Op) error {
			c, err := opkind.DecodeValid[Cancel](op)
			if err != nil {
				return err
			}
			return Books.In(p).cancel(c, at(op))
		})
	kind(OpNoShow, desk, opkind.Over(NoShow.Validate, func(n NoShow) string { return n.Hospital }),
		func(op syncproto.Op) (opkind.Entry, bool) {
			n, err := opkind.Decode[NoShow](op)
			return opkind.Entry{Action: op.Kind, Subject: n.ID, Detail: n.Hospital}, err == nil
		},
		func(p *opkind.Parts, op syncproto.Op) error {
			n, err := opkind.DecodeValid[NoShow](op)
			if err != nil {
				return err
			}
			return Books.In(p).noShow(n, at(op))
		})
	kind(OpAnswers, nil, opkind.Over(Answers.Validate, func(a Answers) string { return a.Hospital }),
		func(op syncproto.Op) (opkind.Entry, bool) {
			a, err := opkind.Decode[Answers](op)
			return opkind.Entry{Action: op.Kind, Subject: a.Resident, Detail: a.Hospital + " " + a.Questionnaire + " for " + a.Booking + " by " + a.By}, err == nil
		},
		func(p *opkind.Parts, op syncproto.Op) error {
			a, err := opkind.DecodeValid[Answers](op)
			if err != nil {
				return err
			}
			return Books.In(p).answer(a)
		})
}

// publish replaces a department's day, keeping a removed slot that
// still has bookings (they are the desk's to move or cancel).
func (b *Book) publish(d Day) {
	byDept := b.Days[d.Hospital]
	if byDept == nil {
		byDept = map[string]map[string]Day{}
		b.Days[d.Hospital] = byDept
	}
	if byDept[d.Department] == nil {
		byDept[d.Department] = map[string]Day{}
	}
	old := byDept[d.Department][d.Date]
	for _, s := range old.Slots {
		if _, kept := d.slotAt(s.Start); !kept {
			if n, _ := b.taken(d.Hospital, d.Department, s.Start, ""); n > 0 {
				d.Slots = append(d.Slots, s)
			}
		}
	}
	byDept[d.Department][d.Date] = d
}

func (d Day) slotAt(start time.Time) (Slot, bool) {
	for _, s := range d.Slots {
		if s.Start.Equal(start) {
			return s, true
		}
	}
	return Slot{}, false
}

// answer attaches answers to their booking: one of the same hospital
// and patient, still booked, in the questionnaire's department.
func (b *Book) answer(a Answers) error {
	e, err := b.active(a.Hospital, a.Booking)
	if err != nil {
		return err
	}
	q, _ := Lookup(a.Questionnaire)
	if e.Resident != a.Resident || e.Department != q.Department {
		return fmt.Errorf("%w: answers of %s to %s for a booking of %s in %s", ErrInvalid, a.Resident, q.ID, e.Resident, e.Department)
	}
	e.Answers = &a
	return nil
}
