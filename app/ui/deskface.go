package ui

import (
	"fmt"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/cardphoto"
	"smartpass.city/smartpass/app/face"
	"smartpass.city/smartpass/app/face/liveness"
	"smartpass.city/smartpass/app/identify"
)

// The desk's card-face check: before staff confirm the person whose
// facts were read, the same panel as the shelter's and reception's
// (cardFaceDesk) compares the live face 1:1 with the card's photo. Its
// outcome and score are shown to staff in words and go with the
// registration (account.DeskCheck, as cardphoto.ForDesk decides);
// staff still confirm with their name. A check that refuses or cannot
// run leaves staff to confirm by sight, as before, and that is what is
// recorded.

// deskFaceText is the desk check's own words, Japanese first.
var deskFaceText = map[string][2]string{
	"desk.face.ok":         {"一致（スコア %s）：カードの写真と本人の顔が一致しました。職員が確認して登録してください。", "Match (score %s): the face matches the card's photo. Staff: confirm and register."},
	"desk.face.no":         {"不一致（スコア %s）：カードの写真と本人の顔が一致しませんでした。", "No match (score %s): the face does not match the card's photo."},
	"desk.check.face":      {"確認の方法：カードの顔写真との照合（一致・スコア %s）", "Checked by: the card photo check (match, score %s)"},
	"desk.check.sight":     {"確認の方法：職員の目視", "Checked by: staff, by sight"},
	"desk.check.sightface": {"確認の方法：職員の目視（顔写真との照合は不一致・スコア %s）", "Checked by: staff, by sight (the card photo check: no match, score %s)"},
	"desk.check.sightflat": {"確認の方法：職員の目視（顔写真との照合で写真や画面がかざされました）", "Checked by: staff, by sight (the card photo check saw a photo or a screen held up)"},
}

func init() { addText(deskFaceText) }

// score is a 1:1 cosine as staff read it.
func score(s float32) string { return fmt.Sprintf("%.2f", s) }

// deskFaceOpen starts the card-face check for the person read: the key,
// then the camera for the live face once the model is there. A new
// check replaces what an earlier one decided.
func (p *deskPage) deskFaceOpen() {
	p.cf.open(&p.live)
	p.decided = identify.Identification{}
	p.turner = turner{}
	if p.faces == nil {
		return
	}
	engine.load(&p.live, p.faces, func() {
		if p.cf.check.Step != cardphoto.Idle {
			p.scan.start(&p.live, p.faces, face.Options{Limits: face.DefaultLimits}, p.deskFaceSeen)
		}
	})
}

// deskFaceRead takes the key typed, once, and has the card read.
func (p *deskPage) deskFaceRead() { p.cf.read(&p.live, p.reader) }

// deskFaceSeen feeds each camera frame to the check; the camera stops
// once the check has ended.
func (p *deskPage) deskFaceSeen(r face.Result, err error) {
	if p.cf.check.Step == cardphoto.Idle {
		p.scan.close()
		return
	}
	if id, ok := p.cf.frame(r, err, p.turn); ok {
		p.deskFaceDecided(id)
	}
}

// deskFaceDecided keeps the check's outcome and score for the
// registration staff confirm next.
func (p *deskPage) deskFaceDecided(id identify.Identification) { p.decided = id }

// deskFaceEnd forgets the check and its outcome, and stops the camera:
// the next person, or the page gone.
func (p *deskPage) deskFaceEnd() {
	p.cf.end()
	p.scan.close()
	p.decided = identify.Identification{}
	p.turner = turner{}
}

// deskFaceView is the check beside the facts read: the button that opens
// it, or the camera and the panel while it runs; and always how the
// person will be recorded as checked.
func (p *deskPage) deskFaceView() app.UI {
	var body []app.UI
	if p.cf.check.Step == cardphoto.Idle {
		body = append(body, app.Div().Class("actions").Body(
			app.Button().ID("card-face").Class("big").Type("button").Disabled(p.busy).Text(p.tr("cardface.open")).
				OnClick(func(ctx app.Context, e app.Event) { p.deskFaceOpen() }),
		))
	} else {
		body = append(body, p.modelStatus(), app.Div().Class("face-layout").Body(
			p.cameraView(&p.scan),
			app.Div().Body(
				app.P().ID("face-guide").Class("guide").Attr("role", "status").Text(p.tr(p.deskFaceGuide())),
				p.cf.view(&p.live, p.deskFaceRead, p.deskFaceDone),
			),
		))
	}
	d := cardphoto.ForDesk(p.decided)
	return app.Section().ID("desk-face").Class("card").Body(append(body,
		app.P().ID("desk-check").Class("hint").Attr("data-by", d.By).Attr("data-outcome", d.Outcome).Attr("data-score", d.Score).
			Text(p.deskCheckWords()))...,
	)
}

// deskFaceGuide is what the person in front of the camera should do.
func (p *deskPage) deskFaceGuide() string {
	switch {
	case p.scan.camErr != nil:
		return "face.g.camera"
	case p.cf.check.Step != cardphoto.Live:
		return "cardface.live"
	case p.want == liveness.Left:
		return "face.l.left"
	case p.want == liveness.Right:
		return "face.l.right"
	case p.scan.last != nil && p.scan.lastErr != nil:
		return guidance(p.scan.lastErr)
	}
	return "cardface.live"
}

// deskFaceDone is the check's outcome for staff: a match or not, with
// the score; any refusal, or a check that could not be made, leaves
// staff to compare by sight.
func (p *deskPage) deskFaceDone() app.UI {
	c := &p.cf.check
	res := p.cf.result()
	switch c.Outcome {
	case identify.Accepted:
		return res.Class("result ok").Body(app.Strong().Text(p.tr("desk.face.ok", score(c.Score))))
	case identify.Unknown:
		return res.Class("result unknown").Body(
			app.Strong().Text(p.tr("desk.face.no", score(c.Score))),
			app.P().Text(p.tr("cardface.sight")),
		)
	}
	return res.Class("result unknown").Body(app.Strong().Text(p.tr("cardface.sight")))
}

// deskCheckWords says how the registration will record the person as
// checked.
func (p *deskPage) deskCheckWords() string {
	d := cardphoto.ForDesk(p.decided)
	switch {
	case d.Outcome == identify.Accepted:
		return p.tr("desk.check.face", score(d.Score))
	case d.Outcome == identify.Unknown:
		return p.tr("desk.check.sightface", score(d.Score))
	case d.Outcome == identify.Flat:
		return p.tr("desk.check.sightflat")
	}
	return p.tr("desk.check.sight")
}
