package ui

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"
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
