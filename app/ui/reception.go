package ui

import (
	"slices"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/appointment"
	"smartpass.city/smartpass/app/hospital"
	"smartpass.city/smartpass/app/medical"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/terminal"
	"smartpass.city/smartpass/app/visit"
	"smartpass.city/smartpass/app/visitpage"
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
	// booking is the visit booked for today, with its 問診票 answers as
	// lines (terminal.OpenVisit); nil for a walk-in.
	booking *appointment.Entry
	answers [][2]string
	// shared is the history the patient consented to show this
	// hospital, once asked; sharedErr the refusal (no consent: nothing).
	shared    []visitpage.Item
	sharedErr [2]string
	asked     bool
}

// holdReception is how long the reception panel waits for the patient
// or staff before the screen moves on to the next person.
const holdReception = 90 * time.Second

// startReception opens the reception panel for a recognised resident.
func (p *identifyPage) startReception(resident, via string) {
	v := terminal.OpenVisit(p.st, p.enr.Facility, resident, time.Now())
	p.rx = &receptionDraft{resident: resident, via: via, patient: v.Patient, linked: v.Linked, shares: v.Shares}
	p.findBooking(p.rx)
	p.until = time.Now().Add(holdReception)
}

// findBooking finds the patient's booking due today and its answers in
// what the tablet holds now: the panel asks again at each render until
// the patient is received, so a booking or answers synced after the
// face was recognised still show.
func (p *identifyPage) findBooking(rx *receptionDraft) {
	if rx.resident == "" || rx.number > 0 || p.st == nil {
		return
	}
	v := terminal.OpenVisit(p.st, p.enr.Facility, rx.resident, time.Now())
	rx.booking, rx.answers = v.Booking, nil
	if v.Answers != nil {
		rx.answers = visitpage.AnswerLines(v.Questionnaire, *v.Answers)
	}
}

// askShared asks the server for the history the patient consented to
// show this hospital: without a consent in force the answer is a
// refusal and nothing is shown. The server records the access, which
// the patient sees in their account.
func (p *identifyPage) askShared() {
	rx := p.rx
	if rx == nil || rx.resident == "" || p.visits == nil {
		return
	}
	p.until = time.Now().Add(holdReception)
	p.later(func() func() {
		h, err := callVisit(p.page, p.visits, visit.API.History, visit.Lookup{Resident: rx.resident})
		return func() {
			rx.asked, rx.shared, rx.sharedErr = true, nil, [2]string{}
			if err != nil {
				rx.sharedErr = visitpage.Words(err)
				return
			}
			rx.shared = visitpage.Items(h, time.Now())
		}
	})
}

// sharedView is the consented history, or why there is none.
func (p *identifyPage) sharedView(rx *receptionDraft) app.UI {
	if !rx.asked {
		return app.Button().ID("rx-shared-ask").Class("secondary").Type("button").Text(p.tr("rx.shared.ask")).
			OnClick(func(ctx app.Context, e app.Event) { p.askShared() })
	}
	if rx.sharedErr[0] != "" {
		return app.P().ID("rx-shared-none").Class("notice").Attr("role", "status").Text(p.words(rx.sharedErr))
	}
	return app.Div().ID("rx-shared").Attr("data-count", len(rx.shared)).Body(
		app.H3().Text(p.tr("rx.shared")),
		app.Ul().Body(app.Range(rx.shared).Slice(func(i int) app.UI {
			it := rx.shared[i]
			return app.Li().Class("shared-item").Attr("data-kind", it.Kind).Text(
				p.words(medical.KindNames[it.Kind]) + "：" + it.Name + "（" + p.facilityName(it.Hospital) + " " + it.Visit.In(appointment.JST).Format("2006-01-02") + "）")
		})),
	)
}

// bookingView is today's booking and its 問診票 answers, for staff.
func (p *identifyPage) bookingView(rx *receptionDraft) app.UI {
	b := rx.booking
	return app.Div().ID("rx-booking").Class("notice").Attr("data-id", b.ID).Attr("data-dept", b.Department).Attr("data-answers", len(rx.answers)).Body(
		app.Strong().Text(p.tr("rx.booked", p.words(visitpage.When(b.Start)), p.tr("dept."+b.Department))),
		app.If(len(rx.answers) == 0, func() app.UI { return app.P().Class("hint").Text(p.tr("rx.answers.none")) }),
		app.If(len(rx.answers) > 0, func() app.UI {
			return app.Dl().ID("rx-answers").Body(app.Range(rx.answers).Slice(func(i int) app.UI {
				return app.Div().Body(app.Dt().Text(rx.answers[i][0]), app.Dd().Text(rx.answers[i][1]))
			}))
		}),
	)
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
	p.findBooking(rx)
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
		app.If(rx.booking != nil, func() app.UI { return p.bookingView(rx) }),
		app.If(rx.resident != "" && p.visits != nil, func() app.UI { return p.sharedView(rx) }),
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
			booked := rx.booking != nil && rx.booking.Department == d
			return app.Button().Class(map[bool]string{true: "dept booked", false: "dept"}[booked]).Attr("data-dept", d).Type("button").Disabled(!ready).Text(p.tr("dept."+d)).
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
