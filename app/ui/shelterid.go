package ui

import (
	"cmp"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/app/state"
	"smartpass.city/smartpass/app/template"
)

// shelterArrival is what a shelter's identify screen did for the person
// it recognised: checked them in, welcomed them back, or found them
// checked in already; and the household members who may be checked in
// with them in one step.
type shelterArrival struct {
	name   string
	result string   // "in", "back" or "already"
	family []string // residents of the household not checked in here yet
	added  int      // family members just checked in
	// declared: the name and birth year are a guardian's word, not read
	// from the person's card (template.Profile.Declared).
	declared bool
}

// arrive checks in, at this shelter, a resident recognised by face or QR
// pass, from the shelter's profile of them (name, birth year, sex,
// household): nobody types anything. A person checked in already who was
// out is back in; one already in is not entered twice.
func (p *identifyPage) arrive(resident string) {
	here := p.enr.Facility
	prof := p.st.Profiles[resident]
	a := &shelterArrival{name: prof.Name, declared: prof.Declared}
	if e, ok := recordOf(p.st, here, resident); ok {
		a.result = "already"
		if e.Status == shelter.StatusOut || e.Status == shelter.StatusLeft {
			a.result = "back"
			p.recordOp(shelter.OpEvacueeEdit, shelter.Edit{Shelter: here, Record: e.ID, Field: shelter.FieldStatus, Value: shelter.StatusIn, Prev: p.st.FieldSource(e.ID, shelter.FieldStatus)})
		}
	} else {
		a.result = "in"
		p.recordOp(shelter.OpEvacueeAdd, evacueeOf(here, prof))
	}
	if prof.Household != "" {
		checkedIn := map[string]bool{}
		for _, e := range p.st.EvacueesAt(here) {
			checkedIn[e.Resident] = true
		}
		for id, other := range p.st.Profiles {
			if id != resident && !checkedIn[id] && other.Household == prof.Household {
				a.family = append(a.family, id)
			}
		}
	}
	p.arrival = a
	p.until = time.Now().Add(holdResult)
	if len(a.family) > 0 {
		p.until = time.Now().Add(holdHousehold)
	}
}

// arriveBySlip takes the record a spare QR slip names: back in if they
// were out or gone, already in otherwise. A slip of another shelter, or
// of a record this tablet does not hold, is refused.
func (p *identifyPage) arriveBySlip(shelterID, record string) {
	e, ok := p.st.Evacuees[record]
	p.outcome, p.resident, p.key, p.until = identify.Accepted, "", "", time.Now().Add(holdResult)
	if shelterID != p.enr.Facility || !ok || e.Shelter != shelterID {
		p.outcome, p.key, p.arrival = identify.Unknown, "slip.other", nil
		return
	}
	a := &shelterArrival{name: cmp.Or(e.Name, e.Kana), result: "already"}
	if e.Status == shelter.StatusOut || e.Status == shelter.StatusLeft {
		a.result = "back"
		p.recordOp(shelter.OpEvacueeEdit, shelter.Edit{Shelter: shelterID, Record: record, Field: shelter.FieldStatus, Value: shelter.StatusIn, Prev: p.st.FieldSource(record, shelter.FieldStatus)})
	}
	p.arrival = a
}

// evacueeOf is the record of an identified resident, from the shelter's
// profile of them: their consent to disclosure included.
func evacueeOf(shelterID string, prof template.Profile) shelter.Evacuee {
	return shelter.Evacuee{Shelter: shelterID, Resident: prof.Resident, Name: prof.Name, BirthYear: prof.BirthYear, Sex: prof.Sex, Household: prof.Household, Disclose: prof.Disclose}
}

// recordOf finds the record of resident at a shelter.
func recordOf(st *state.State, shelterID, resident string) (shelter.Evacuee, bool) {
	for _, e := range st.Evacuees {
		if e.Shelter == shelterID && e.Resident == resident {
			return e, true
		}
	}
	return shelter.Evacuee{}, false
}

// arriveFamily checks in the recognised person's household in one step.
func (p *identifyPage) arriveFamily() {
	a := p.arrival
	for _, id := range a.family {
		prof := p.st.Profiles[id]
		p.recordOp(shelter.OpEvacueeAdd, evacueeOf(p.enr.Facility, prof))
	}
	a.added, a.family = len(a.family), nil
	p.until = time.Now().Add(holdResult)
}

// arrivalView says what was done, by name (a shelter may know it), and
// offers the household.
func (p *identifyPage) arrivalView() []app.UI {
	a := p.arrival
	out := []app.UI{app.Strong().ID("arrival").Attr("data-result", a.result).Text(p.tr("arrival."+a.result, a.name))}
	if a.declared {
		out = append(out, app.P().ID("arrival-declared").Class("error").Text(p.tr("arrival.declared")))
	}
	if a.added > 0 {
		out = append(out, app.P().ID("arrival-family").Attr("data-count", a.added).Text(p.tr("arrival.family.done", a.added)))
	}
	if n := len(a.family); n > 0 {
		out = append(out, app.Button().ID("arrive-household").Class("big").Type("button").Text(p.tr("arrival.family", n)).
			OnClick(func(ctx app.Context, e app.Event) { p.arriveFamily() }))
	}
	return out
}
