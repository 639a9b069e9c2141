package visits

import (
	"cmp"
	"context"
	"slices"
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/appointment"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/medical"
	"smartpass.city/smartpass/app/state"
	"smartpass.city/smartpass/app/visit"
	"smartpass.city/smartpass/server/routes"
)

// offerRoutes are the account page's reads of what it may ask for: the
// hospitals with their departments and kinds, a department's slots, and
// the household's consents.
func (d *Door) offerRoutes(mux routes.Mux) {
	byHolder(mux, d, visit.API.Places, "visit.hospitals.read", d.places)
	byHolder(mux, d, visit.API.Slots, "visit.slots.read", d.slots)
	byHolder(mux, d, visit.API.Consents, "visit.consents.read", d.consents)
}

// places lists the city's hospitals: the departments that publish
// slots, and the kinds each exchanges.
func (d *Door) places(ctx context.Context, st *state.State, holder account.Account, _ account.None) ([]visit.Place, string, error) {
	book, rec, now := appointment.Books.In(st.Parts()), medical.Records.In(st.Parts()), d.d.Now()
	out := []visit.Place{}
	for _, f := range st.Facilities {
		if f.Kind != facility.Hospital {
			continue
		}
		out = append(out, visit.Place{ID: f.ID, NameJA: f.NameJA, NameEN: f.NameEN,
			Departments: append([]string{}, book.Departments(f.ID, now)...), Kinds: append([]string{}, rec.Published[f.ID]...)})
	}
	slices.SortFunc(out, func(a, b visit.Place) int { return cmp.Compare(a.ID, b.ID) })
	return out, "", nil
}

// slots lists a department's slots of the next visit.OfferDays days
// with their free places.
func (d *Door) slots(ctx context.Context, st *state.State, holder account.Account, s visit.Slots) ([]appointment.Open, string, error) {
	if err := hospital(st, s.Hospital); err != nil {
		return nil, "", err
	}
	out := appointment.Books.In(st.Parts()).Offer(s.Hospital, s.Department, d.d.Now(), visit.OfferDays*24*time.Hour)
	return append([]appointment.Open{}, out...), "", nil
}

// consents lists the household's consents, each with whether it holds
// now.
func (d *Door) consents(ctx context.Context, st *state.State, holder account.Account, _ account.None) ([]visit.Granted, string, error) {
	ids, err := d.household(holder)
	if err != nil {
		return nil, "", err
	}
	rec, now := medical.Records.In(st.Parts()), d.d.Now()
	out := []visit.Granted{}
	for _, id := range ids {
		for _, g := range rec.ConsentsOf(id) {
			out = append(out, visit.Granted{Resident: g.Resident, Hospital: g.Hospital, Kind: g.Kind, Given: g.Given, Until: g.Until, Revoked: g.Revoked, InForce: g.Holds(now)})
		}
	}
	return out, "", nil
}
