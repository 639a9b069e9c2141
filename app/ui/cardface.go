package ui

import (
	"context"
	"errors"
	"image"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/cardphoto"
	"smartpass.city/smartpass/app/face"
	"smartpass.city/smartpass/app/face/photo"
	"smartpass.city/smartpass/app/hospital"
	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/app/terminal"
)

// photoDecoder decodes the card's JPEG 2000 photo in the browser
// (UsePhotoDecoder); nil: the card-face check says this device cannot.
var photoDecoder cardphoto.Decoder

// UsePhotoDecoder sets the card photo's decoder (wasm/j2kcodec); the
// wasm main calls it before Register.
func UsePhotoDecoder(d cardphoto.Decoder) { photoDecoder = d }

// Preparer is a photo decoder that can load itself ahead of the first
// photo (the browser's codec, half a megabyte of WebAssembly).
type Preparer interface {
	Prepare(ctx context.Context) error
}

// cardFaceAt reports whether a terminal of role offers the card-face
// check: where a person is checked in, a shelter and hospital reception.
func cardFaceAt(role scope.Role) bool { return role == scope.Shelter || role == scope.Reception }

// cardFaceDesk is the card-face check on the identify screen: the
// check's steps (package cardphoto decides them), the reading staff type
// for a person the shelter has no profile of, and the times measured.
type cardFaceDesk struct {
	check cardphoto.Check
	kana  string
	// decode and decide are the photo's decode and the whole 1:1
	// decision (decode, the face pipeline on the photo, the comparison).
	decode, decide time.Duration
	// accepted: the check accepted the person, and the shelter has no
	// profile of them: staff type the reading to check them in.
	accepted bool
	// codec: the photo's decoder is loaded (data-codec on the panel).
	codec bool
	// gen counts the checks ended: a card read that comes back after
	// its check was closed is dropped, not shown in the next one.
	gen int
}

// end forgets the check and what it read.
func (d *cardFaceDesk) end() {
	d.check.End()
	d.kana, d.accepted = "", false
	d.gen++
}

// cardFaceButton opens the card-face check.
func (p *identifyPage) cardFaceButton() app.UI {
	return app.Button().ID("card-face").Class("secondary").Type("button").Text(p.tr("cardface.open")).
		OnClick(func(ctx app.Context, e app.Event) { p.cardFaceOpen() })
}

// cardFaceOpen starts a check: the screen asks for 照合番号B and stops
// identifying faces until it ends.
func (p *identifyPage) cardFaceOpen() {
	p.setQR(false)
	p.cf.end()
	p.cf.check.Start()
	p.outcome, p.resident, p.arrival, p.rx, p.until = "", "", nil, nil, time.Time{}
	if d, ok := photoDecoder.(Preparer); ok && !p.cf.codec {
		// Loaded while the key is typed; a failure shows at the read.
		p.later(func() func() {
			err := d.Prepare(p.page)
			return func() {
				if err != nil {
					app.Log("card face: the codec:", err)
				}
				p.cf.codec = err == nil
			}
		})
	}
}

// cardFaceRead takes the key typed, once, and has the card read off the
// UI goroutine: the photo decoded in the browser and made a template.
func (p *identifyPage) cardFaceRead() {
	key, ok := p.cf.check.Take()
	clearInput("keyb")
	if !ok {
		return
	}
	r, gen := p.till.reader, p.cf.gen
	p.later(func() func() {
		ctx, cancel := context.WithTimeout(p.page, cardTimeout)
		defer cancel()
		ph, err := cardphoto.Read(ctx, r, key, photoDecoder, embedPhoto)
		return func() {
			if gen != p.cf.gen { // closed meanwhile
				clear(ph.Template)
				return
			}
			if err != nil {
				app.Log("card face:", err)
			}
			p.cf.decode, p.cf.decide = ph.Decode, ph.Decode+ph.Embed
			p.cf.check.Read(ph, err)
		}
	})
}

// embedPhoto runs the face pipeline on the card's photo, read as a tight
// crop as the 1:1 threshold was measured.
func embedPhoto(img image.Image) ([]float32, error) {
	if !engine.ready() {
		return nil, errModel
	}
	rgba := photo.RGBA(img)
	defer clear(rgba.Pix) // the photo's pixels, as the decoder's are
	r, err := engine.process(rgba, face.Options{Crops: true})
	if err != nil {
		return nil, err
	}
	return r.Embedding, nil
}

// cardFaceFrame feeds the live face to the check, with the head-turn
// check the face path asks: once it passes, the 1:1 comparison.
func (p *identifyPage) cardFaceFrame(r face.Result, err error) {
	if p.cf.check.Step != cardphoto.Live || err != nil {
		return
	}
	probe, flat := p.turn(r)
	if flat {
		p.record(p.cf.check.Flat())
		return
	}
	if probe == nil {
		return
	}
	start := time.Now()
	id := p.cf.check.Compare(probe)
	p.cf.decide += time.Since(start)
	p.cardFaceDecided(id)
}

// cardFaceDecided records the 1:1 check's outcome and goes on with an
// accepted person: as the card path goes for one this terminal holds a
// profile of with this card, else to the reading (shelter) or the staff
// panel (reception).
func (p *identifyPage) cardFaceDecided(id identify.Identification) {
	p.record(id)
	if id.Outcome != identify.Accepted {
		return
	}
	p.cf.accepted = true
	if holder := cardphoto.Holder(p.st, p.enr.Facility, p.cf.check.Photo.Fingerprint); holder != "" {
		// A person this terminal holds a profile of, with this card:
		// on as the card path goes.
		p.cf.end()
		p.outcome, p.resident, p.until = identify.Accepted, holder, time.Now().Add(holdResult)
		p.answer(hospital.ByCard)
		return
	}
	if p.enr.Role == scope.Reception {
		// Nobody to open the reception for: staff take the patient
		// number, the person's identity checked.
		p.cf.end()
		p.staffCheck()
	}
}

// cardFaceCheckIn checks in, at this shelter, the person the check
// accepted whom the tablet has no profile of, with the reading staff
// typed.
func (p *identifyPage) cardFaceCheckIn() {
	e, err := p.cf.check.Photo.Record(p.enr.Facility, p.cf.kana, time.Now().Year())
	if err != nil {
		var fe *shelter.FieldError
		key := "cardface.err.record"
		if errors.As(err, &fe) && fe.Field == "kana" {
			key = "cardface.err.kana"
		}
		p.cf.check.Words.Keys = []string{key}
		return
	}
	e.Household = newHousehold()
	p.recordOp(shelter.OpEvacueeAdd, e)
	p.cf.end()
	p.outcome, p.resident, p.until = identify.Accepted, "", time.Now().Add(holdResult)
	p.arrival = &shelterArrival{name: e.Kana, result: terminal.ArrivedIn}
}

// cardFaceView is the check's panel: the key's form, the reading, the
// live face's turn, the outcome in words for staff.
func (p *identifyPage) cardFaceView() app.UI {
	c := &p.cf.check
	var body []app.UI
	switch c.Step {
	case cardphoto.Key:
		// No pattern attribute: the browser's own check would stop the
		// form before the screen could say what is wrong in its words.
		body = append(body, app.Form().ID("cardface-form").OnSubmit(func(ctx app.Context, e app.Event) {
			e.PreventDefault()
			p.cardFaceRead()
		}).Body(
			app.Label().For("keyb").Text(p.tr("cardface.key")),
			app.Input().ID("keyb").Type("text").Class("code big").Attr("inputmode", "numeric").Attr("maxlength", 14).
				Attr("autocomplete", "off").Value(c.KeyB).
				OnInput(func(ctx app.Context, e app.Event) { c.KeyB = ctx.JSSrc().Get("value").String() }),
			app.P().Class("hint").Text(p.tr("cardface.key.hint")),
			app.If(c.Tries > 0, func() app.UI {
				return app.P().ID("cardface-tries").Class("hint").Attr("data-tries", c.Tries).Text(p.tr("cardface.tries", c.Tries))
			}),
			app.Div().Class("actions").Body(app.Button().ID("cardface-read").Class("big").Type("submit").Text(p.tr("cardface.read"))),
		))
	case cardphoto.Reading:
		body = append(body, app.P().ID("cardface-busy").Class("hint").Attr("role", "status").Text(p.tr("cardface.reading")))
	case cardphoto.Live:
		body = append(body, app.P().ID("cardface-live").Class("guide").Attr("role", "status").Text(p.tr("cardface.live")))
	case cardphoto.Done:
		body = append(body, p.cardFaceDone())
	}
	if w := p.cardFaceWords(); w != "" {
		body = append(body, app.P().ID("cardface-error").Class("error").Attr("role", "alert").Text(w))
	}
	body = append(body, app.Div().Class("actions").Body(
		app.Button().ID("cardface-close").Class("secondary").Type("button").Text(p.tr("cardface.close")).
			OnClick(func(ctx app.Context, e app.Event) { p.cf.end() }),
	))
	return app.Section().ID("cardface").Class("card").Attr("data-step", int(c.Step)).Attr("data-codec", p.cf.codec).Body(
		append([]app.UI{app.H2().Text(p.tr("cardface.open"))}, body...)...,
	)
}

// cardFaceWords is what went wrong, in the screen's language ("" for
// nothing).
func (p *identifyPage) cardFaceWords() string {
	w := p.cf.check.Words
	for _, k := range w.Keys {
		if _, ok := text[k]; ok {
			return p.tr(k, w.Args...)
		}
	}
	if w.None() {
		return ""
	}
	return p.tr("card.err.other")
}

// cardFaceDone is the check's outcome: accepted (at a shelter, the
// reading to type for a person it has no profile of), refused, or not
// made; each refusal tells staff to check by sight.
func (p *identifyPage) cardFaceDone() app.UI {
	c := &p.cf.check
	res := app.Div().ID("cardface-result").Attr("role", "status").Attr("data-outcome", c.Outcome).
		Attr("data-score", c.Score).Attr("data-decode-ms", p.cf.decode.Milliseconds()).Attr("data-decide-ms", p.cf.decide.Milliseconds())
	if !p.cf.accepted {
		return res.Class("result unknown").Body(app.Strong().Text(p.tr("cardface.sight")))
	}
	return res.Class("result ok").Body(
		app.Strong().Text(p.tr("cardface.ok")),
		app.Form().ID("cardface-record").OnSubmit(func(ctx app.Context, e app.Event) {
			e.PreventDefault()
			p.cardFaceCheckIn()
		}).Body(
			app.Label().For("cardface-kana").Text(p.tr("cardface.kana")),
			app.Input().ID("cardface-kana").Type("text").Class("big").Value(p.cf.kana).
				OnInput(func(ctx app.Context, e app.Event) { p.cf.kana = ctx.JSSrc().Get("value").String() }),
			app.Div().Class("actions").Body(app.Button().ID("cardface-checkin").Class("big").Type("submit").Text(p.tr("cardface.checkin"))),
		),
	)
}
