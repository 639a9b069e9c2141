// Package faces is the server's one door for residents' faces: a face
// registered from a resident's own account (POST /accounts/face) and one
// registered at a city desk's tablet (its template.put op, synced) both
// come through Door.Register and get the same rules; a face deleted from
// an account goes through Door.Delete; a change the terminals must learn
// (a consent, a renewed card) through Door.Profiles.
//
// The rules of a registration:
//   - its facilities must recognise faces (ErrConsent);
//   - it replaces the resident's earlier one, consent included: every
//     other facility that recognises faces gets the template's withdrawal
//     (template.Delete), so the face leaves their terminals;
//   - the server sets its expiry (template.Template.Expires), by the
//     resident's age from their record (account.FaceExpiry: 1 year under
//     13, 2 under 16, else 5). A desk registration of a resident the
//     server has no record of (a number typed at the desk) expires after
//     UnknownAgeYears, the shortest period: the server cannot tell their
//     age, and a child's face changes fastest. Opening an account and
//     registering again gives the period of their age;
//   - each facility gets its profile of a resident the server knows
//     (profileFor), and the resident's record notes the face's expiry
//     and facilities (residents.SetFaceIn);
//   - what the server writes of it is one batch of its one writer
//     (publish.Writer), committed together or not at all.
//
// A desk's registration is the desk's own op (template.put, synced): the
// hub asks the door to prepare it before it is stored (Prepare: the
// expiry), notes it in the same transaction (Records: the outbox), and
// tells the door once it is stored (Stored: the withdrawals, profiles and
// record follow as one batch of the server's ops, clocked after the
// desk's, which clears the note; Drain at start follows up what a crash
// left noted). An account's registration is all the server's ops,
// one batch. Either way the log holds one template per registration. The
// registering device may set an earlier expiry, never a later one.
package faces

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/app/wallet"
	"smartpass.city/smartpass/server/devices"
	"smartpass.city/smartpass/server/publish"
	"smartpass.city/smartpass/server/residents"
	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/syncproto"
)

// UnknownAgeYears is how long a face registered at a city desk for a
// resident the server has no record of stays valid: the shortest
// renewal period (a young child's), since nobody knows their age.
const UnknownAgeYears = 1

// ErrConsent is a registration with no usable facility: none, or one
// that does not recognise faces.
var ErrConsent = errors.New("faces: register at facilities that recognise faces")

// Door registers, withdraws and deletes residents' faces.
type Door struct {
	pub        *publish.Writer
	residents  *residents.Registry // nil: the server keeps no accounts
	facilities devices.Facilities
	city       string
	logger     *slog.Logger
	// Now is the clock of expiries (tests set it).
	Now func() time.Time
	// More, when set, gives a resident's facts at a facility beyond the
	// profile (a transit operator's rider profile: server/fares), as ops
	// and private records written in the same batch as the profiles;
	// nil ops for a facility it has nothing for.
	More func(f facility.Facility, person account.Account) ([]syncproto.Op, func(store.Tx) error, error)
	// drain keeps two follow-ups of one note from running at once.
	drain sync.Mutex
	// Wallets, when set, gives shops' profiles the payer's offline
	// allowance; WalletMoved writes them again when a wallet moves.
	Wallets Wallets
}

// New returns the door writing through pub; reg is the residents'
// registry (nil on a server without accounts), city the municipality whose
// children enter play parks free (profiles).
func New(pub *publish.Writer, reg *residents.Registry, fac devices.Facilities, city string, logger *slog.Logger) *Door {
	return &Door{pub: pub, residents: reg, facilities: fac, city: city, logger: logger, Now: time.Now}
}

// Register records t as the resident's face at t.Facilities, by the rules
// in the package comment, as one batch of the server's ops: the template
// with its expiry, the withdrawals, the profiles, and the record.
func (d *Door) Register(ctx context.Context, t template.Template) error {
	r, err := d.plan(t)
	if err != nil {
		return err
	}
	put, err := publish.Ops(template.OpPut, []template.Template{r.t}, nil)
	if err != nil {
		return err
	}
	ops := append(r.withdrawals, put...)
	return d.pub.Write(ctx, append(ops, r.profiles...), r.records)
}

// Prepare is the hub's Prepare: a template a device (a city desk) pushes
// gets its expiry by the rules before it is stored, so the desk's op is
// the registration's template, as the server's op is for an account's.
// Any other op, or one the rules refuse, is stored as it came (Stored
// logs the refusal).
func (d *Door) Prepare(device string, op syncproto.Op) syncproto.Op {
	if op.Kind != template.OpPut {
		return op
	}
	var t template.Template
	if json.Unmarshal(op.Body, &t) != nil {
		return op
	}
	r, err := d.plan(t)
	if err != nil {
		return op
	}
	if body, err := json.Marshal(r.t); err == nil {
		op.Body = body
	}
	return op
}

// The outbox. A desk's face op and the server's follow-up (withdrawals,
// profiles, the resident's record) cannot be one transaction: the op is
// the desk's, stored by the hub, and the follow-up is the server's ops,
// clocked after it. So the hub writes a note of each face op in the same
// transaction as the op (Records), the follow-up clears the note in its
// own batch, and whatever a crash left noted is followed up at the next
// start (Drain): between the two, nothing is lost and nothing is done
// twice (a done mark stops a resend from being noted again).
const (
	outboxKind = "faces.outbox"
	doneKind   = "faces.done"
)

// outboxID names the note of a device's op.
func outboxID(op syncproto.Op) string { return fmt.Sprintf("%s/%020d", op.Device, op.Seq) }

// Records is the hub's Records hook: it notes each face op of a push
// (template.put, template.delete) in the outbox, in the push's own
// transaction, unless that op's follow-up is done already.
func (d *Door) Records(device string, ops []syncproto.Op) func(store.Tx) error {
	var notes []syncproto.Op
	for _, op := range ops {
		if device != publish.Device && (op.Kind == template.OpPut || op.Kind == template.OpDelete) {
			op.Device = device
			notes = append(notes, op)
		}
	}
	if len(notes) == 0 {
		return nil
	}
	return func(tx store.Tx) error {
		for _, op := range notes {
			id := outboxID(op)
			if _, err := tx.Get(doneKind, id); err == nil {
				continue
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			b, err := json.Marshal(op)
			if err != nil {
				return err
			}
			if err := tx.Put(outboxKind, id, b); err != nil {
				return err
			}
		}
		return nil
	}
}

// Stored is the hub's Stored hook: the face ops of a push are stored and
// noted; follow them up now (Drain).
func (d *Door) Stored(device string, stored []syncproto.Op) {
	if moved := walletResidents(stored); len(moved) > 0 {
		if err := d.WalletMoved(context.Background(), moved...); err != nil {
			d.logger.Error("a shop's payer profiles", "device", device, "err", err)
		}
	}
	for _, op := range stored {
		if op.Kind == template.OpPut || op.Kind == template.OpDelete {
			d.Drain(context.Background())
			return
		}
	}
}

// Drain follows up every face op noted in the outbox: each template a
// device (a city desk) recorded, prepared, gets the rest of the
// registration as one batch of the server's ops (the withdrawals, the
// profiles and the record); each withdrawal a desk recorded (a face
// deleted at the desk) leaves the resident's record, as a deletion from
// the account does. Each follow-up clears its note in its own batch. A
// registration the rules refuse is logged and its note cleared (the
// desk's op is stored already); a follow-up that fails stays noted for
// the next Drain. The server calls it at start, for what a crash left.
func (d *Door) Drain(ctx context.Context) error {
	d.drain.Lock()
	defer d.drain.Unlock()
	var pending []syncproto.Op
	err := d.pub.Records().View(func(tx store.Tx) error {
		return tx.Each(outboxKind, func(_ string, v []byte) error {
			var op syncproto.Op
			if err := json.Unmarshal(v, &op); err != nil {
				return fmt.Errorf("faces: outbox note: %w", err)
			}
			pending = append(pending, op)
			return nil
		})
	})
	if err != nil {
		return err
	}
	var first error
	for _, op := range pending {
		if err := d.follow(ctx, op); err != nil {
			d.logger.Error("a desk's face op", "device", op.Device, "seq", op.Seq, "kind", op.Kind, "err", err)
			first = cmp.Or(first, err)
		}
	}
	return first
}

// follow writes the follow-up of one noted op and clears its note.
func (d *Door) follow(ctx context.Context, op syncproto.Op) error {
	id := outboxID(op)
	clear := func(tx store.Tx) error {
		if err := tx.Delete(outboxKind, id); err != nil {
			return err
		}
		return tx.Put(doneKind, id, nil)
	}
	var ops []syncproto.Op
	records := clear
	switch op.Kind {
	case template.OpDelete:
		var del template.Delete
		if json.Unmarshal(op.Body, &del) == nil {
			if set, err := d.withdrawn(del); err != nil {
				return err
			} else if set != nil {
				records = func(tx store.Tx) error { return errors.Join(set(tx), clear(tx)) }
			}
		}
	case template.OpPut:
		var t template.Template
		if json.Unmarshal(op.Body, &t) != nil {
			break // the hub validated it; nothing to register
		}
		r, err := d.plan(t)
		if errors.Is(err, ErrConsent) {
			d.logger.Error("a desk's face registration refused", "device", op.Device, "resident", t.Resident, "err", err)
			break
		} else if err != nil {
			return err
		}
		d.pub.After(op.HLC) // the follow-ups fold after the desk's template
		ops = append(r.withdrawals, r.profiles...)
		if r.records != nil {
			records = func(tx store.Tx) error { return errors.Join(r.records(tx), clear(tx)) }
		}
	}
	return d.pub.Write(ctx, ops, records)
}

// withdrawn returns the write that takes the facilities a device's
// template.Delete names off the resident's record (no facility left: no
// face), or nil when the server keeps no record of them.
func (d *Door) withdrawn(del template.Delete) (func(store.Tx) error, error) {
	person, known, err := d.person(del.Resident)
	if err != nil || !known || len(person.FaceAt) == 0 {
		return nil, err
	}
	left := slices.DeleteFunc(slices.Clone(person.FaceAt), func(f string) bool { return slices.Contains(del.Facilities, f) })
	expires := person.FaceExpires
	if len(left) == 0 {
		left, expires = nil, time.Time{}
	}
	return func(tx store.Tx) error { return residents.SetFaceIn(tx, del.Resident, expires, left) }, nil
}

// registration is what the rules make of a template: the template with
// its expiry, its withdrawals from the other facilities, the facilities'
// profiles of the resident and the write of their record.
type registration struct {
	t           template.Template
	withdrawals []syncproto.Op
	profiles    []syncproto.Op
	records     func(store.Tx) error
}

// plan applies the rules to t.
func (d *Door) plan(t template.Template) (registration, error) {
	var r registration
	if err := t.Validate(); err != nil {
		return r, fmt.Errorf("%w: %w", ErrConsent, err)
	}
	recognising, err := d.Recognising()
	if err != nil {
		return r, err
	}
	ids := idsOf(recognising)
	for _, f := range t.Facilities {
		if !slices.Contains(ids, f) {
			return r, fmt.Errorf("%w: %s does not recognise faces", ErrConsent, f)
		}
	}
	person, known, err := d.person(t.Resident)
	if err != nil {
		return r, err
	}
	expires := d.Now().AddDate(UnknownAgeYears, 0, 0)
	if known {
		if expires, err = account.FaceExpiry(person.Facts.BirthDate, d.Now()); err != nil {
			return r, err
		}
	}
	// The registering device may shorten the period, never lengthen it.
	if t.Expires.IsZero() || expires.Before(t.Expires) {
		t.Expires = expires
	}
	r.t = t
	if others := slices.DeleteFunc(ids, func(id string) bool { return slices.Contains(t.Facilities, id) }); len(others) > 0 {
		if r.withdrawals, err = publish.Ops(template.OpDelete, []template.Delete{{Resident: t.Resident, Facilities: others}}, nil); err != nil {
			return r, err
		}
	}
	if known {
		var more func(store.Tx) error
		if r.profiles, more, err = d.profileOps(recognising, person, t.Facilities); err != nil {
			return r, err
		}
		r.records = func(tx store.Tx) error {
			if err := residents.SetFaceIn(tx, t.Resident, t.Expires, t.Facilities); err != nil {
				return err
			}
			return more(tx)
		}
	}
	return r, nil
}

// Delete removes the residents' faces from every facility that
// recognises faces (the log then erases their templates: oplog.Erasure)
// and clears the records of those the server knows, as one batch.
func (d *Door) Delete(ctx context.Context, ids ...string) error {
	recognising, err := d.Recognising()
	if err != nil {
		return err
	}
	facs := idsOf(recognising)
	dels := make([]template.Delete, len(ids))
	var known []string
	for i, id := range ids {
		dels[i] = template.Delete{Resident: id, Facilities: facs}
		if _, ok, err := d.person(id); err != nil {
			return err
		} else if ok {
			known = append(known, id)
		}
	}
	ops, err := publish.Ops(template.OpDelete, dels, nil)
	if err != nil {
		return err
	}
	return d.pub.Write(ctx, ops, func(tx store.Tx) error {
		for _, id := range known {
			if err := residents.SetFaceIn(tx, id, time.Time{}, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// Profiles writes again the profiles of person at the facilities their
// face is registered for (person.FaceAt): after a consent changed or a
// renewed card was linked.
func (d *Door) Profiles(ctx context.Context, person account.Account) error {
	if len(person.FaceAt) == 0 {
		return nil
	}
	recognising, err := d.Recognising()
	if err != nil {
		return err
	}
	ops, more, err := d.profileOps(recognising, person, person.FaceAt)
	if err != nil {
		return err
	}
	return d.pub.Write(ctx, ops, more)
}

// profileOps returns person's profile ops for those of facs in ids, with
// what More adds for them and the records that go with it.
func (d *Door) profileOps(facs []facility.Facility, person account.Account, ids []string) ([]syncproto.Op, func(store.Tx) error, error) {
	facs = slices.DeleteFunc(slices.Clone(facs), func(f facility.Facility) bool { return !slices.Contains(ids, f.ID) })
	ops, err := profileOps(facs, person, cmp.Or(person.Guardian, person.ID), d.city, d.Wallets)
	if err != nil {
		return nil, nil, err
	}
	var writes []func(store.Tx) error
	for _, f := range facs {
		if d.More == nil {
			break
		}
		more, w, err := d.More(f, person)
		if err != nil {
			return nil, nil, fmt.Errorf("faces: %s's facts at %s: %w", person.ID, f.ID, err)
		}
		ops = append(ops, more...)
		if w != nil {
			writes = append(writes, w)
		}
	}
	return ops, func(tx store.Tx) error {
		for _, w := range writes {
			if err := w(tx); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// person returns the registry's record of resident id, and whether there
// is one.
func (d *Door) person(id string) (account.Account, bool, error) {
	if d.residents == nil {
		return account.Account{}, false, nil
	}
	p, err := d.residents.Person(id)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, residents.ErrNone) {
		return p, false, nil
	}
	return p, err == nil, err
}

// Recognising returns the facilities whose terminals match faces, in id
// order.
func (d *Door) Recognising() ([]facility.Facility, error) {
	all, err := d.facilities()
	if err != nil {
		return nil, err
	}
	out := []facility.Facility{}
	for _, f := range all {
		if slices.Contains(facility.RecognisingFaces, f.Kind) {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(x, y facility.Facility) int { return strings.Compare(x.ID, y.ID) })
	return out, nil
}

// idsOf returns the facilities' ids, in their order.
func idsOf(facs []facility.Facility) []string {
	ids := make([]string, len(facs))
	for i, f := range facs {
		ids[i] = f.ID
	}
	return ids
}

// WalletMoved writes again the shops' profiles of residents whose wallet
// moved (a payment, a top-up, a freeze, new limits), so that a shop's
// terminal holds each payer's offline allowance as of its last sync. A
// resident with no face at a shop has nothing to write.
func (d *Door) WalletMoved(ctx context.Context, residents ...string) error {
	if d.Wallets == nil || len(residents) == 0 {
		return nil
	}
	recognising, err := d.Recognising()
	if err != nil {
		return err
	}
	shops := slices.DeleteFunc(recognising, func(f facility.Facility) bool { return f.Kind != facility.Shop })
	if len(shops) == 0 {
		return nil
	}
	var ops []syncproto.Op
	var writes []func(store.Tx) error
	for _, id := range residents {
		person, ok, err := d.person(id)
		if err != nil {
			return fmt.Errorf("faces: wallet of %s: %w", id, err)
		}
		if !ok {
			continue
		}
		more, w, err := d.profileOps(shops, person, person.FaceAt)
		if err != nil {
			return fmt.Errorf("faces: wallet of %s: %w", id, err)
		}
		ops = append(ops, more...)
		writes = append(writes, w)
	}
	if len(ops) == 0 {
		return nil
	}
	return d.pub.Write(ctx, ops, func(tx store.Tx) error {
		for _, w := range writes {
			if err := w(tx); err != nil {
				return err
			}
		}
		return nil
	})
}

// walletResidents returns the residents whose wallet the stored ops
// moved, each once. A refund names its payment, not the payer: the
// allowance it would raise is written at the payer's next movement
// (until then the terminal holds less, never more).
func walletResidents(stored []syncproto.Op) []string {
	var out []string
	for _, op := range stored {
		var body struct{ Resident string }
		switch op.Kind {
		case wallet.OpPayment, wallet.OpTopUpCash, wallet.OpFreeze, wallet.OpLimits:
		default:
			continue
		}
		if json.Unmarshal(op.Body, &body) == nil && body.Resident != "" && !slices.Contains(out, body.Resident) {
			out = append(out, body.Resident)
		}
	}
	return out
}
