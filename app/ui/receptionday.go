package ui

import (
	"context"
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/appointment"
	"smartpass.city/smartpass/app/copay"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/terminal"
	"smartpass.city/smartpass/app/visit"
	"smartpass.city/smartpass/app/visitpage"
)

// receptionDayPage is a hospital reception tablet's day: the bookings
// of today with their 問診票 answers (the server gives them to this
// hospital's devices only), and for each visit the bill: staff type the
// day's points from the accounting system and the income class from
// the qualification check; the server computes the co-payment and the
// city's subsidy from the age the card proved, and the receipt reaches
// the patient's account.
type receptionDayPage struct {
	app.Compo
	live
	request
	api VisitAPI

	day      []visit.Booked
	read     bool
	points   map[string]string // typed, by booking
	income   map[string]copay.Income
	receipts map[string]visit.Receipt
}

func (p *receptionDayPage) OnMount(ctx app.Context) {
	p.mount(ctx)
	p.points, p.income, p.receipts = map[string]string{}, map[string]copay.Income{}, map[string]visit.Receipt{}
	if p.isEnr && p.enr.Role == scope.Reception {
		p.load()
	}
}

func (p *receptionDayPage) OnDismount() { p.dismount() }

// load reads today's list (JST).
func (p *receptionDayPage) load() {
	var day []visit.Booked
	date := time.Now().In(appointment.JST).Format(time.DateOnly)
	p.run(&p.live, func(ctx context.Context) error {
		var err error
		day, err = callVisit(ctx, p.api, visit.API.Day, visit.Day{Date: date})
		return err
	}, func() { p.day, p.read = day, true })
}

// post sends booking b's bill.
func (p *receptionDayPage) post(b visit.Booked, patient string) {
	points, err := visitpage.Points(p.points[b.ID])
	if err != nil {
		p.request.err = [2]string{tr(langJA, "day.points.bad"), tr(langEN, "day.points.bad")}
		return
	}
	req := visit.Bill{Visit: b.ID, Resident: b.Resident, Patient: patient, Date: b.Start, Points: points, Income: p.income[b.ID]}
	var rc visit.Receipt
	p.run(&p.live, func(ctx context.Context) error {
		var err error
		rc, err = callVisit(ctx, p.api, visit.API.Bill, req)
		return err
	}, func() { p.receipts[b.ID] = rc })
}

func (p *receptionDayPage) Render() app.UI {
	if !p.isEnr || p.enr.Role != scope.Reception {
		return p.wrongDevice(p.tr("day.title"), string(scope.Reception))
	}
	return p.frame(
		app.H1().Text(p.tr("day.title")+" — "+p.facilityName(p.enr.Facility)),
		p.errorView(&p.live, "day-error"),
		app.Button().ID("day-refresh").Class("secondary").Disabled(p.busy).Text(p.tr("day.refresh")).
			OnClick(func(ctx app.Context, e app.Event) { p.load() }),
		app.If(p.read && len(p.day) == 0, func() app.UI { return app.P().ID("day-empty").Text(p.tr("day.empty")) }),
		app.Div().ID("day").Attr("data-count", len(p.day)).Body(app.Range(p.day).Slice(func(i int) app.UI { return p.bookingView(p.day[i]) })),
	)
}

// bookingView is one booking: when, which department, the patient's
// number here, the answers, and the bill.
func (p *receptionDayPage) bookingView(b visit.Booked) app.UI {
	patient := ""
	if p.st != nil {
		patient = terminal.OpenReception(p.st, p.enr.Facility, b.Resident).Patient
	}
	var lines [][2]string
	if b.Answers != nil {
		if q, ok := appointment.Lookup(b.Answers.Questionnaire); ok {
			lines = visitpage.AnswerLines(q, *b.Answers)
		}
	}
	rc, billed := p.receipts[b.ID]
	return app.Section().Class("card day-booking").Attr("data-id", b.ID).Attr("data-resident", b.Resident).Attr("data-dept", b.Department).
		Attr("data-answered", b.Answers != nil).Attr("data-patient", patient).Body(
		app.H2().Text(p.words(visitpage.When(b.Start))+"　"+p.tr("dept."+b.Department)+"　"+p.tr("day.status."+b.Status)),
		app.If(patient != "", func() app.UI { return app.P().Class("big-number").Text(p.tr("rx.patient.known", patient)) }).
			Else(func() app.UI { return app.P().Class("hint").Text(p.tr("day.patient.none")) }),
		app.If(len(lines) == 0, func() app.UI { return app.P().Class("hint").Text(p.tr("rx.answers.none")) }),
		app.If(len(lines) > 0, func() app.UI {
			return app.Dl().Class("answers").Body(app.Range(lines).Slice(func(i int) app.UI {
				return app.Div().Body(app.Dt().Text(lines[i][0]), app.Dd().Text(lines[i][1]))
			}))
		}),
		app.If(billed, func() app.UI {
			return app.Div().Class("notice ok bill-receipt").Attr("role", "status").Attr("data-patient-pays", rc.Split.Patient).
				Attr("data-share", rc.Split.Share).Attr("data-subsidy", rc.Split.Subsidy).Body(
				app.Ul().Body(app.Range(rc.Lines).Slice(func(i int) app.UI { return app.Li().Text(p.words(rc.Lines[i])) })))
		}).ElseIf(patient != "" && b.Status == appointment.Booked, func() app.UI { return p.billForm(b, patient) }),
	)
}

// billForm is the day's points and the income class, then post.
func (p *receptionDayPage) billForm(b visit.Booked, patient string) app.UI {
	id := b.ID
	return app.FieldSet().Class("bill").Body(
		app.Legend().Text(p.tr("day.bill")),
		app.Label().For("points-"+id).Text(p.tr("day.points")),
		app.Input().ID("points-"+id).Class("bill-points").Type("text").Attr("inputmode", "numeric").Value(p.points[id]).AutoComplete(false).
			OnInput(func(ctx app.Context, e app.Event) { p.points[id] = ctx.JSSrc().Get("value").String() }, app.EventScope(id)),
		app.Label().For("income-"+id).Text(p.tr("day.income")),
		app.Select().ID("income-"+id).Class("bill-income").Body(app.Range(visitpage.Incomes).Slice(func(i int) app.UI {
			c := visitpage.Incomes[i]
			return app.Option().Value(int(c)).Selected(c == p.income[id]).Text(c.String())
		})).OnChange(func(ctx app.Context, e app.Event) {
			n, _ := strconv.Atoi(ctx.JSSrc().Get("value").String())
			p.income[id] = copay.Income(n)
		}, app.EventScope(id)),
		app.Button().Class("bill-post").Disabled(p.busy).Text(p.tr("day.bill.post")).
			OnClick(func(ctx app.Context, e app.Event) { p.post(b, patient) }, app.EventScope(id)),
	)
}
