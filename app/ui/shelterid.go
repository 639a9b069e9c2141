package ui

import (
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/app/terminal"
)

// shelterArrival is what a shelter's identify screen did for the person
// it recognised: checked them in, welcomed them back, or found them
// checked in already; and the household members who may be checked in
// with them in one step.
type shelterArrival struct {
	name   string
	result string   // terminal.ArrivedIn, ArrivedBack or ArrivedAlready
	family []string // residents of the household not checked in here yet
	added  int      // family members just checked in
	// declared: the name and birth year are a guardian's word, not read
	// from the person's card (template.Profile.Declared).
	declared bool
}

// arrive checks in, at this shelter, a resident recognised by face or
// QR pass, as terminal.Arrive decides, and offers the household.
func (p *identifyPage) arrive(resident string) {
	d := terminal.Arrive(p.st, p.enr.Facility, resident)
	p.recordArrival(d)
	p.arrival = &shelterArrival{name: d.Name, result: d.Result, family: d.Family, declared: d.Declared}
	p.until = time.Now().Add(holdResult)
	if len(d.Family) > 0 {
		p.until = time.Now().Add(holdHousehold)
	}
}

// arriveBySlip takes the record a spare QR slip names (terminal.
// ArriveBySlip); a slip of another shelter, or of a record this tablet
// does not hold, is refused.
func (p *identifyPage) arriveBySlip(shelterID, record string) {
	p.outcome, p.resident, p.key, p.until = identify.Accepted, "", "", time.Now().Add(holdResult)
	d, ok := terminal.ArriveBySlip(p.st, p.enr.Facility, shelterID, record)
	if !ok {
		p.outcome, p.key, p.arrival = identify.Unknown, "slip.other", nil
		return
	}
	p.recordArrival(d)
	p.arrival = &shelterArrival{name: d.Name, result: d.Result}
}

// recordArrival records what an arrival decided: a check-in or a status
// back in.
func (p *identifyPage) recordArrival(d terminal.Arrival) {
	switch {
	case d.Add != nil:
		p.recordOp(shelter.OpEvacueeAdd, *d.Add)
	case d.Edit != nil:
		p.recordOp(shelter.OpEvacueeEdit, *d.Edit)
	}
}

// arriveFamily checks in the recognised person's household in one step.
func (p *identifyPage) arriveFamily() {
	a := p.arrival
	for _, e := range terminal.FamilyRecords(p.st, p.enr.Facility, a.family) {
		p.recordOp(shelter.OpEvacueeAdd, e)
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
