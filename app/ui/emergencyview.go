package ui

import (
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/appointment"
	"smartpass.city/smartpass/app/emergency"
	"smartpass.city/smartpass/app/face/gallery"
	"smartpass.city/smartpass/app/visit"
	"smartpass.city/smartpass/app/visitpage"
)

// emergencyDraft is an emergency identification on a hospital's
// reception tablet: staff give their name and the reason first; the
// camera's next face is matched without the turn check under the
// emergency rule (package emergency), which names nobody until a second
// member of staff confirms when the face alone may not decide; the
// server records every use, shows the fixed summary for a limited time
// and tells the guardian.
type emergencyDraft struct {
	staff, reason, second string
	started, decided      bool
	d                     emergency.Decision
	summary               *visit.EmergencySummary
	asking                bool
	err                   [2]string
}

// openEmergency opens the emergency panel; the reception panel closes.
func (p *identifyPage) openEmergency() {
	p.rx, p.outcome, p.until = nil, "", time.Time{}
	p.er = &emergencyDraft{}
}

// startEmergency begins matching once there is a reason.
func (p *identifyPage) startEmergency() {
	er := p.er
	if _, err := emergency.Reason(er.reason); err != nil || strings.TrimSpace(er.staff) == "" {
		er.err = [2]string{tr(langJA, "er.err.reason"), tr(langEN, "er.err.reason")}
		return
	}
	er.err, er.started, er.decided, er.summary = [2]string{}, true, false, nil
}

// emergencyFrame decides one frame while the panel waits for a face:
// nobody named is recorded at once (the server keeps every use for
// review); one the face alone identifies is asked for at once; a
// proposal waits for the second member of staff.
func (p *identifyPage) emergencyFrame(g *gallery.Gallery, probe []float32) {
	er := p.er
	if !er.started || er.decided {
		return
	}
	p.top = g.TopK(probe, 2, p.top)
	d, err := emergency.Decide(p.top, p.galNet, g.Len(), er.reason)
	if err != nil {
		er.err, er.started = visitpage.Words(err), false
		return
	}
	er.d, er.decided = d, true
	switch d.Outcome {
	case emergency.Identified:
		p.askEmergency(visit.Emergency{Resident: d.Resident, Method: "face"})
	case emergency.NotIdentified, emergency.Unclear:
		p.askEmergency(visit.Emergency{Method: "face"})
	}
}

// confirmEmergency is the second member of staff confirming a proposal.
func (p *identifyPage) confirmEmergency() {
	er := p.er
	d, err := emergency.ConfirmBySecond(er.d, strings.TrimSpace(er.staff), strings.TrimSpace(er.second))
	if err != nil {
		er.err = [2]string{tr(langJA, "er.err.second"), tr(langEN, "er.err.second")}
		return
	}
	er.d = d
	p.askEmergency(visit.Emergency{Resident: d.Resident, Second: er.second, Method: "second"})
}

// askEmergency sends the use to the server: the summary for someone
// identified, the record alone for nobody (refused, nothing shown).
func (p *identifyPage) askEmergency(req visit.Emergency) {
	er := p.er
	if p.visits == nil || er.asking {
		return
	}
	req.Staff, req.Reason = er.staff, er.reason
	if len(p.top) > 0 {
		req.Score = p.top[0].Score
	}
	er.asking, er.err = true, [2]string{}
	p.later(func() func() {
		s, err := callVisit(p.page, p.visits, visit.API.Emergency, req)
		return func() {
			er.asking = false
			if err != nil {
				er.err = visitpage.Words(err)
				return
			}
			er.summary = &s
		}
	})
}

// emergencyView is the emergency panel.
func (p *identifyPage) emergencyView() app.UI {
	er := p.er
	var body []app.UI
	switch {
	case !er.started:
		body = []app.UI{
			app.P().Text(p.tr("er.lead")),
			app.Label().For("er-staff").Text(p.tr("er.staff")),
			app.Input().ID("er-staff").Type("text").Value(er.staff).AutoComplete(false).
				OnInput(func(ctx app.Context, e app.Event) { er.staff = ctx.JSSrc().Get("value").String() }),
			app.Label().For("er-reason").Text(p.tr("er.reason")),
			app.Input().ID("er-reason").Type("text").Value(er.reason).AutoComplete(false).Attr("maxlength", emergency.MaxReason).
				OnInput(func(ctx app.Context, e app.Event) { er.reason = ctx.JSSrc().Get("value").String() }),
			app.Button().ID("er-start").Class("danger").Type("button").Text(p.tr("er.start")).
				OnClick(func(ctx app.Context, e app.Event) { p.startEmergency() }),
		}
	case er.summary != nil && time.Now().Before(er.summary.Until):
		body = []app.UI{p.emergencySummary(*er.summary)}
	case !er.decided:
		body = []app.UI{app.P().ID("er-waiting").Class("guide").Text(p.tr("er.waiting"))}
	case er.d.Outcome == emergency.Proposed:
		body = []app.UI{
			app.P().ID("er-outcome").Attr("data-outcome", er.d.Outcome).Class("notice").Text(p.tr("er.proposed")),
			app.Label().For("er-second").Text(p.tr("er.second")),
			app.Input().ID("er-second").Type("text").Value(er.second).AutoComplete(false).
				OnInput(func(ctx app.Context, e app.Event) { er.second = ctx.JSSrc().Get("value").String() }),
			app.Button().ID("er-confirm").Class("danger").Type("button").Disabled(er.asking).Text(p.tr("er.confirm")).
				OnClick(func(ctx app.Context, e app.Event) { p.confirmEmergency() }),
		}
	default:
		body = []app.UI{app.P().ID("er-outcome").Attr("data-outcome", er.d.Outcome).Class("notice").Text(p.tr("er.outcome." + er.d.Outcome))}
	}
	return app.Section().ID("emergency").Class("card warn").Body(
		app.H2().Text(p.tr("er.title")),
		app.Div().Body(body...),
		app.If(er.err[0] != "", func() app.UI {
			return app.P().ID("er-error").Class("error").Attr("role", "alert").Text(p.words(er.err))
		}),
		app.Div().Class("actions").Body(
			app.If(er.started, func() app.UI {
				return app.Button().ID("er-again").Class("secondary").Type("button").Text(p.tr("er.again")).
					OnClick(func(ctx app.Context, e app.Event) {
						er.decided, er.summary, er.err, er.second = false, nil, [2]string{}, ""
					})
			}),
			app.Button().ID("er-close").Class("secondary").Type("button").Text(p.tr("er.close")).
				OnClick(func(ctx app.Context, e app.Event) { p.er = nil }),
		),
	)
}

// emergencySummary is the fixed summary, and until when it shows.
func (p *identifyPage) emergencySummary(s visit.EmergencySummary) app.UI {
	list := func(id, key string, names []string) app.UI {
		text := strings.Join(names, "、")
		if len(names) == 0 {
			text = p.tr("er.none")
		}
		return app.Div().ID(id).Attr("data-count", len(names)).Body(app.H3().Text(p.tr(key)), app.P().Text(text))
	}
	return app.Div().ID("er-summary").Body(
		list("er-allergies", "er.allergies", s.Allergies),
		list("er-medication", "er.medication", s.Medication),
		list("er-conditions", "er.conditions", s.Conditions),
		app.P().ID("er-contact").Text(p.tr("er.contact", s.Contact.Name)),
		app.P().Class("hint").Text(p.tr("er.until", s.Until.In(appointment.JST).Format("15:04"))),
	)
}
