package ui

import (
	"errors"
	"net/url"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/enroll"
	"smartpass.city/smartpass/app/face"
	"smartpass.city/smartpass/app/route"
	"smartpass.city/smartpass/syncproto"
)

// setupPage makes this tablet a device of a facility with the one-time
// code an admin issued. On a demo server it also offers the demo codes, so
// a newcomer can try every mode without an admin.
type setupPage struct {
	app.Compo
	live
	faces Faces
	// scan reads the code's QR code from the camera while scanning.
	scan     scanner
	scanning bool

	code   string
	busy   bool
	errMsg string
	done   bool
	demo   []syncproto.DemoCode
}

func (p *setupPage) OnMount(ctx app.Context) {
	p.mount(ctx)
	// The QR code an admin prints opens this page with the code in it.
	if c := ctx.Page().URL().Query().Get("code"); c != "" {
		p.code = c
	}
	p.later(func() func() {
		// An error means no demo server, or offline: nothing to offer.
		codes, _ := p.dev.DemoCodes(ctx)
		return func() { p.demo = codes }
	})
}

func (p *setupPage) OnDismount() {
	p.scan.close()
	p.dismount()
}

// startScan opens the camera to read the code's QR code: frames go to the
// QR decoder only (no face model is needed).
func (p *setupPage) startScan() {
	if p.scanning {
		return
	}
	p.scanning, p.errMsg = true, ""
	p.scan.onQR = p.scanned
	p.scan.qr.Store(true)
	p.scan.start(&p.live, p.faces, face.Options{}, func(face.Result, error) {})
}

// scanned takes a code read from a QR code (the code, or the set-up
// address carrying it) and enrolls with it.
func (p *setupPage) scanned(text string) {
	if !p.scanning || p.busy {
		return
	}
	code := text
	if u, err := url.Parse(text); err == nil && u.Query().Get("code") != "" {
		code = u.Query().Get("code")
	}
	p.scanning = false
	p.scan.close()
	p.code = code
	p.enroll(code)
}

func (p *setupPage) Render() app.UI {
	return p.frame(
		app.H1().Text(p.tr("setup.title")),
		app.If(p.isEnr, func() app.UI {
			return app.P().ID("enrolled").Class("notice").Body(
				app.Text(p.tr("setup.current", p.facilityName(p.enr.Facility), p.tr("role."+string(p.enr.Role)))+" "),
				app.If(route.ForRole(string(p.enr.Role)) != "", func() app.UI {
					return app.A().ID("open-mode").Href(route.ForRole(string(p.enr.Role))).Text(p.tr("setup.open"))
				}),
			)
		}),
		app.Form().ID("setup").Class("card").OnSubmit(func(ctx app.Context, e app.Event) {
			e.PreventDefault()
			p.enroll(p.code)
		}).Body(
			app.P().Text(p.tr("setup.lead")),
			app.Label().For("code").Text(p.tr("setup.code")),
			app.Input().ID("code").Name("code").Type("text").Class("code").Value(p.code).
				Placeholder("XXXX-XXXX").
				Attr("autocapitalize", "characters").
				Attr("aria-describedby", "code-hint").
				AutoComplete(false).
				OnInput(func(ctx app.Context, e app.Event) { p.code = ctx.JSSrc().Get("value").String() }),
			app.P().ID("code-hint").Class("hint").Text(p.tr("setup.code.h")),
			app.Div().Class("actions").Body(
				app.Button().ID("enroll").Type("submit").Disabled(p.busy).Text(p.tr("setup.action")),
				app.Button().ID("scan-code").Class("secondary").Type("button").Disabled(p.busy || p.scanning).Text(p.tr("setup.scan")).
					OnClick(func(ctx app.Context, e app.Event) { p.startScan() }),
			),
			app.If(p.scanning, func() app.UI {
				return app.Div().ID("setup-scan").Body(
					app.P().Class("hint").Text(p.tr("setup.scan.h")),
					app.Div().Class("camera").Body(app.Div().ID("camera-preview").Class("camera-host")),
				)
			}),
			app.If(p.errMsg != "", func() app.UI {
				return app.P().ID("setup-error").Class("error").Attr("role", "alert").Text(p.errMsg)
			}),
			app.If(p.done, func() app.UI {
				return app.P().ID("setup-done").Class("notice").Attr("role", "status").Text(
					p.tr("setup.done", p.facilityName(p.enr.Facility), p.tr("role."+string(p.enr.Role))))
			}),
		),
		app.If(len(p.demo) > 0, func() app.UI {
			return app.Section().ID("demo").Class("card").Body(
				app.H2().Text(p.tr("setup.demo")),
				app.P().Class("hint").Text(p.tr("setup.demo.h")),
				app.Div().Class("modes").Body(app.Range(p.demo).Slice(func(i int) app.UI {
					c := p.demo[i]
					name := c.NameJA
					if p.lang == langEN && c.NameEN != "" {
						name = c.NameEN
					}
					return app.Button().Class("mode demo-code").Type("button").Disabled(p.busy).
						Attr("data-facility", c.Facility).Attr("data-role", c.Role).
						OnClick(func(ctx app.Context, e app.Event) { p.enroll(c.Code) }, app.EventScope(c.Facility, c.Role, c.Code)).
						Body(app.Strong().Text(name), app.Span().Text(p.tr("role."+c.Role)))
				})),
			)
		}),
	)
}

// enroll runs the enrollment off the UI goroutine; one at a time.
func (p *setupPage) enroll(code string) {
	if p.busy {
		return
	}
	p.busy, p.errMsg, p.done = true, "", false
	p.later(func() func() {
		e, err := p.dev.Enroll(p.page, code)
		return func() {
			p.busy = false
			if err != nil {
				app.Log("setup: enroll:", err)
				p.errMsg = p.enrollError(err)
				return
			}
			p.enr, p.isEnr, p.done, p.code = e, true, true, ""
			p.refresh()
		}
	})
}

// enrollError says what went wrong in words for the person holding the
// tablet, and what to do.
func (p *setupPage) enrollError(err error) string {
	if errors.Is(err, enroll.ErrNoCode) {
		return p.tr("setup.err.empty")
	}
	var ef *syncproto.Error
	if errors.As(err, &ef) {
		switch ef.Code {
		case "bad_code":
			return p.tr("setup.err.code")
		case "taken":
			return p.tr("setup.err.taken")
		case syncproto.CodeLimit:
			return p.tr("setup.err.limit")
		}
		return p.tr("setup.err.server")
	}
	return p.tr("setup.err.network")
}
