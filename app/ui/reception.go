package ui

import (
	"slices"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/hospital"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/terminal"
)

// receptionDraft is a hospital reception under way on the identify
// screen: the patient recognised (or checked by staff by sight), their
// patient number, what they agree to share, until they pick a
// department.
type receptionDraft struct {
	resident string // "" when staff checked them by sight
	via      string
	patient  string // known from an earlier link, or typed by staff
	linked   bool   // patient came from a link
	shares   []string
	err      string
	number   int // set once recorded: the place in the day's queue
	dept     string
}

// holdReception is how long the reception panel waits for the patient
// or staff before the screen moves on to the next person.
const holdReception = 90 * time.Second

// startReception opens the reception panel for a recognised resident.
func (p *identifyPage) startReception(resident, via string) {
	r := terminal.OpenReception(p.st, p.enr.Facility, resident)
	p.rx = &receptionDraft{resident: resident, via: via, patient: r.Patient, linked: r.Linked, shares: r.Shares}
	p.until = time.Now().Add(holdReception)
}

// staffCheck opens the reception panel for a patient staff checked by
// sight: the fallback when neither face nor pass works.
func (p *identifyPage) staffCheck() {
	p.setQR(false)
	p.outcome, p.resident = "", ""
	p.rx = &receptionDraft{via: hospital.ByStaff}
	p.until = time.Now().Add(holdReception)
}

// linkPatient records the typed patient number as this resident's at this
// hospital: next time it is shown without the card.
func (p *identifyPage) linkPatient() {
	rx := p.rx
	l, err := terminal.Link(p.enr.Facility, rx.resident, rx.patient)
	if err != nil {
		rx.err = p.tr("rx.err.patient")
		return
	}
	rx.patient, rx.linked, rx.err = l.Patient, true, ""
	p.recordOp(hospital.OpLink, l)
}

// receive records the reception for dept and shows the queue number.
func (p *identifyPage) receive(dept string) {
	rx := p.rx
	r, number, err := terminal.Receive(p.st, p.enr.Facility, rx.resident, rx.patient, dept, rx.via, rx.shares, time.Now())
	if err != nil {
		rx.err = p.tr("rx.err.patient")
		return
	}
	rx.err, rx.dept, rx.number = "", dept, number
	p.until = time.Now().Add(holdResult + 2*time.Second)
	p.recordOp(hospital.OpReception, r)
}

// recordOp keeps a record in the device's log; a failure shows on the
// panel too.
func (p *identifyPage) recordOp(kind string, body any) {
	p.keep(kind, []any{body}, func(err error) {
		if err != nil && p.rx != nil {
			p.rx.err = p.tr("err.save")
		}
	})
}

// receptionView is the reception panel.
func (p *identifyPage) receptionView() app.UI {
	rx := p.rx
	if rx.number > 0 {
		return app.Div().ID("rx-done").Class("result ok").Attr("role", "status").Attr("data-number", rx.number).Attr("data-patient", rx.patient).Body(
			app.Strong().Text(p.tr("rx.done", rx.number, p.tr("dept."+rx.dept))),
			app.P().Text(p.tr("rx.patient.known", rx.patient)),
		)
	}
	title := "rx.title.face"
	if rx.via == hospital.ByStaff {
		title = "rx.title.staff"
	}
	ready := strings.TrimSpace(rx.patient) != "" && (rx.linked || rx.via == hospital.ByStaff)
	return app.Div().ID("reception").Class("card").Attr("data-via", rx.via).Body(
		app.H2().Text(p.tr(title)),
		app.If(rx.linked, func() app.UI {
			return app.P().ID("patient-known").Class("big-number").Attr("data-patient", rx.patient).Text(p.tr("rx.patient.known", rx.patient))
		}).Else(func() app.UI {
			return app.Div().Body(
				app.Label().For("patient-number").Text(p.tr("rx.patient.label")),
				app.Input().ID("patient-number").Type("text").Attr("inputmode", "numeric").Value(rx.patient).AutoComplete(false).
					OnInput(func(ctx app.Context, e app.Event) { rx.patient = ctx.JSSrc().Get("value").String() }),
				app.If(rx.via != hospital.ByStaff, func() app.UI {
					return app.Button().ID("link-patient").Class("secondary").Type("button").Text(p.tr("rx.link")).
						OnClick(func(ctx app.Context, e app.Event) { p.linkPatient() })
				}),
			)
		}),
		app.FieldSet().Class("shares").Body(
			app.Legend().Text(p.tr("rx.shares")),
			app.Range(hospital.DataKinds).Slice(func(i int) app.UI {
				k := hospital.DataKinds[i]
				return app.Label().Class("check").Body(
					app.Input().Type("checkbox").ID("share-"+k).Checked(slices.Contains(rx.shares, k)).
						OnChange(func(ctx app.Context, e app.Event) {
							rx.shares = slices.DeleteFunc(rx.shares, func(x string) bool { return x == k })
							if ctx.JSSrc().Get("checked").Bool() {
								rx.shares = append(rx.shares, k)
							}
						}, app.EventScope(k)),
					app.Text(p.tr("share."+k)),
				)
			}),
		),
		app.P().Text(p.tr("rx.dept")),
		app.Div().Class("actions depts").Body(app.Range(hospital.Departments).Slice(func(i int) app.UI {
			d := hospital.Departments[i]
			return app.Button().Class("dept").Attr("data-dept", d).Type("button").Disabled(!ready).Text(p.tr("dept."+d)).
				OnClick(func(ctx app.Context, e app.Event) { p.receive(d) }, app.EventScope(d))
		})),
		app.If(rx.err != "", func() app.UI { return app.P().ID("rx-error").Class("error").Attr("role", "alert").Text(rx.err) }),
		app.Button().ID("rx-cancel").Class("secondary").Type("button").Text(p.tr("action.cancel")).
			OnClick(func(ctx app.Context, e app.Event) { p.rx, p.outcome, p.until = nil, "", time.Time{} }),
	)
}

// queuePage is the hospital desk's list of the day's receptions, from
// every reception terminal of the hospital.
type queuePage struct {
	app.Compo
	live
}

func (p *queuePage) OnMount(ctx app.Context) { p.mount(ctx) }
func (p *queuePage) OnDismount()             { p.dismount() }

func (p *queuePage) Render() app.UI {
	if !p.isEnr || p.enr.Role != scope.Reception {
		return p.wrongDevice(p.tr("queue.title"), string(scope.Reception))
	}
	if p.st == nil {
		return p.frame(app.H1().Text(p.tr("queue.title")))
	}
	q := p.st.Queue(p.enr.Facility, time.Now())
	return p.frame(
		app.H1().Text(p.tr("queue.title")+" — "+p.facilityName(p.enr.Facility)),
		app.If(len(q) == 0, func() app.UI { return app.P().Text(p.tr("queue.empty")) }).
			Else(func() app.UI {
				return app.Table().ID("queue").Body(
					app.THead().Body(app.Tr().Body(
						app.Th().Text(p.tr("col.number")), app.Th().Text(p.tr("col.time")), app.Th().Text(p.tr("col.patient")),
						app.Th().Text(p.tr("col.dept")), app.Th().Text(p.tr("col.via")), app.Th().Text(p.tr("col.shares")),
					)),
					app.TBody().Body(app.Range(q).Slice(func(i int) app.UI {
						r := q[i]
						shares := make([]string, len(r.Shares))
						for j, k := range r.Shares {
							shares[j] = p.tr("share." + k)
						}
						return app.Tr().Attr("data-patient", r.Patient).Attr("data-dept", r.Department).Body(
							app.Td().Text(i+1), app.Td().Text(r.At.Local().Format("15:04")), app.Td().Text(r.Patient),
							app.Td().Text(p.tr("dept."+r.Department)), app.Td().Text(p.tr("via."+r.Via)), app.Td().Text(strings.Join(shares, "・")),
						)
					})),
				)
			}),
	)
}
