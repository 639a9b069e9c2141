package ui

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/route"
)

// homePage lists the modes a device can run in.
type homePage struct {
	app.Compo
	live
}

func (p *homePage) OnMount(ctx app.Context) { p.mount(ctx) }
func (p *homePage) OnDismount()             { p.dismount() }

func (p *homePage) Render() app.UI {
	type mode struct{ key, href string }
	modes := []mode{
		{"mode.setup", route.Setup},
		{"mode.shelter", route.Shelter},
		{"mode.hq", route.HQ},
		{"mode.card", route.Card},
		{"mode.account", route.Account},
		{"mode.enroll", route.FaceRegister},
		{"mode.desk", route.Desk},
		{"mode.hospital", route.Identify},
		{"mode.queue", route.Queue},
		{"mode.playpark", route.Identify},
		{"mode.shop", route.Identify},
		{"mode.counter", route.Identify},
		{"mode.donor", route.Donor},
		{"mode.admin", route.Admin},
		{"mode.vehicle", route.Vehicle},
		{"mode.visits", route.AccountHospital},
		{"mode.reception", route.Reception},
	}
	return p.frame(
		app.H1().Text(p.tr("home.title")),
		app.P().Text(p.tr("home.lead")),
		app.P().ID("device").Class("notice").Text(p.deviceLine()),
		app.Nav().Class("modes").Body(
			app.Range(modes).Slice(func(i int) app.UI {
				m := modes[i]
				if m.href == "" {
					return app.Div().Class("mode soon").Attr("aria-disabled", "true").Body(
						app.Strong().Text(p.tr(m.key)),
						app.Span().Text(p.tr(m.key+".d")),
						app.Span().Text(p.tr("mode.soon")),
					)
				}
				return app.A().Class("mode").Href(m.href).Body(
					app.Strong().Text(p.tr(m.key)),
					app.Span().Text(p.tr(m.key+".d")),
				)
			}),
		),
	)
}

func (p *homePage) deviceLine() string {
	if !p.isEnr {
		return p.tr("home.nodevice")
	}
	return p.tr("home.device", p.facilityName(p.enr.Facility), p.tr("role."+string(p.enr.Role)))
}
