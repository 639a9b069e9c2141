package ui

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/appointment"
	"smartpass.city/smartpass/app/medical"
	"smartpass.city/smartpass/app/route"
	"smartpass.city/smartpass/app/visit"
	"smartpass.city/smartpass/app/visitpage"
)

// request is one request to the server under way on a page, and the
// last one's refusal in words.
type request struct {
	busy bool
	err  [2]string
}

// run runs work off the UI goroutine, one request at a time: done on
// the UI goroutine when it succeeded, else its refusal in words.
func (r *request) run(l *live, work func(ctx context.Context) error, done func()) {
	if r.busy {
		return
	}
	r.busy, r.err = true, [2]string{}
	l.later(func() func() {
		err := work(l.page)
		return func() {
			r.busy = false
			if err != nil {
				app.Log("visit:", err)
				r.err = visitpage.Words(err)
				return
			}
			done()
		}
	})
}

// errorView is the last refusal, in the page's language.
func (r *request) errorView(l *live, id string) app.UI {
	return app.If(r.err[0] != "", func() app.UI {
		return app.P().ID(id).Class("error").Attr("role", "alert").Text(l.words(r.err))
	})
}

// hospitalPage is the resident's hospital visits on their phone: book a
// slot for themselves or a family member, answer the 問診票 before the
// visit, move or cancel; give a hospital a kind of their history for a
// term and withdraw it; see every access to the household's histories,
// the receipts, and import a medication notebook from a pharmacy's QR
// code. Every request is signed by the account's holder; the rules are
// the server's and app/visitpage's.
type hospitalPage struct {
	app.Compo
	live
	request
	accounts Accounts
	api      VisitAPI

	loaded    bool
	holder    string
	household *account.Household
	places    []visit.Place
	lists     visitLists
	done      string // the text key of the last thing done

	// The booking form: who, where, which department, its slots; moving
	// is the booking being moved (its department's slots are shown).
	who, hosp, dept string
	slots           []appointment.Open
	slotsFor        int // counts the reads of slots: only the last one's are kept
	moving          *visit.Booked
	confirmCancel   string

	// The questionnaire open for booking formFor, with the answers so far.
	form    *visit.Questionnaire
	formFor string
	values  map[string]string

	grantWho, grantHosp, grantKind string
	grantDays                      int

	nbWho, nbText string
	imported      int
}

// visitLists are what the page lists of the household, read again after
// each change.
type visitLists struct {
	bookings []visit.Booked
	granted  []visit.Granted
	accesses []visit.Access
	receipts []visit.Receipt
	notices  []visit.Notice
}

// read reads the household's lists.
func (p *hospitalPage) read(ctx context.Context) (visitLists, error) {
	var l visitLists
	var err error
	if l.bookings, err = callVisit(ctx, p.api, visit.API.Bookings, account.None{}); err != nil {
		return l, err
	}
	if l.granted, err = callVisit(ctx, p.api, visit.API.Consents, account.None{}); err != nil {
		return l, err
	}
	if l.accesses, err = callVisit(ctx, p.api, visit.API.Accesses, account.None{}); err != nil {
		return l, err
	}
	if l.receipts, err = callVisit(ctx, p.api, visit.API.Receipts, account.None{}); err != nil {
		return l, err
	}
	l.notices, err = callVisit(ctx, p.api, visit.API.Notices, account.None{})
	return l, err
}

func (p *hospitalPage) OnMount(ctx app.Context) {
	p.mount(ctx)
	p.grantDays = visit.DefaultDays
	var holder string
	var h account.Household
	var places []visit.Place
	var lists visitLists
	p.run(&p.live, func(ctx context.Context) error {
		var err error
		if holder, err = p.accounts.Holder(ctx); err != nil || holder == "" {
			return err
		}
		if h, err = p.accounts.Household(ctx); err != nil {
			return err
		}
		if places, err = callVisit(ctx, p.api, visit.API.Places, account.None{}); err != nil {
			return err
		}
		lists, err = p.read(ctx)
		return err
	}, func() {
		p.loaded, p.holder = true, holder
		if holder == "" {
			return
		}
		p.household, p.places, p.lists = &h, places, lists
		p.who, p.grantWho, p.nbWho = holder, holder, holder
		if len(places) > 0 {
			p.grantHosp = places[0].ID
			p.pickHospital(places[0].ID)
		}
	})
}

func (p *hospitalPage) OnDismount() { p.dismount() }

// place is hospital id's offer.
func (p *hospitalPage) place(id string) visit.Place {
	i := slices.IndexFunc(p.places, func(x visit.Place) bool { return x.ID == id })
	if i < 0 {
		return visit.Place{ID: id, NameJA: id, NameEN: id}
	}
	return p.places[i]
}

func (p *hospitalPage) placeName(id string) string {
	pl := p.place(id)
	return p.words([2]string{pl.NameJA, pl.NameEN})
}

// people are the household, the holder first.
func (p *hospitalPage) people() []account.Account {
	if p.household == nil {
		return nil
	}
	return append([]account.Account{p.household.Guardian}, p.household.Members...)
}

func (p *hospitalPage) personName(id string) string {
	for _, a := range p.people() {
		if a.ID == id {
			return a.Facts.Name
		}
	}
	return id
}

// pickHospital chooses the booking form's hospital, its first
// department, and reads that department's slots.
func (p *hospitalPage) pickHospital(id string) {
	p.hosp, p.dept = id, ""
	if ds := p.place(id).Departments; len(ds) > 0 {
		p.dept = ds[0]
	}
	p.readSlots()
}

// readSlots reads the slots of the form's department (of the booking
// being moved, when one is). It does not wait for another request: the
// person may pick a hospital and a department in quick succession, and
// only the last pick's slots are kept.
func (p *hospitalPage) readSlots() {
	hosp, dept := p.hosp, p.dept
	if p.moving != nil {
		hosp, dept = p.moving.Hospital, p.moving.Department
	}
	p.slots = nil
	p.slotsFor++
	gen := p.slotsFor
	if dept == "" {
		return
	}
	p.later(func() func() {
		slots, err := callVisit(p.page, p.api, visit.API.Slots, visit.Slots{Hospital: hosp, Department: dept})
		return func() {
			switch {
			case gen != p.slotsFor:
			case err != nil:
				p.request.err = visitpage.Words(err)
			default:
				p.slots = slots
			}
		}
	})
}

// change runs a change, then reads the lists (and the slots) again and
// says it is done in words.
func (p *hospitalPage) change(done string, work func(ctx context.Context) error, after func()) {
	var lists visitLists
	var slots []appointment.Open
	hosp, dept := p.hosp, p.dept
	p.slotsFor++
	gen := p.slotsFor
	p.run(&p.live, func(ctx context.Context) error {
		if err := work(ctx); err != nil {
			return err
		}
		var err error
		if lists, err = p.read(ctx); err != nil || dept == "" {
			return err
		}
		slots, err = callVisit(ctx, p.api, visit.API.Slots, visit.Slots{Hospital: hosp, Department: dept})
		return err
	}, func() {
		p.lists, p.done = lists, done
		if gen == p.slotsFor {
			p.slots = slots
		}
		if after != nil {
			after()
		}
	})
}

// book books the slot starting at start for the chosen person, or moves
// the booking being moved there; a new booking opens its questionnaire.
func (p *hospitalPage) book(start time.Time) {
	if m := p.moving; m != nil {
		p.change("visit.moved", func(ctx context.Context) error {
			_, err := callVisit(ctx, p.api, visit.API.Move, visit.Move{Hospital: m.Hospital, ID: m.ID, Start: start})
			return err
		}, func() { p.moving = nil; p.readSlots() })
		return
	}
	var b visit.Booked
	req := visit.Book{Hospital: p.hosp, Department: p.dept, Start: start, Resident: p.who}
	p.change("visit.booked", func(ctx context.Context) error {
		var err error
		b, err = callVisit(ctx, p.api, visit.API.Book, req)
		return err
	}, func() { p.openForm(b.ID) })
}

// cancel cancels a booking on the second press.
func (p *hospitalPage) cancel(b visit.Booked) {
	if p.confirmCancel != b.ID {
		p.confirmCancel = b.ID
		return
	}
	p.confirmCancel = ""
	p.change("visit.cancelled", func(ctx context.Context) error {
		_, err := callVisit(ctx, p.api, visit.API.Cancel, visit.Cancel{Hospital: b.Hospital, ID: b.ID})
		return err
	}, nil)
}

// openForm reads booking id's questionnaire, pre-filled from the
// patient's own record.
func (p *hospitalPage) openForm(id string) {
	var q visit.Questionnaire
	p.run(&p.live, func(ctx context.Context) error {
		var err error
		q, err = callVisit(ctx, p.api, visit.API.Form, visit.Form{Booking: id})
		return err
	}, func() {
		p.form, p.formFor, p.values = &q, id, map[string]string{}
		for k, v := range q.Prefill {
			p.values[k] = v
		}
	})
}

// sendForm sends the answers, once every rule holds here: the first
// problem is named in words before anything leaves the phone.
func (p *hospitalPage) sendForm() {
	q := p.form.Questionnaire
	sent := q.Sent(p.values)
	if id, w := q.Problem(sent, time.Now()); id != "" {
		p.request.err = w
		return
	}
	booking := p.formFor
	p.change("visit.form.sent", func(ctx context.Context) error {
		_, err := callVisit(ctx, p.api, visit.API.Answer, visit.Answer{Booking: booking, Values: sent})
		return err
	}, func() { p.form, p.formFor = nil, "" })
}

// grant gives the chosen hospital the chosen kind for the chosen term.
func (p *hospitalPage) grant() {
	kinds := visitpage.Grantable(p.place(p.grantHosp), p.lists.granted, p.grantWho)
	kind := p.grantKind
	if !slices.Contains(kinds, kind) && len(kinds) > 0 {
		kind = kinds[0]
	}
	c := visit.Consent{Resident: p.grantWho, Hospital: p.grantHosp, Kind: kind, Days: p.grantDays}
	p.change("visit.granted", func(ctx context.Context) error {
		_, err := callVisit(ctx, p.api, visit.API.Consent, c)
		return err
	}, func() { p.grantKind = "" })
}

// withdraw withdraws a consent in force.
func (p *hospitalPage) withdraw(g visit.Granted) {
	p.change("visit.withdrawn", func(ctx context.Context) error {
		_, err := callVisit(ctx, p.api, visit.API.Withdraw, visit.Withdraw{Resident: g.Resident, Hospital: g.Hospital, Kind: g.Kind})
		return err
	}, nil)
}

// importNotebook sends the pasted notebook, as the reader's bytes.
func (p *hospitalPage) importNotebook() {
	parts, err := visitpage.NotebookParts(p.nbText)
	if err != nil {
		p.request.err = [2]string{tr(langJA, "visit.nb.none"), tr(langEN, "visit.nb.none")}
		return
	}
	var got visit.Imported
	who := p.nbWho
	p.change("visit.nb.done", func(ctx context.Context) error {
		got, err = callVisit(ctx, p.api, visit.API.Notebook, visit.Notebook{Resident: who, Parts: parts})
		return err
	}, func() { p.imported, p.nbText = got.Medications, "" })
}

func (p *hospitalPage) Render() app.UI {
	content := []app.UI{app.H1().Text(p.tr("visit.title")), app.P().Text(p.tr("visit.lead"))}
	switch {
	case !p.loaded:
		content = append(content, p.errorView(&p.live, "visit-error"))
	case p.holder == "":
		content = append(content, app.P().ID("visit-no-account").Class("notice").Body(
			app.Text(p.tr("visit.noaccount")+" "), app.A().Href(route.Account).Text(p.tr("visit.toaccount"))))
	default:
		content = append(content,
			p.errorView(&p.live, "visit-error"),
			app.If(p.done != "", func() app.UI {
				return app.P().ID("visit-done").Class("notice ok").Attr("role", "status").Attr("data-key", p.done).Text(p.doneText())
			}),
			app.If(p.form != nil, func() app.UI { return p.formView() }),
			p.bookView(),
			p.bookingsView(),
			p.consentView(),
			p.accessView(),
			p.receiptView(),
			p.noticeView(),
			p.notebookView(),
		)
	}
	content = append(content, app.Div().Class("actions").Body(
		app.A().ID("back-account").Class("button secondary").Href(route.Account).Text(p.tr("visit.back"))))
	return p.frame(content...)
}

// doneText says what was just done; an import says how many
// medications it added.
func (p *hospitalPage) doneText() string {
	if p.done == "visit.nb.done" {
		return p.tr(p.done, p.imported)
	}
	return p.tr(p.done)
}

// personSelect is a labelled select of the household.
func (p *hospitalPage) personSelect(id, value string, set func(string)) app.UI {
	people := p.people()
	return app.Div().Body(
		app.Label().For(id).Text(p.tr("visit.who")),
		app.Select().ID(id).Body(app.Range(people).Slice(func(i int) app.UI {
			return app.Option().Value(people[i].ID).Selected(people[i].ID == value).Text(people[i].Facts.Name)
		})).OnChange(func(ctx app.Context, e app.Event) { set(ctx.JSSrc().Get("value").String()) }),
	)
}

// hospitalSelect is a labelled select of the city's hospitals.
func (p *hospitalPage) hospitalSelect(id, value string, set func(string)) app.UI {
	return app.Div().Body(
		app.Label().For(id).Text(p.tr("visit.hospital")),
		app.Select().ID(id).Body(app.Range(p.places).Slice(func(i int) app.UI {
			pl := p.places[i]
			return app.Option().Value(pl.ID).Selected(pl.ID == value).Text(p.words([2]string{pl.NameJA, pl.NameEN}))
		})).OnChange(func(ctx app.Context, e app.Event) { set(ctx.JSSrc().Get("value").String()) }),
	)
}

// bookView is the booking form: who, hospital, department, then the
// slots as large buttons (a full one disabled and said so).
func (p *hospitalPage) bookView() app.UI {
	depts := p.place(p.hosp).Departments
	slots := p.slots
	head := []app.UI{app.H2().Text(p.tr("visit.book"))}
	if m := p.moving; m != nil {
		head = append(head, app.P().ID("moving").Class("notice").Text(p.tr("visit.moving", p.words(visitpage.When(m.Start)))),
			app.Button().ID("move-stop").Class("secondary").Text(p.tr("action.cancel")).
				OnClick(func(ctx app.Context, e app.Event) { p.moving = nil; p.readSlots() }))
	} else {
		head = append(head,
			p.personSelect("book-who", p.who, func(v string) { p.who = v }),
			p.hospitalSelect("book-hospital", p.hosp, p.pickHospital),
			app.Div().Body(
				app.Label().For("book-dept").Text(p.tr("visit.dept")),
				app.Select().ID("book-dept").Body(app.Range(depts).Slice(func(i int) app.UI {
					return app.Option().Value(depts[i]).Selected(depts[i] == p.dept).Text(p.tr("dept." + depts[i]))
				})).OnChange(func(ctx app.Context, e app.Event) { p.dept = ctx.JSSrc().Get("value").String(); p.readSlots() }),
			))
	}
	return app.Section().ID("book").Class("card").Body(append(head,
		app.If(len(slots) == 0, func() app.UI { return app.P().Class("hint").Text(p.tr("visit.noslots")) }),
		app.Div().ID("slots").Class("actions").Attr("data-count", len(slots)).Body(app.Range(slots).Slice(func(i int) app.UI {
			o := slots[i]
			return app.Button().Class("slot").Attr("data-start", o.Start.In(appointment.JST).Format("2006-01-02T15:04")).Attr("data-free", o.Free).
				Disabled(p.busy || o.Free == 0).Text(p.words(visitpage.SlotLabel(o))).
				OnClick(func(ctx app.Context, e app.Event) { p.book(o.Start) }, app.EventScope(o.Start.String()))
		})),
	)...)
}

// bookingsView lists the household's bookings with what can be done.
func (p *hospitalPage) bookingsView() app.UI {
	bs := p.lists.bookings
	return app.Section().ID("bookings").Class("card").Attr("data-count", len(bs)).Body(
		app.H2().Text(p.tr("visit.bookings")),
		app.If(len(bs) == 0, func() app.UI { return app.P().Class("hint").Text(p.tr("visit.bookings.none")) }),
		app.Range(bs).Slice(func(i int) app.UI {
			b := bs[i]
			answer := "visit.form.open"
			if b.Answered {
				answer = "visit.form.again"
			}
			return app.Div().Class("booking").Attr("data-id", b.ID).Attr("data-status", b.Status).Attr("data-answered", b.Answered).Body(
				app.H3().Text(p.words(visitpage.When(b.Start))+"　"+p.personName(b.Resident)),
				app.P().Text(p.placeName(b.Hospital)+"　"+p.tr("dept."+b.Department)),
				app.P().Class("hint").Text(p.tr("visit.status."+b.Status)+"　"+p.tr(map[bool]string{true: "visit.answered", false: "visit.unanswered"}[b.Answered])),
				app.If(b.Status == appointment.Booked, func() app.UI {
					return app.Div().Class("actions").Body(
						app.Button().Class("form-open").Disabled(p.busy).Text(p.tr(answer)).
							OnClick(func(ctx app.Context, e app.Event) { p.openForm(b.ID) }, app.EventScope(b.ID)),
						app.Button().Class("secondary move").Disabled(p.busy).Text(p.tr("visit.move")).
							OnClick(func(ctx app.Context, e app.Event) { p.moving = &b; p.readSlots() }, app.EventScope(b.ID)),
						app.Button().Class(map[bool]string{true: "danger cancel", false: "secondary cancel"}[p.confirmCancel == b.ID]).Disabled(p.busy).
							Text(p.tr(map[bool]string{true: "visit.cancel.confirm", false: "visit.cancel"}[p.confirmCancel == b.ID])).
							OnClick(func(ctx app.Context, e app.Event) { p.cancel(b) }, app.EventScope(b.ID)),
					)
				}),
			)
		}),
	)
}

// formView is the 問診票: each question asked, by its type, large; the
// notice that sending is the consent; send.
func (p *hospitalPage) formView() app.UI {
	q := p.form.Questionnaire
	asked := q.Asked(p.values)
	return app.Section().ID("form").Class("card").Attr("data-booking", p.formFor).Attr("data-questionnaire", q.ID).Body(
		app.H2().Text(q.Title),
		app.If(len(p.form.Prefill) > 0, func() app.UI { return app.P().ID("form-prefilled").Class("hint").Text(p.tr("visit.form.prefilled")) }),
		// Every question in a slot of its own, asked or not: a question
		// appearing when one above is answered yes must not shift the
		// ones below into other elements (go-app matches children by
		// position), which loses what was just ticked there.
		app.Range(q.Questions).Slice(func(i int) app.UI {
			x := q.Questions[i]
			return app.Div().Class("slot").Body(app.If(slices.ContainsFunc(asked, func(a appointment.Question) bool { return a.ID == x.ID }), func() app.UI {
				return p.questionView(x)
			}))
		}),
		app.P().ID("form-notice").Class("notice").Text(p.words(p.form.Notice)),
		p.errorView(&p.live, "form-error"),
		app.Div().Class("actions").Body(
			app.Button().ID("form-send").Disabled(p.busy).Text(p.tr("visit.form.send")).
				OnClick(func(ctx app.Context, e app.Event) { p.sendForm() }),
			app.Button().ID("form-close").Class("secondary").Text(p.tr("action.cancel")).
				OnClick(func(ctx app.Context, e app.Event) { p.form, p.request.err = nil, [2]string{} }),
		),
	)
}

// questionView is one question with the input its type takes.
func (p *hospitalPage) questionView(x appointment.Question) app.UI {
	id := "q-" + x.ID
	set := func(v string) { p.values[x.ID] = v }
	v := p.values[x.ID]
	label := x.Text
	if x.Required {
		label += p.tr("visit.required")
	}
	var input app.UI
	switch x.Type {
	case appointment.TypeBoolean, appointment.TypeChoice, appointment.TypeMulti:
		opts := x.Options
		if x.Type == appointment.TypeBoolean {
			opts = []appointment.Option{{Code: "true", Text: p.tr("visit.yes")}, {Code: "false", Text: p.tr("visit.no")}}
		}
		input = app.Div().Class("options").Body(app.Range(opts).Slice(func(i int) app.UI {
			o := opts[i]
			kind, checked := "radio", v == o.Code
			if x.Type == appointment.TypeMulti {
				kind, checked = "checkbox", slices.Contains(strings.Split(v, ","), o.Code)
			}
			return app.Label().Class("check").Body(
				app.Input().Type(kind).ID(id+"-"+o.Code).Name(id).Value(o.Code).Checked(checked).
					OnChange(func(ctx app.Context, e app.Event) {
						on := ctx.JSSrc().Get("checked").Bool()
						if x.Type == appointment.TypeMulti {
							set(x.Toggle(p.values[x.ID], o.Code, on))
						} else if on {
							set(o.Code)
						}
					}, app.EventScope(o.Code)),
				app.Text(o.Text),
			)
		}))
	default:
		kind, mode := "text", ""
		switch x.Type {
		case appointment.TypeDate:
			kind = "date"
		case appointment.TypeInteger:
			mode = "numeric"
		case appointment.TypeDecimal:
			mode = "decimal"
		}
		in := app.Input().Type(kind).ID(id).Value(v).AutoComplete(false).
			OnInput(func(ctx app.Context, e app.Event) { set(ctx.JSSrc().Get("value").String()) })
		if mode != "" {
			in = in.Attr("inputmode", mode)
		}
		if x.MaxLen > 0 {
			in = in.Attr("maxlength", x.MaxLen)
		}
		input = in
	}
	return app.FieldSet().Class("question").Attr("data-q", x.ID).Body(app.Legend().Text(label), input)
}

// consentView lists the household's consents, withdraws one in force,
// and gives a new one: person, hospital, a kind it exchanges, a term.
func (p *hospitalPage) consentView() app.UI {
	gs := p.lists.granted
	kinds := visitpage.Grantable(p.place(p.grantHosp), gs, p.grantWho)
	return app.Section().ID("consents").Class("card").Attr("data-count", len(gs)).Body(
		app.H2().Text(p.tr("visit.consents")),
		app.P().Class("hint").Text(p.tr("visit.consents.lead")),
		app.If(len(gs) == 0, func() app.UI { return app.P().Class("hint").Text(p.tr("visit.consents.none")) }),
		app.Range(gs).Slice(func(i int) app.UI {
			g := gs[i]
			state := p.tr("visit.consent.until", g.Until.In(appointment.JST).Format("2006-01-02"))
			if !g.InForce {
				state = p.tr("visit.consent.ended")
			}
			return app.Div().Class("consent").Attr("data-resident", g.Resident).Attr("data-hospital", g.Hospital).Attr("data-kind", g.Kind).Attr("data-inforce", g.InForce).Body(
				app.P().Text(p.personName(g.Resident)+"　→　"+p.placeName(g.Hospital)+"　"+p.words(medical.KindNames[g.Kind])+"　"+state),
				app.If(g.InForce, func() app.UI {
					return app.Button().Class("secondary withdraw").Disabled(p.busy).Text(p.tr("visit.withdraw")).
						OnClick(func(ctx app.Context, e app.Event) { p.withdraw(g) }, app.EventScope(g.Resident+g.Hospital+g.Kind))
				}),
			)
		}),
		app.H3().Text(p.tr("visit.grant")),
		p.personSelect("grant-who", p.grantWho, func(v string) { p.grantWho = v }),
		p.hospitalSelect("grant-hospital", p.grantHosp, func(v string) { p.grantHosp, p.grantKind = v, "" }),
		app.Div().Body(
			app.Label().For("grant-kind").Text(p.tr("visit.kind")),
			app.Select().ID("grant-kind").Body(app.Range(kinds).Slice(func(i int) app.UI {
				return app.Option().Value(kinds[i]).Selected(kinds[i] == p.grantKind).Text(p.words(medical.KindNames[kinds[i]]))
			})).OnChange(func(ctx app.Context, e app.Event) { p.grantKind = ctx.JSSrc().Get("value").String() }),
		),
		app.Div().Body(
			app.Label().For("grant-days").Text(p.tr("visit.term")),
			app.Select().ID("grant-days").Body(app.Range(visitpage.Terms).Slice(func(i int) app.UI {
				d := visitpage.Terms[i]
				return app.Option().Value(d).Selected(d == p.grantDays).Text(p.tr("visit.days", d))
			})).OnChange(func(ctx app.Context, e app.Event) {
				p.grantDays, _ = strconv.Atoi(ctx.JSSrc().Get("value").String())
			}),
		),
		app.Button().ID("grant").Disabled(p.busy || len(kinds) == 0).Text(p.tr("visit.grant.send")).
			OnClick(func(ctx app.Context, e app.Event) { p.grant() }),
	)
}

// accessView is every access to the household's histories: who, when,
// what, why.
func (p *hospitalPage) accessView() app.UI {
	as := p.lists.accesses
	return app.Section().ID("accesses").Class("card").Attr("data-count", len(as)).Body(
		app.H2().Text(p.tr("visit.accesses")),
		app.If(len(as) == 0, func() app.UI { return app.P().Class("hint").Text(p.tr("visit.accesses.none")) }),
		app.Ul().Body(app.Range(as).Slice(func(i int) app.UI {
			a := as[i]
			kinds := make([]string, len(a.Kinds))
			for j, k := range a.Kinds {
				kinds[j] = p.words(medical.KindNames[k])
			}
			return app.Li().Class("access").Attr("data-hospital", a.Hospital).Attr("data-kinds", strings.Join(a.Kinds, ",")).Text(
				a.Time.In(appointment.JST).Format("2006-01-02 15:04") + "　" + p.placeName(a.Hospital) + "　" + p.personName(a.Resident) + "　" +
					strings.Join(kinds, "・") + "　" + p.tr("visit.access.by", a.Staff))
		})),
	)
}

// receiptView lists the household's bills, line by line.
func (p *hospitalPage) receiptView() app.UI {
	rs := p.lists.receipts
	return app.Section().ID("receipts").Class("card").Attr("data-count", len(rs)).Body(
		app.H2().Text(p.tr("visit.receipts")),
		app.If(len(rs) == 0, func() app.UI { return app.P().Class("hint").Text(p.tr("visit.receipts.none")) }),
		app.Range(rs).Slice(func(i int) app.UI {
			r := rs[i]
			return app.Div().Class("receipt").Attr("data-id", r.ID).Attr("data-patient-pays", r.Split.Patient).Body(
				app.H3().Text(r.Date.In(appointment.JST).Format("2006-01-02")+"　"+p.placeName(r.Hospital)+"　"+p.personName(r.Resident)),
				app.Ul().Body(app.Range(r.Lines).Slice(func(j int) app.UI { return app.Li().Text(p.words(r.Lines[j])) })),
			)
		}),
	)
}

// noticeView lists the emergency identifications of the people the
// holder is the guardian of: where, when, why.
func (p *hospitalPage) noticeView() app.UI {
	ns := p.lists.notices
	return app.Section().ID("notices").Class("card").Attr("data-count", len(ns)).Body(
		app.H2().Text(p.tr("visit.notices")),
		app.If(len(ns) == 0, func() app.UI { return app.P().Class("hint").Text(p.tr("visit.notices.none")) }),
		app.Ul().Body(app.Range(ns).Slice(func(i int) app.UI {
			n := ns[i]
			return app.Li().Class("emergency-notice").Attr("data-hospital", n.Hospital).Attr("data-resident", n.Resident).Text(
				p.tr("visit.notice", n.Time.In(appointment.JST).Format("2006-01-02 15:04"), p.placeName(n.Hospital), p.personName(n.Resident), n.Reason))
		})),
	)
}

// notebookView imports a medication notebook: the QR code's text, as a
// reader types it or pasted.
func (p *hospitalPage) notebookView() app.UI {
	return app.Section().ID("notebook").Class("card").Body(
		app.H2().Text(p.tr("visit.nb")),
		app.P().Class("hint").Text(p.tr("visit.nb.lead")),
		p.personSelect("nb-who", p.nbWho, func(v string) { p.nbWho = v }),
		app.Label().For("nb-text").Text(p.tr("visit.nb.text")),
		app.Textarea().ID("nb-text").Rows(6).Text(p.nbText).
			OnInput(func(ctx app.Context, e app.Event) { p.nbText = ctx.JSSrc().Get("value").String() }),
		app.Button().ID("nb-import").Disabled(p.busy || strings.TrimSpace(p.nbText) == "").Text(p.tr("visit.nb.send")).
			OnClick(func(ctx app.Context, e app.Event) { p.importNotebook() }),
	)
}
