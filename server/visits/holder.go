package visits

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/appointment"
	"smartpass.city/smartpass/app/bill"
	"smartpass.city/smartpass/app/emergency"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/jahis"
	"smartpass.city/smartpass/app/medical"
	"smartpass.city/smartpass/app/state"
	"smartpass.city/smartpass/app/visit"
	"smartpass.city/smartpass/server/refusal"
	"smartpass.city/smartpass/server/routes"
	"smartpass.city/smartpass/server/store"
)

// holderRoutes are the account page's endpoints.
func (d *Door) holderRoutes(mux routes.Mux) {
	api := visit.API
	byHolder(mux, d, api.Book, "visit.book", d.book)
	byHolder(mux, d, api.Move, "visit.move", d.move)
	byHolder(mux, d, api.Cancel, "visit.cancel", d.cancel)
	byHolder(mux, d, api.Bookings, "visit.bookings.read", d.bookings)
	byHolder(mux, d, api.Form, "visit.questionnaire.read", d.form)
	byHolder(mux, d, api.Answer, "visit.answer", d.answerForm)
	byHolder(mux, d, api.Consent, "visit.consent", d.consent)
	byHolder(mux, d, api.Withdraw, "visit.withdraw", d.withdraw)
	byHolder(mux, d, api.Notebook, "visit.notebook", d.notebook)
	byHolder(mux, d, api.Accesses, "visit.accesses.read", d.accesses)
	byHolder(mux, d, api.Receipts, "visit.receipts.read", d.receipts)
	byHolder(mux, d, api.Notices, "visit.notices.read", d.notices)
}

// hospital checks that id is a hospital of the city.
func hospital(st *state.State, id string) error {
	if f, ok := st.Facilities[id]; !ok || f.Kind != facility.Hospital {
		return fmt.Errorf("%w: %q", errHospital, id)
	}
	return nil
}

// book books a slot for the holder or a family member: the household
// is the registry's, the slot's rules the fold's (appointment.Book.Check).
func (d *Door) book(ctx context.Context, st *state.State, holder account.Account, b visit.Book) (visit.Booked, string, error) {
	if err := d.d.Registry.InHousehold(holder.ID, b.Resident); err != nil {
		return visit.Booked{}, "", err
	}
	if err := hospital(st, b.Hospital); err != nil {
		return visit.Booked{}, b.Resident, err
	}
	bk := appointment.Booking{Hospital: b.Hospital, Department: b.Department, Start: b.Start, Resident: b.Resident, By: holder.ID}
	if err := appointment.Books.In(st.Parts()).Check(bk, d.d.Now(), ""); err != nil {
		return visit.Booked{}, b.Resident, err
	}
	id, err := d.write(ctx, op{appointment.OpBook, bk})
	if err != nil {
		return visit.Booked{}, b.Resident, err
	}
	e := appointment.Books.In(d.st.Parts()).Bookings[id]
	return booked(*e, false), b.Resident, nil
}

// booked is e as the API shows it; answers only for the hospital.
func booked(e appointment.Entry, answers bool) visit.Booked {
	out := visit.Booked{ID: e.ID, Hospital: e.Hospital, Department: e.Department, Start: e.Start, Resident: e.Resident, Status: e.Status, Answered: e.Answers != nil}
	if answers {
		out.Answers = e.Answers
	}
	return out
}

// ownBooking is booking id when it is of a resident of holder's
// household; anything else is errNoBooking.
func (d *Door) ownBooking(st *state.State, holder account.Account, hospitalID, id string) (*appointment.Entry, error) {
	e, ok := appointment.Books.In(st.Parts()).Bookings[id]
	if !ok || (hospitalID != "" && e.Hospital != hospitalID) || d.d.Registry.InHousehold(holder.ID, e.Resident) != nil {
		return nil, fmt.Errorf("%w: %q", errNoBooking, id)
	}
	if e.Status != appointment.Booked {
		return nil, fmt.Errorf("%w: %q is %s", appointment.ErrInactive, id, e.Status)
	}
	return e, nil
}

// move moves a booking of the household to another slot.
func (d *Door) move(ctx context.Context, st *state.State, holder account.Account, m visit.Move) (account.None, string, error) {
	e, err := d.ownBooking(st, holder, m.Hospital, m.ID)
	if err != nil {
		return account.None{}, "", err
	}
	now := d.d.Now()
	if !now.Before(e.Start) {
		return account.None{}, e.Resident, fmt.Errorf("%w: the visit has begun", appointment.ErrPast)
	}
	moved := e.Booking
	moved.Start, moved.By = m.Start, holder.ID
	if err := appointment.Books.In(st.Parts()).Check(moved, now, e.ID); err != nil {
		return account.None{}, e.Resident, err
	}
	_, err = d.write(ctx, op{appointment.OpMove, appointment.Move{Hospital: e.Hospital, ID: e.ID, Start: m.Start, By: holder.ID}})
	return account.None{}, e.Resident, err
}

// cancel cancels a booking of the household before its visit.
func (d *Door) cancel(ctx context.Context, st *state.State, holder account.Account, c visit.Cancel) (account.None, string, error) {
	e, err := d.ownBooking(st, holder, c.Hospital, c.ID)
	if err != nil {
		return account.None{}, "", err
	}
	if !d.d.Now().Before(e.Start) {
		return account.None{}, e.Resident, fmt.Errorf("%w: a visit that has begun is missed, not cancelled", appointment.ErrPast)
	}
	_, err = d.write(ctx, op{appointment.OpCancel, appointment.Cancel{Hospital: e.Hospital, ID: e.ID, By: holder.ID}})
	return account.None{}, e.Resident, err
}

// household lists the holder's household's residents.
func (d *Door) household(holder account.Account) ([]string, error) {
	h, err := d.d.Registry.Household(holder.ID)
	if err != nil {
		return nil, err
	}
	return h.IDs(), nil
}

// bookings lists the household's bookings, soonest first.
func (d *Door) bookings(ctx context.Context, st *state.State, holder account.Account, _ account.None) ([]visit.Booked, string, error) {
	ids, err := d.household(holder)
	if err != nil {
		return nil, "", err
	}
	out := []visit.Booked{}
	for _, e := range appointment.Books.In(st.Parts()).Of(ids...) {
		out = append(out, booked(e, false))
	}
	return out, "", nil
}

// form is a booking's questionnaire, pre-filled from the patient's own
// record (nothing leaves the pass by it: the holder reads their own
// household's record).
func (d *Door) form(ctx context.Context, st *state.State, holder account.Account, f visit.Form) (visit.Questionnaire, string, error) {
	e, err := d.ownBooking(st, holder, "", f.Booking)
	if err != nil {
		return visit.Questionnaire{}, "", err
	}
	q, ok := appointment.For(e.Department)
	if !ok {
		return visit.Questionnaire{}, e.Resident, fmt.Errorf("%w: %s", errNoForm, e.Department)
	}
	pre := appointment.Prefill(q, medical.Records.In(st.Parts()), e.Resident, d.d.Now())
	return visit.Questionnaire{Questionnaire: q, Prefill: pre, Notice: appointment.ConsentNotice}, e.Resident, nil
}

// answerForm records a booking's answers: sending them is the consent
// to that hospital collecting them, at this moment, by this holder.
func (d *Door) answerForm(ctx context.Context, st *state.State, holder account.Account, a visit.Answer) (account.None, string, error) {
	e, err := d.ownBooking(st, holder, "", a.Booking)
	if err != nil {
		return account.None{}, "", err
	}
	q, ok := appointment.For(e.Department)
	if !ok {
		return account.None{}, e.Resident, fmt.Errorf("%w: %s", errNoForm, e.Department)
	}
	ans := appointment.Answers{Hospital: e.Hospital, Booking: e.ID, Resident: e.Resident, Questionnaire: q.ID, Values: a.Values, By: holder.ID, Consented: d.d.Now()}
	if err := ans.Validate(); err != nil {
		return account.None{}, e.Resident, err
	}
	_, err = d.write(ctx, op{appointment.OpAnswers, ans})
	return account.None{}, e.Resident, err
}

// consent gives a hospital a kind of a household member's data for a
// term; the hospital must exchange the kind (medical.Record.CheckConsent).
func (d *Door) consent(ctx context.Context, st *state.State, holder account.Account, c visit.Consent) (account.None, string, error) {
	if err := d.d.Registry.InHousehold(holder.ID, c.Resident); err != nil {
		return account.None{}, "", err
	}
	if err := hospital(st, c.Hospital); err != nil {
		return account.None{}, c.Resident, err
	}
	days := cmp.Or(c.Days, visit.DefaultDays)
	if days < 1 || time.Duration(days)*24*time.Hour > medical.MaxConsent {
		return account.None{}, c.Resident, fmt.Errorf("%w: a consent for %d days", errInvalid, days)
	}
	now := d.d.Now()
	mc := medical.Consent{Resident: c.Resident, Hospital: c.Hospital, Kind: c.Kind, Given: now, Until: now.Add(time.Duration(days) * 24 * time.Hour), By: holder.ID}
	if err := medical.Records.In(st.Parts()).CheckConsent(mc); err != nil {
		return account.None{}, c.Resident, err
	}
	_, err := d.write(ctx, op{medical.OpConsent, mc})
	return account.None{}, c.Resident, err
}

// withdraw withdraws a household member's consent to a hospital, for a
// kind or every kind; there must be one to withdraw.
func (d *Door) withdraw(ctx context.Context, st *state.State, holder account.Account, w visit.Withdraw) (account.None, string, error) {
	if err := d.d.Registry.InHousehold(holder.ID, w.Resident); err != nil {
		return account.None{}, "", err
	}
	r := medical.Revoke{Resident: w.Resident, Hospital: w.Hospital, Kind: w.Kind, By: holder.ID}
	if err := r.Validate(); err != nil {
		return account.None{}, w.Resident, err
	}
	open := false
	for k, g := range medical.Records.In(st.Parts()).Consents[w.Resident][w.Hospital] {
		open = open || (w.Kind == "" || w.Kind == k) && g.Revoked.IsZero()
	}
	if !open {
		return account.None{}, w.Resident, fmt.Errorf("%w: nothing to withdraw at %s", medical.ErrNoConsent, w.Hospital)
	}
	_, err := d.write(ctx, op{medical.OpRevoke, r})
	return account.None{}, w.Resident, err
}

// notebook imports a household member's medication notebook from the
// QR codes of a pharmacy receipt; a notebook that cannot be read is
// refused in jahis.Words' words, one of another person by birth date.
func (d *Door) notebook(ctx context.Context, st *state.State, holder account.Account, n visit.Notebook) (visit.Imported, string, error) {
	if err := d.d.Registry.InHousehold(holder.ID, n.Resident); err != nil {
		return visit.Imported{}, "", err
	}
	person, err := d.person(n.Resident)
	if err != nil {
		return visit.Imported{}, n.Resident, err
	}
	birth, err := time.ParseInLocation("20060102", person.Facts.BirthDate, appointment.JST)
	if err != nil {
		return visit.Imported{}, n.Resident, fmt.Errorf("visits: %s's birth date: %w", n.Resident, err)
	}
	nb, err := jahis.ParseParts(n.Parts...)
	if err != nil {
		ja, en := jahis.Words(err)
		return visit.Imported{}, n.Resident, refusal.Refusal{Status: http.StatusBadRequest, Code: visit.CodeNotebook, JA: ja, EN: en}
	}
	rec, err := nb.Import(n.Resident, holder.ID, birth, d.d.Now())
	if err != nil {
		return visit.Imported{}, n.Resident, err
	}
	_, err = d.write(ctx, op{medical.OpNotebook, rec})
	return visit.Imported{Medications: len(rec.Documents)}, n.Resident, err
}

// person is resident's account (errNoPerson for none).
func (d *Door) person(resident string) (account.Account, error) {
	a, err := d.d.Registry.Person(resident)
	if errors.Is(err, store.ErrNotFound) {
		return a, fmt.Errorf("%w: %s", errNoPerson, resident)
	}
	return a, err
}

// accesses lists every access to the household's histories, newest
// first: who, when, what, why (reads of personal data, audited).
func (d *Door) accesses(ctx context.Context, st *state.State, holder account.Account, _ account.None) ([]visit.Access, string, error) {
	ids, err := d.household(holder)
	if err != nil {
		return nil, "", err
	}
	rec := medical.Records.In(st.Parts())
	out := []visit.Access{}
	for _, id := range ids {
		for _, a := range rec.AccessesOf(id) {
			out = append(out, visit.Access{Time: a.At, Resident: a.Resident, Hospital: a.Hospital, Kinds: a.Kinds, Purpose: a.Purpose, Reason: a.Reason, Staff: a.Staff})
		}
	}
	slices.SortStableFunc(out, func(a, b visit.Access) int { return b.Time.Compare(a.Time) })
	return out, "", nil
}

// receipts lists the household's bills, newest first.
func (d *Door) receipts(ctx context.Context, st *state.State, holder account.Account, _ account.None) ([]visit.Receipt, string, error) {
	ids, err := d.household(holder)
	if err != nil {
		return nil, "", err
	}
	out := []visit.Receipt{}
	for _, p := range bill.Receipts(*bill.Bills.In(st.Parts()), ids...) {
		out = append(out, receipt(p))
	}
	return out, "", nil
}

// receipt is a posted bill as the account page shows it.
func receipt(p bill.Posted) visit.Receipt {
	return visit.Receipt{ID: p.ID, Hospital: p.Hospital, Resident: p.Resident, Date: p.Date, Split: p.Split, Lines: p.Lines(), Paid: p.Paid != nil || p.Split.Patient == 0}
}

// notices lists the emergency identifications of the people whose
// guardian the holder is, newest first.
func (d *Door) notices(ctx context.Context, st *state.State, holder account.Account, _ account.None) ([]visit.Notice, string, error) {
	guardianOf := func(resident string) string {
		p, err := d.d.Registry.Person(resident)
		if err != nil {
			return ""
		}
		return p.Guardian
	}
	out := []visit.Notice{}
	for _, u := range emergency.Notices(*emergency.Uses.In(st.Parts()), holder.ID, guardianOf) {
		out = append(out, visit.Notice{Time: u.At, Hospital: u.Hospital, Resident: u.Resident, Reason: u.Reason})
	}
	return out, "", nil
}
