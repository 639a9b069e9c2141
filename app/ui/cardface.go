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
	p.cf.open(&p.live)
	p.outcome, p.resident, p.arrival, p.rx, p.until = "", "", nil, nil, time.Time{}
}

// open starts a check on the page of l: forgets the last, asks for
// 照合番号B, and has the photo's decoder load meanwhile.
func (d *cardFaceDesk) open(l *live) {
	d.end()
	d.check.Start()
	if dec, ok := photoDecoder.(Preparer); ok && !d.codec {
		// Loaded while the key is typed; a failure shows at the read.
		l.later(func() func() {
			err := dec.Prepare(l.page)
			return func() {
				if err != nil {
					app.Log("card face: the codec:", err)
				}
				d.codec = err == nil
			}
		})
	}
}

// cardFaceRead takes the key typed, once, and has the card read.
func (p *identifyPage) cardFaceRead() { p.cf.read(&p.live, p.till.reader) }

// read takes the key typed, once, and has the card on r read off the UI
// goroutine: the photo decoded in the browser and made a template.
func (d *cardFaceDesk) read(l *live, r Reader) {
	key, ok := d.check.Take()
	clearInput("keyb")
	if !ok {
		return
	}
	gen := d.gen
	l.later(func() func() {
		ctx, cancel := context.WithTimeout(l.page, cardTimeout)
		defer cancel()
		ph, err := cardphoto.Read(ctx, r, key, photoDecoder, embedPhoto)
		return func() {
			if gen != d.gen { // closed meanwhile
				clear(ph.Template)
				return
			}
			if err != nil {
				app.Log("card face:", err)
			}
			d.decode, d.decide = ph.Decode, ph.Decode+ph.Embed
			d.check.Read(ph, err)
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

// cardFaceFrame feeds the live face to the check: a picture held up is
// recorded, a comparison goes on as cardFaceDecided says.
func (p *identifyPage) cardFaceFrame(r face.Result, err error) {
	id, ok := p.cf.frame(r, err, p.turn)
	switch {
	case !ok:
	case id.Outcome == identify.Flat:
		p.record(id)
	default:
		p.cardFaceDecided(id)
	}
}

// frame feeds the live face to the check, with the head-turn check
// (turn, the page's) the face path asks: once it passes, the 1:1
// comparison. ok when the check decided: id is its outcome (Flat for a
// picture held up), to record.
func (d *cardFaceDesk) frame(r face.Result, err error, turn func(face.Result) ([]float32, bool)) (id identify.Identification, ok bool) {
	if d.check.Step != cardphoto.Live || err != nil {
		return id, false
	}
	probe, flat := turn(r)
	if flat {
		return d.check.Flat(), true
	}
	if probe == nil {
		return id, false
	}
	return d.compare(probe), true
}

// compare compares the live face's embedding with the card photo's,
// timed into the decision's time.
func (d *cardFaceDesk) compare(probe []float32) identify.Identification {
	start := time.Now()
	net, _ := engine.network()
	id := d.check.Compare(net, probe)
	d.decide += time.Since(start)
	return id
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
	if holder := terminal.CardHolder(p.st, p.enr.Facility, p.cf.check.Photo.Fingerprint); holder != "" {
		// A person this terminal holds a profile of, with this card and
		// their consent to this facility (the card path's own rule, so a
		// withdrawn consent names nobody here either): on as the card
		// path goes.
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

// cardFaceView is the check's panel on the identify screen.
func (p *identifyPage) cardFaceView() app.UI {
	return p.cf.view(&p.live, p.cardFaceRead, p.cardFaceDone)
}

// cardFaceWords is what went wrong, in the screen's language.
func (p *identifyPage) cardFaceWords() string { return p.cf.words(&p.live) }

// view is the check's panel on the page of l, whichever screen offers
// it: the key's form (submitted to read), the reading, the live face's
// turn, the outcome (done, the screen's own) and what went wrong, in
// words for staff.
func (d *cardFaceDesk) view(l *live, read func(), done func() app.UI) app.UI {
	c := &d.check
	var body []app.UI
	switch c.Step {
	case cardphoto.Key:
		// No pattern attribute: the browser's own check would stop the
		// form before the screen could say what is wrong in its words.
		body = append(body, app.Form().ID("cardface-form").OnSubmit(func(ctx app.Context, e app.Event) {
			e.PreventDefault()
			read()
		}).Body(
			app.Label().For("keyb").Text(l.tr("cardface.key")),
			app.Input().ID("keyb").Type("text").Class("code big").Attr("inputmode", "numeric").Attr("maxlength", 14).
				Attr("autocomplete", "off").Value(c.KeyB).
				OnInput(func(ctx app.Context, e app.Event) { c.KeyB = ctx.JSSrc().Get("value").String() }),
			app.P().Class("hint").Text(l.tr("cardface.key.hint")),
			app.If(c.Tries > 0, func() app.UI {
				return app.P().ID("cardface-tries").Class("hint").Attr("data-tries", c.Tries).Text(l.tr("cardface.tries", c.Tries))
			}),
			app.Div().Class("actions").Body(app.Button().ID("cardface-read").Class("big").Type("submit").Text(l.tr("cardface.read"))),
		))
	case cardphoto.Reading:
		body = append(body, app.P().ID("cardface-busy").Class("hint").Attr("role", "status").Text(l.tr("cardface.reading")))
	case cardphoto.Live:
		body = append(body, app.P().ID("cardface-live").Class("guide").Attr("role", "status").Text(l.tr("cardface.live")))
	case cardphoto.Done:
		body = append(body, done())
	}
	if w := d.words(l); w != "" {
		body = append(body, app.P().ID("cardface-error").Class("error").Attr("role", "alert").Text(w))
	}
	body = append(body, app.Div().Class("actions").Body(
		app.Button().ID("cardface-close").Class("secondary").Type("button").Text(l.tr("cardface.close")).
			OnClick(func(ctx app.Context, e app.Event) { d.end() }),
	))
	return app.Section().ID("cardface").Class("card").Attr("data-step", int(c.Step)).Attr("data-codec", d.codec).Body(
		append([]app.UI{app.H2().Text(l.tr("cardface.open"))}, body...)...,
	)
}

// words is what went wrong, in the language of l's page ("" for
// nothing).
func (d *cardFaceDesk) words(l *live) string { return l.keyWords(d.check.Words) }

// result is the element that carries the check's outcome, score and
// times (data-*), for staff and the tests.
func (d *cardFaceDesk) result() app.HTMLDiv {
	c := &d.check
	return app.Div().ID("cardface-result").Attr("role", "status").Attr("data-outcome", c.Outcome).
		Attr("data-score", c.Score).Attr("data-decode-ms", d.decode.Milliseconds()).Attr("data-decide-ms", d.decide.Milliseconds())
}

// cardFaceDone is the check's outcome: accepted (at a shelter, the
// reading to type for a person it has no profile of), refused, or not
// made; each refusal tells staff to check by sight.
func (p *identifyPage) cardFaceDone() app.UI {
	res := p.cf.result()
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
