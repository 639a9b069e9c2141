package ui

import (
	"errors"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/face"
	"smartpass.city/smartpass/app/face/liveness"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/route"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/template"
)

// faceRegisterPage is face registration: at the city desk, staff enter
// the resident's number; on a resident's own device, the person is the
// account's holder or a family member they added. The resident ticks the
// facilities they agree to be recognised at, looks at the camera and
// turns their head left and right as asked (the liveness check: a photo
// or a phone screen cannot). Only the template of the frontal frame
// leaves the device, never the picture.
type faceRegisterPage struct {
	app.Compo
	live
	faces Faces
	scan  scanner
	// own is a resident registering their own face, or a family
	// member's, from their account (route.AccountFace?r=ID): the
	// facilities come from the server, the template goes to it.
	own      bool
	accounts Accounts
	ownFacs  []facility.Facility

	resident string
	chosen   map[string]bool
	// modelReady is set once the model is loaded and the check made
	// for its network; frames before it are not observed.
	modelReady bool
	check      *liveness.Check
	alive      liveness.Status
	passedAt   time.Time
	savedFor   string
	errKey     string
	submitting bool

	// Deletion on request.
	delResident string
	deletedFor  string
	delErrKey   string
}

func (p *faceRegisterPage) OnMount(ctx app.Context) {
	p.mount(ctx)
	p.chosen = make(map[string]bool)
	if !p.allowed() {
		return
	}
	// A resident just registered at the desk, or chosen on an account.
	p.resident = ctx.Page().URL().Query().Get("r")
	if p.own {
		p.later(func() func() {
			facs, err := p.accounts.Facilities(p.page)
			return func() {
				if err != nil {
					app.Log("face: facilities:", err)
					p.errKey = "face.reg.err.save"
				}
				p.ownFacs = facs
			}
		})
	}
	p.restart()
	if _, failed := engine.progress(); failed != nil {
		return // the model failed on another page: no camera for nothing
	}
	// The camera opens at once, beside the model's download and decoding
	// (the phone's first registration waited for one, then the other);
	// the check sees frames only once the model is loaded.
	p.scan.start(&p.live, p.faces, face.Options{Limits: enrollLimits}, func(r face.Result, err error) {
		if !p.modelReady || err != nil || p.alive.Passed || p.alive.Err != nil {
			return
		}
		if p.alive = p.check.Observe(r, time.Now()); p.alive.Passed {
			p.passedAt = time.Now()
		}
	})
	engine.load(&p.live, p.faces, func() {
		// Again now the model file is loaded: the check compares frames on
		// its network's scale (turnParams).
		p.restart()
		p.modelReady = true
	})
}

// turns is how many head turns registration asks for.
const turns = 3

// restart begins a new liveness check with turns drawn afresh.
func (p *faceRegisterPage) restart() {
	p.check = liveness.New(turnParams(liveness.Default), liveness.RandomSteps(rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())), turns))
	p.alive, p.passedAt = liveness.Status{}, time.Time{}
}

// guide is the text key for what the person should do now.
func (p *faceRegisterPage) guide() string {
	switch {
	case p.scan.camErr != nil:
		return "face.g.camera"
	case errors.Is(p.alive.Err, liveness.ErrFlat):
		return "face.l.flat"
	case errors.Is(p.alive.Err, liveness.ErrOtherPerson):
		return "face.l.other"
	case p.alive.Err != nil:
		return "face.l.timeout"
	case p.alive.Passed:
		return "face.l.passed"
	case p.scan.last == nil && !p.modelReady && p.scan.opened:
		return "face.g.model" // the person sees themselves; the model still loads
	case p.scan.last == nil:
		return "face.g.wait"
	case p.scan.lastErr != nil:
		return guidance(p.scan.lastErr)
	case p.alive.Want == liveness.Left:
		return "face.l.left"
	case p.alive.Want == liveness.Right:
		return "face.l.right"
	}
	return "face.l.front"
}

func (p *faceRegisterPage) OnDismount() {
	p.scan.close()
	p.dismount()
}

// enrollLimits are stricter than a terminal's: one face only, a little
// closer, so the stored template is a good one.
var enrollLimits = func() face.Limits {
	l := face.DefaultLimits
	l.SingleFace = true
	l.MinEyeDistance = 40
	return l
}()

func (p *faceRegisterPage) allowed() bool {
	return p.own || p.isEnr && p.enr.Role == scope.Registrar
}

// facilities lists those whose terminals recognise faces.
func (p *faceRegisterPage) facilities() []facility.Facility {
	if p.own {
		return p.ownFacs
	}
	if p.st == nil {
		return nil
	}
	return p.st.FacilitiesOf(facility.RecognisingFaces...)
}

func (p *faceRegisterPage) Render() app.UI {
	if !p.allowed() {
		return p.wrongDevice(p.tr("face.reg.title"), string(scope.Registrar))
	}
	guide := p.guide()
	facs := p.facilities()
	return p.frame(
		app.H1().Text(p.tr("face.reg.title")),
		p.modelStatus(),
		app.Div().Class("face-layout").Body(
			p.cameraView(&p.scan),
			app.P().ID("face-guide").Class("guide").Attr("role", "status").Attr("data-key", guide).Text(p.tr(guide)),
			app.If(p.alive.Steps > 0 && !p.alive.Passed && p.alive.Err == nil, func() app.UI {
				return app.Progress().ID("turns").Max(p.alive.Steps).Value(p.alive.Step)
			}),
			app.If(p.alive.Err != nil, func() app.UI {
				return app.Button().ID("face-retry").Type("button").Text(p.tr("face.l.retry")).
					OnClick(func(ctx app.Context, e app.Event) { p.restart() })
			}),
		),
		app.Form().ID("face-register").Class("card").OnSubmit(func(ctx app.Context, e app.Event) {
			e.PreventDefault()
			p.save()
		}).Body(
			app.If(!p.own, func() app.UI {
				return app.Div().Body(
					app.Label().For("resident").Text(p.tr("face.reg.resident")),
					app.Input().ID("resident").Type("text").Value(p.resident).AutoComplete(false).
						OnInput(func(ctx app.Context, e app.Event) { p.resident = ctx.JSSrc().Get("value").String() }),
				)
			}).Else(func() app.UI {
				return app.P().ID("resident-own").Text(p.tr("face.reg.for", p.resident))
			}),
			app.FieldSet().Body(
				app.Legend().Text(p.tr("face.reg.consent")),
				app.Range(facs).Slice(func(i int) app.UI {
					f := facs[i]
					return app.Label().Class("check").Body(
						app.Input().Type("checkbox").ID("fac-"+f.ID).Checked(p.chosen[f.ID]).
							OnChange(func(ctx app.Context, e app.Event) { p.chosen[f.ID] = ctx.JSSrc().Get("checked").Bool() }, app.EventScope(f.ID)),
						app.Text(f.Name(p.lang)),
					)
				}),
			),
			app.If(p.errKey != "", func() app.UI {
				return app.P().ID("face-error").Class("notice warn").Attr("role", "alert").Text(p.tr(p.errKey))
			}),
			app.If(p.savedFor != "", func() app.UI {
				return app.P().ID("face-saved").Class("notice ok").Attr("role", "status").Text(p.tr("face.reg.saved", p.savedFor))
			}),
			app.Button().ID("face-save").Type("submit").Disabled(p.submitting).Text(p.tr("face.reg.save")),
		),
		app.Button().ID("face-overlay-toggle").Class("secondary small").Type("button").Text(p.tr("face.overlay")).
			OnClick(func(ctx app.Context, e app.Event) { p.scan.overlay = !p.scan.overlay }),
		app.If(p.own, func() app.UI {
			return app.A().ID("back-account").Class("button secondary").Href(route.Account).Text(p.tr("face.reg.back"))
		}),
		app.If(!p.own, func() app.UI { return p.deleteForm() }),
	)
}

// deleteForm is the city desk's deletion of a resident's face on request.
func (p *faceRegisterPage) deleteForm() app.UI {
	return app.Form().ID("face-delete").Class("card").OnSubmit(func(ctx app.Context, e app.Event) {
		e.PreventDefault()
		p.erase()
	}).Body(
		app.H2().Text(p.tr("face.del.title")),
		app.P().Class("hint").Text(p.tr("face.del.lead")),
		app.Label().For("delete-resident").Text(p.tr("face.reg.resident")),
		app.Input().ID("delete-resident").Type("text").Value(p.delResident).AutoComplete(false).
			OnInput(func(ctx app.Context, e app.Event) { p.delResident = ctx.JSSrc().Get("value").String() }),
		app.If(p.delErrKey != "", func() app.UI {
			return app.P().ID("delete-error").Class("notice warn").Attr("role", "alert").Text(p.tr(p.delErrKey))
		}),
		app.If(p.deletedFor != "", func() app.UI {
			return app.P().ID("face-deleted").Class("notice ok").Attr("role", "status").Text(p.tr("face.del.done", p.deletedFor))
		}),
		app.Button().ID("face-delete-button").Class("secondary").Type("submit").Text(p.tr("face.del.button")),
	)
}

// erase records the deletion of a resident's face for every facility:
// terminals drop the template, and forget every copy, at their next sync.
func (p *faceRegisterPage) erase() {
	p.delErrKey, p.deletedFor = "", ""
	resident := strings.TrimSpace(p.delResident)
	if resident == "" {
		p.delErrKey = "face.reg.err.resident"
		return
	}
	var facs []string
	for _, f := range p.facilities() {
		facs = append(facs, f.ID)
	}
	if len(facs) == 0 {
		// Not synced yet: a deletion naming no facility would reach no
		// terminal (and the server refuses it).
		p.delErrKey = "face.del.err.nofacilities"
		return
	}
	d := template.Delete{Resident: resident, Facilities: facs}
	p.later(func() func() {
		_, err := p.sync.Record(p.page, template.OpDelete, d)
		return func() {
			if err != nil {
				p.delErrKey = "face.reg.err.save"
				return
			}
			p.deletedFor, p.delResident = resident, ""
		}
	})
}

// save records the template of the last good frame, if it is fresh: a
// resident who stepped away must not leave an old picture behind. (It
// reads the page's fields when called: go-app keeps an element's first
// handler until the handler's scope changes, so values captured at render
// time go stale.)
func (p *faceRegisterPage) save() {
	fresh := p.alive.Passed && time.Since(p.passedAt) < 2*time.Minute
	p.errKey, p.savedFor = "", ""
	resident := strings.TrimSpace(p.resident)
	var facs []string
	for _, f := range p.facilities() {
		if p.chosen[f.ID] {
			facs = append(facs, f.ID)
		}
	}
	switch {
	case resident == "":
		p.errKey = "face.reg.err.resident"
		return
	case len(facs) == 0:
		p.errKey = "face.reg.err.consent"
		return
	case !fresh:
		p.errKey = "face.reg.err.face"
		return
	}
	net, _ := engine.network()
	t := template.Template{Resident: resident, Model: net, Facilities: facs, Vec: template.Pack(p.alive.Embedding)}
	p.submitting = true
	p.later(func() func() {
		var err error
		if p.own {
			err = p.accounts.RegisterFace(p.page, t)
		} else {
			_, err = p.sync.Record(p.page, template.OpPut, t)
		}
		return func() {
			p.submitting = false
			if err != nil {
				p.errKey = "face.reg.err.save"
				return
			}
			p.savedFor = resident
			if !p.own {
				p.resident = "" // the desk's next resident
			}
			p.restart() // the next person turns afresh
		}
	})
}
