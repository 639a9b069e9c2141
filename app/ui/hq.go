package ui

import (
	"fmt"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/state"
)

// hqPage shows every shelter's occupancy and roster, as synced to this
// device.
type hqPage struct {
	app.Compo
	live
}

func (p *hqPage) OnMount(ctx app.Context) { p.mount(ctx) }
func (p *hqPage) OnDismount()             { p.dismount() }

func (p *hqPage) Render() app.UI {
	if !p.isEnr || p.enr.Role != "hq" {
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
		p.conflicts(),
		app.Div().Class("shelters").Body(app.Range(shelters).Slice(func(i int) app.UI {
			s := shelters[i]
			people := p.st.EvacueesAt(s.ID)
			return app.Section().Class("card").ID("hq-"+s.ID).Body(
				app.H2().Text(s.Name(p.lang)),
				app.P().Text(p.tr("list.capacity", len(people), s.Capacity)),
				app.Table().Body(app.TBody().Body(app.Range(people).Slice(func(j int) app.UI {
					e := people[j]
					return app.Tr().Attr("data-id", e.ID).Body(
						app.Td().Text(e.Kana),
						app.Td().Text(e.Name),
						app.Td().Text(e.BirthYear),
					)
				}))),
			)
		})),
	)
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
