package ui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/access"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/app/state"
)

// hqPage shows every shelter's occupancy and roster, as synced to this
// device; finds a person across shelters; answers inquirers only as far
// as each person consented; and exports every roster in one file.
type hqPage struct {
	app.Compo
	live

	query    string
	inquiry  bool // answering somebody who asks after a person
	results  []shelter.Evacuee
	searched bool
	// asked is the query the results answer (what was typed may since
	// have changed).
	asked string
	csv   rosterFile
	msg   string
}

func (p *hqPage) OnMount(ctx app.Context) { p.mount(ctx) }
func (p *hqPage) OnDismount()             { p.dismount() }

func (p *hqPage) Render() app.UI {
	if !p.isEnr || p.enr.Role != scope.HQ {
		return p.wrongDevice(p.tr("hq.title"), "hq")
	}
	if p.st == nil {
		return p.frame(app.H1().Text(p.tr("hq.title")))
	}
	shelters := p.st.Shelters()
	total := 0
	for _, s := range shelters {
		total += len(p.st.EvacueesAt(s.ID))
	}
	return p.frame(
		app.H1().Text(p.tr("hq.title")),
		app.P().ID("hq-total").Class("count").Text(p.tr("hq.total", total)),
		app.If(len(p.st.Rejected) > 0, func() app.UI {
			return app.P().Class("notice").Text(p.tr("hq.rejected", len(p.st.Rejected)))
		}),
		p.searchView(),
		p.conflicts(),
		app.Div().Class("actions no-print").Body(
			app.Button().ID("hq-export").Class("secondary").Type("button").Text(p.tr("hq.export")).
				OnClick(func(ctx app.Context, e app.Event) { p.export() }),
			app.If(p.csv.url != "", func() app.UI {
				return app.A().ID("hq-download").Href(p.csv.url).Attr("download", p.csv.name).Text(p.tr("roster.download"))
			}),
		),
		app.If(p.msg != "", func() app.UI { return app.P().Class("notice warn").Attr("role", "alert").Text(p.msg) }),
		app.Div().Class("shelters").Body(app.Range(shelters).Slice(func(i int) app.UI {
			s := shelters[i]
			people := p.st.EvacueesAt(s.ID)
			t := countOf(people)
			level := shelter.Congestion(t.present, s.Capacity)
			return app.Section().Class("card").ID("hq-"+s.ID).Attr("data-present", t.present).Attr("data-out", t.out).Attr("data-households", t.households).Attr("data-congestion", level).Body(
				app.H2().Text(s.Name(p.lang)),
				app.P().Text(p.tr("list.capacity", len(people), s.Capacity)),
				app.P().Class("tally").Text(p.tr("tally", t.present, t.out, t.elsewhere, t.left, t.households)+"　"+p.tr("congestion."+strconv.Itoa(level))),
				app.Table().Body(app.TBody().Body(app.Range(people).Slice(func(j int) app.UI {
					e := people[j]
					return app.Tr().Attr("data-id", e.ID).Attr("data-household", e.Household).Attr("data-status", e.Status).Body(
						app.Td().Text(e.Kana),
						app.Td().Text(e.Name),
						app.Td().Text(e.BirthYear),
						app.Td().Text(shelter.Label(p.lang, shelter.FieldStatus, e.Status)+statusNote(p.lang, e)),
					)
				}))),
			)
		})),
	)
}

// searchView finds a person across every shelter by name: a reading in
// any kana or width, fuzzy by a sound, or the written name. In inquiry
// mode the answer holds only people who agreed to disclosure, and says
// no more than their shelter and whether they are there.
func (p *hqPage) searchView() app.UI {
	return app.Section().ID("hq-search").Class("card no-print").Body(
		app.H2().Text(p.tr("hq.search")),
		app.Form().OnSubmit(func(ctx app.Context, e app.Event) {
			e.PreventDefault()
			p.search()
		}).Body(
			app.Label().For("hq-query").Text(p.tr("hq.search.label")),
			app.Input().ID("hq-query").Type("search").Value(p.query).AutoComplete(false).
				OnInput(func(ctx app.Context, e app.Event) { p.query = ctx.JSSrc().Get("value").String() }),
			app.Label().Class("check").Body(
				app.Input().Type("checkbox").ID("hq-inquiry").Checked(p.inquiry).
					OnChange(func(ctx app.Context, e app.Event) {
						p.inquiry = ctx.JSSrc().Get("checked").Bool()
						p.results, p.searched = nil, false
					}),
				app.Text(p.tr("hq.inquiry")),
			),
			app.Button().ID("hq-find").Type("submit").Text(p.tr("hq.find")),
		),
		app.If(p.searched, func() app.UI { return p.resultsView() }),
	)
}

// search runs the query over every shelter's people, and records the
// read for the audit.
func (p *hqPage) search() {
	p.results, p.searched, p.asked = nil, true, p.query
	var found []shelter.Evacuee
	for _, s := range p.st.Shelters() {
		for _, e := range p.st.EvacueesAt(s.ID) {
			if shelter.Matches(p.query, e) && (!p.inquiry || e.Disclose) {
				found = append(found, e)
			}
		}
	}
	p.results = found
	what := access.Search
	if p.inquiry {
		what = access.Inquiry
	}
	p.recordRead(what, "", found)
}

// resultsView lists what the search found. An inquirer's answer names the
// shelter and status only; with nobody to tell, it says there is nothing
// it can tell, which does not reveal whether the person is there.
func (p *hqPage) resultsView() app.UI {
	if len(p.results) == 0 {
		key := "hq.none"
		if p.inquiry {
			key = "hq.inquiry.none"
		}
		return app.P().ID("hq-results").Attr("data-count", 0).Attr("data-query", p.asked).Attr("data-inquiry", p.inquiry).Text(p.tr(key))
	}
	return app.Ul().ID("hq-results").Attr("data-count", len(p.results)).Attr("data-query", p.asked).Attr("data-inquiry", p.inquiry).Body(app.Range(p.results).Slice(func(i int) app.UI {
		e := p.results[i]
		where := p.facilityName(e.Shelter) + "（" + shelter.Label(p.lang, shelter.FieldStatus, e.Status) + statusNote(p.lang, e) + "）"
		if p.inquiry {
			return app.Li().Attr("data-id", e.ID).Text(p.tr("hq.inquiry.answer", e.Kana, e.BirthYear, where))
		}
		return app.Li().Attr("data-id", e.ID).Text(fmt.Sprintf("%s　%s　%d　%s", e.Kana, e.Name, e.BirthYear, where))
	}))
}

// export saves every shelter's roster in one CSV file.
func (p *hqPage) export() {
	var all []shelter.Evacuee
	for _, s := range p.st.Shelters() {
		all = append(all, p.st.EvacueesAt(s.ID)...)
	}
	p.msg = ""
	if err := p.exportRoster(&p.csv, "roster-all", "", all); err != nil {
		app.Log("hq: export:", err)
		p.msg = p.tr("err.export")
	}
}

// conflicts lists what staff must decide: one person checked in at two
// shelters, or a field corrected differently on two devices.
func (p *hqPage) conflicts() app.UI {
	cs := p.st.Conflicts()
	if len(cs) == 0 {
		return nil
	}
	return app.Section().ID("conflicts").Class("card warn").Body(
		app.H2().Text(p.tr("hq.conflicts", len(cs))),
		app.Ul().Body(app.Range(cs).Slice(func(i int) app.UI {
			c := cs[i]
			return app.Li().Attr("data-kind", c.Kind).Attr("data-records", strings.Join(c.Records, " ")).Text(p.describe(c))
		})),
	)
}

func (p *hqPage) describe(c state.Conflict) string {
	if c.Kind == state.ConflictEdit {
		e := p.st.Evacuees[c.Records[0]]
		return p.tr("hq.conflict.edit", e.Kana, p.tr("field.label."+c.Field), c.Values[0], strings.Join(c.Values[1:], " / "))
	}
	var who []string
	for _, id := range c.Records {
		e := p.st.Evacuees[id]
		who = append(who, fmt.Sprintf("%s（%d）%s", e.Kana, e.BirthYear, p.facilityName(e.Shelter)))
	}
	return p.tr("hq.conflict.two_shelters", strings.Join(who, "、"))
}
