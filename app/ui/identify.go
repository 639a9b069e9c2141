package ui

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/cardphoto"
	"smartpass.city/smartpass/app/face"
	"smartpass.city/smartpass/app/face/gallery"
	"smartpass.city/smartpass/app/face/liveness"
	"smartpass.city/smartpass/app/face/risk"
	"smartpass.city/smartpass/app/hospital"
	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/playpark"
	"smartpass.city/smartpass/app/route"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/app/terminal"
)

// identifyPage is a terminal's face screen (play park entrance, hospital
// reception): it looks continuously, matches against the templates of
// residents who agreed to be recognised here, and says the outcome in
// words that do not reveal who anyone resembles. The play park learns
// only "may enter"; reception shows the resident's number, which staff
// link to the patient number (issue 7).
//
// Every terminal screens presentation attacks, the main threat at an
// unattended tablet: before a face is matched, the person turns their
// head once to the side asked (package liveness), so a photo or a phone
// screen held up is refused.
type identifyPage struct {
	app.Compo
	live
	faces Faces
	scan  scanner
	// visits asks the server for a patient's consented history, at a
	// hospital's reception (nil: not asked).
	visits VisitAPI

	gal      *gallery.Gallery
	galGen   uint64 // the projection's generation the gallery follows
	galFolds uint64 // its folds of the whole log when the gallery was built
	galSeen  int    // the ops it followed
	galNet   string // the network whose templates it holds (the loaded model's)
	skipped  int    // templates of another model (need re-enrollment)
	top      []gallery.Match
	policy   risk.Policy // the rule at the gallery's size (gallery)
	polFor   string      // the facility kind policy was computed for
	polN     int         // the gallery size it was computed for
	polNet   string      // the network whose basis it was read off

	outcome  string // "" or an identify outcome
	resident string
	until    time.Time // the outcome stays on screen until then

	turner // the head turn under way

	// qr is set while the screen reads a QR pass instead of a face
	// (staff or the person tapped it); key is the text of the outcome.
	qr  bool
	key string
	// park is the play park's answer about the person accepted;
	// admitted counts the children just admitted with them.
	park     terminal.Park
	admitted int
	// rx is the hospital reception under way (nil: none).
	rx *receptionDraft
	// er is the emergency identification under way (nil: none).
	er *emergencyDraft
	// arrival is what a shelter's screen did for the person recognised.
	arrival *shelterArrival
	// card is a card checked on the card page, to identify (cardArrived).
	card string
	// counts caches the park's day counts (todays).
	counts dayCounts
	// sight is set while park staff choose the band of a child they
	// admit by sight (admitBySight).
	sight bool
	// till is a shop terminal's payment under way (shop.go).
	till till
	// bus is a vehicle tablet's run (vehicle.go).
	bus bus
	// counter is a donation counter's donation under way (counter.go).
	counter counterDesk
	// cf is the card-face check under way (cardface.go).
	cf cardFaceDesk
}

// terminalTurn is the check a terminal asks: one turn, quickly.
var terminalTurn = func() liveness.Params {
	p := liveness.Default
	p.Timeout = 15 * time.Second
	return p
}()

func (p *identifyPage) allowed() bool {
	return p.isEnr && terminal.Identifies(p.enr.Role)
}

func (p *identifyPage) OnMount(ctx app.Context) {
	p.card, p.fresh = takeCard(), p.cardArrived
	p.mount(ctx)
	p.top = make([]gallery.Match, 0, 2)
	if !p.allowed() {
		return
	}
	p.scan.onQR = p.checkPass
	if p.enr.Role == scope.Vehicle {
		p.busWatch(ctx)
	}
	engine.load(&p.live, p.faces, func() {
		p.scan.start(&p.live, p.faces, face.Options{Limits: face.DefaultLimits}, p.seen)
	})
}

func (p *identifyPage) OnDismount() {
	p.cf.end() // the card's photo goes with the page
	p.busUnwatch()
	p.scan.close()
	p.dismount()
}

// gallery returns the matcher over the device's templates. It is built
// once per fold of the whole log; between folds it follows the template
// ops applied since, one by one: the log also changes at every
// identification and at every face the desk registers, and widening a
// city's templates to float32 again each time would stop the camera.
// The rule (p.policy) is computed again whenever the gallery's size,
// the facility's kind or the network changes. The network is asked
// first: before the model file is loaded it is a placeholder's, and a page
// drawn then must not keep that gallery once another network loads.
func (p *identifyPage) gallery() *gallery.Gallery {
	if p.st == nil {
		return nil
	}
	net, dims := engine.network()
	if p.gal != nil && p.galGen == p.gen && p.galNet == net {
		return p.gal
	}
	p.galGen = p.gen
	if p.gal == nil || p.galNet != net || p.galFolds != p.folds || len(p.ops) < p.galSeen {
		p.gal, p.skipped = gallery.FromTemplates(net, dims, p.st.Templates)
		p.galNet = net
	} else {
		for _, op := range p.ops[p.galSeen:] {
			if op.Kind != template.OpPut && op.Kind != template.OpDelete {
				continue
			}
			var t struct{ Resident string }
			if json.Unmarshal(op.Body, &t) != nil {
				continue
			}
			// The fold's verdict, whatever the op said.
			if cur, ok := p.st.Templates[t.Resident]; !ok {
				p.gal.Delete(t.Resident)
			} else if p.gal.PutTemplate(cur) != nil {
				p.gal.Delete(t.Resident)
				p.skipped++
			}
		}
	}
	p.galFolds, p.galSeen = p.folds, len(p.ops)
	kind := p.st.Facilities[p.enr.Facility].Kind
	if p.policy.Kind == "" || string(kind) != p.polFor || p.gal.Len() != p.polN || p.polNet != p.galNet {
		// The rule of the facility's kind at the gallery's size, read off
		// the basis of the network that made the templates (package
		// risk); a facility the tablet does not know yet gets the
		// strictest, a network without a basis the closed rule.
		p.policy, p.polFor, p.polN, p.polNet = risk.ForTerminal(p.galNet, kind, p.gal.Len()), string(kind), p.gal.Len(), p.galNet
	}
	return p.gal
}

// holdResult is how long an outcome stays on screen before the next
// person.
const holdResult = 3 * time.Second

func (p *identifyPage) seen(r face.Result, err error) {
	if p.cf.check.Step != cardphoto.Idle {
		// The card-face check has the camera until it ends.
		p.cardFaceFrame(r, err)
		return
	}
	if time.Now().Before(p.until) {
		return
	}
	p.outcome, p.resident, p.admitted, p.rx, p.arrival = "", "", 0, nil, nil
	g := p.gallery()
	if err != nil || g == nil {
		return
	}
	probe := r.Embedding
	if p.er != nil {
		// The emergency mode: no turn check (the patient cannot turn).
		p.emergencyFrame(g, probe)
		return
	}
	if terminal.AsksTurn(p.enr.Role) {
		var done bool
		if probe, done = p.turned(r); !done {
			return
		}
	}
	p.top = g.TopK(probe, 2, p.top)
	d := p.policy.Decision.Decide(p.top)
	// A shop's till has a second-factor step: a face the rule accepts
	// but cannot trust alone goes on to it, whatever the amount.
	p.till.always = d.Accepted && p.policy.SecondFactor == risk.Always
	if p.till.always && p.enr.Role != scope.Shop {
		// The face alone is not enough at this gallery's size, and this
		// screen has no second-factor step yet: it says so and names
		// nobody; the QR pass and card buttons are on the same screen.
		p.outcome, p.resident = identify.SecondFactor, ""
	} else {
		p.outcome, p.resident = terminal.Match(d, p.st.Templates, time.Now())
	}
	if p.outcome == identify.Accepted {
		p.answer(hospital.ByFace)
	}
	p.until, p.key = time.Now().Add(holdResult), ""
	if p.rx != nil {
		// The reception panel waits for staff and the patient
		// (holdReception), not only an outcome's moment.
		p.until = time.Now().Add(holdReception)
	}
	var score float32
	if len(p.top) > 0 {
		score = p.top[0].Score
	}
	p.record(identify.Identification{Resident: p.resident, Method: identify.MethodFace, Outcome: p.outcome, Score: score})
	if p.enr.Role == scope.Vehicle {
		p.busFace(p.outcome, d.ID)
	}
}

// checkPass admits (or not) the pass the camera found, then goes back
// to faces: the QR code is one person's fallback.
func (p *identifyPage) checkPass(text string) {
	if p.st == nil {
		return
	}
	if p.enr.Role == scope.Shop && p.shopSecond(text) {
		return
	}
	if p.enr.Role == scope.Vehicle && p.busPass(text) {
		return
	}
	if shelterID, record, ok := shelter.ParseSlip(text); ok && p.enr.Role == scope.Shelter {
		p.setQR(false)
		p.arriveBySlip(shelterID, record)
		return
	}
	c := terminal.CheckPass(p.st, p.enr.Facility, p.enr.Role, text, time.Now())
	p.setQR(false)
	p.outcome, p.resident, p.key = c.Outcome, c.Resident, c.Key
	p.until = time.Now().Add(holdResult)
	if c.Outcome == identify.Accepted {
		p.answer(hospital.ByQR)
	}
	p.record(c.Identification)
}

// answer goes on, once a person is accepted, as the terminal's role
// asks: a shelter checks them in, a reception opens its panel, a play
// park says what it may (a guardian is given time to admit the
// household's children).
func (p *identifyPage) answer(via string) {
	p.park, p.arrival = terminal.Park{}, nil
	if p.enr.Role == scope.Shelter {
		p.arrive(p.resident)
		return
	}
	if p.enr.Role == scope.Reception {
		p.startReception(p.resident, via)
		return
	}
	if p.enr.Role == scope.Shop {
		p.shopFace(p.resident)
		return
	}
	if p.enr.Role == scope.Counter {
		p.counterDonor(p.resident)
		return
	}
	if p.enr.Role != scope.PlayPark {
		return
	}
	p.park = terminal.AnswerPark(p.st, p.resident, time.Now())
	if len(p.park.Children) > 0 {
		p.until = time.Now().Add(holdHousehold)
	}
}

// holdHousehold is how long the household question stays on screen.
const holdHousehold = 12 * time.Second

// admitHousehold admits the household's eligible children with the
// guardian identified: each child is recorded as admitted by household.
func (p *identifyPage) admitHousehold() {
	children := p.park.Children
	for _, id := range children {
		p.record(identify.Identification{Resident: id, Method: identify.MethodHousehold, Outcome: identify.Accepted})
	}
	p.park.Children, p.park.Eligible = nil, true
	p.key = ""
	p.admitted = len(children)
	p.until = time.Now().Add(holdResult)
}

// admitBySight admits a child staff checked by sight, in the band they
// judged: the last resort when no face, card or pass works. Nobody is
// named; the entry counts in the day's report.
func (p *identifyPage) admitBySight(band string) {
	p.sight = false
	p.record(identify.Identification{Method: identify.MethodStaff, Outcome: identify.Accepted, Band: band})
	p.outcome, p.resident, p.key, p.admitted = identify.Accepted, "", "", 0
	p.park = terminal.Park{Profiled: true, Eligible: true, Band: band}
	p.until = time.Now().Add(holdResult)
}

// sightView asks park staff the band of the child they admit by sight.
func (p *identifyPage) sightView() app.UI {
	bands := []string{playpark.Preschool, playpark.Elementary}
	return app.Section().ID("sight").Class("card").Body(
		app.P().Text(p.tr("park.staff.h")),
		app.Div().Class("actions").Body(
			app.Range(bands).Slice(func(i int) app.UI {
				b := bands[i]
				return app.Button().Class("big sight-band").Type("button").Attr("data-band", b).Text(p.tr("band."+b)).
					OnClick(func(ctx app.Context, e app.Event) { p.admitBySight(b) }, app.EventScope(b))
			}),
			app.Button().ID("sight-cancel").Class("secondary").Type("button").Text(p.tr("admin.cancel")).
				OnClick(func(ctx app.Context, e app.Event) { p.sight = false }),
		),
	)
}

// setQR switches the screen between reading faces and reading a pass.
func (p *identifyPage) setQR(on bool) {
	p.qr = on
	p.scan.qr.Store(on)
	p.check, p.want = nil, 0
	if on {
		p.outcome, p.until = "", time.Time{}
	}
}

// record keeps the identification in the device's log, to be synced and
// audited; a failure to store it is shown in the status bar's title and
// does not hold up the person.
func (p *identifyPage) record(i identify.Identification) {
	i.Facility = p.enr.Facility
	p.keep(identify.OpIdentified, []any{i}, nil)
}

// turned feeds the head-turn check; done is true when it has ended, with
// the frontal embedding to match when it passed. A picture held up is
// recorded as a face identification's Flat.
func (p *identifyPage) turned(r face.Result) (probe []float32, done bool) {
	probe, flat := p.turn(r)
	if flat {
		p.outcome, p.until, p.key = identify.Flat, time.Now().Add(holdResult), ""
		p.record(identify.Identification{Method: identify.MethodFace, Outcome: identify.Flat})
	}
	return probe, probe != nil
}

// turner is a screen's head-turn check under way: the face check and
// the card-face check (the identify screen's, the desk's) share it.
type turner struct {
	check *liveness.Check
	want  liveness.Direction // the side asked, for the guide
}

// turn feeds the head-turn check: the frontal embedding once it passed,
// flat when it saw a picture held up, neither while it goes on (or
// starts over: someone else stepped in, or too slow).
func (p *turner) turn(r face.Result) (probe []float32, flat bool) {
	if p.check == nil {
		p.check = liveness.New(turnParams(terminalTurn), liveness.RandomSteps(rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())), 1))
	}
	st := p.check.Observe(r, time.Now())
	p.want = st.Want
	switch {
	case errors.Is(st.Err, liveness.ErrFlat):
		p.check, p.want = nil, 0
		return nil, true
	case st.Err != nil:
		p.check, p.want = nil, 0
		return nil, false
	case !st.Passed:
		return nil, false
	}
	p.check, p.want = nil, 0
	return st.Embedding, false
}

func (p *identifyPage) Render() app.UI {
	if !p.allowed() {
		return p.wrongDevice(p.tr("face.id.title"), string(terminal.IdentifyRole))
	}
	// Until the model file is loaded its network is not known, nor which
	// templates it can use: the count is of the faces held, and none is
	// called old (a download that fails must not tell staff that every
	// resident has to register again).
	n, skipped := 0, 0
	if !engine.ready() {
		if p.st != nil {
			n = len(p.st.Templates)
		}
	} else if g := p.gallery(); g != nil {
		n, skipped = g.Len(), p.skipped
	}
	guide := "face.g.wait"
	switch {
	case p.scan.camErr != nil:
		guide = "face.g.camera"
	case p.scan.last != nil && p.scan.lastErr != nil:
		guide = guidance(p.scan.lastErr)
	case p.qr:
		guide = "pass.g.show"
	case p.want == liveness.Left:
		guide = "face.l.left"
	case p.want == liveness.Right:
		guide = "face.l.right"
	case p.scan.last != nil:
		guide = "face.g.ok"
	}
	return p.frame(
		app.H1().Text(p.tr("face.id.title")+" — "+p.facilityName(p.enr.Facility)),
		p.modelStatus(),
		app.Div().Class("face-layout").Body(
			p.cameraView(&p.scan),
			// Each part in a slot of its own: an outcome that clears
			// while staff type a patient number must not shift the
			// reception form into another element (go-app matches
			// children by position), which loses the focus and the
			// letters typed.
			app.Div().Body(
				app.Div().Class("slot").Body(
					app.If(p.outcome != "", func() app.UI { return p.outcomeView() }).
						ElseIf(p.rx == nil, func() app.UI {
							return app.P().ID("face-guide").Class("guide").Attr("role", "status").Attr("data-key", guide).Text(p.tr(guide))
						}),
				),
				app.Div().Class("slot").Body(app.If(p.rx != nil, func() app.UI { return p.receptionView() })),
				app.Div().Class("slot").Body(app.If(p.er != nil, func() app.UI { return p.emergencyView() })),
				app.Div().Class("slot").Body(app.If(p.enr.Role == scope.Shop, func() app.UI { return p.shopView() })),
				app.Div().Class("slot").Body(app.If(p.enr.Role == scope.Vehicle, func() app.UI { return p.busView() })),
				app.Div().Class("slot").Body(app.If(p.enr.Role == scope.Counter, func() app.UI { return p.counterView() })),
				app.Div().Class("slot").Body(app.If(p.cf.check.Step != cardphoto.Idle, func() app.UI { return p.cardFaceView() })),
			),
		),
		// data-folds: the tab's folds of the whole log, for the
		// measurements (TestProjectionLatency).
		app.P().ID("gallery-size").Class("hint").Attr("data-count", n).Attr("data-folds", p.folds).Text(p.tr("face.id.count", n)),
		app.If(p.enr.Role == scope.PlayPark, func() app.UI { return p.parkCounts() }),
		app.If(skipped > 0, func() app.UI {
			return app.P().Class("hint").Text(p.tr("face.id.skipped", skipped))
		}),
		app.Div().Class("actions").Body(
			app.Button().ID("pass-scan").Type("button").Text(p.tr(map[bool]string{false: "pass.scan", true: "pass.scan.stop"}[p.qr])).
				OnClick(func(ctx app.Context, e app.Event) { p.setQR(!p.qr) }),
			p.cardButton(),
			app.If(cardFaceAt(p.enr.Role), func() app.UI { return p.cardFaceButton() }),
			app.If(p.enr.Role == scope.PlayPark, func() app.UI {
				return app.Button().ID("staff-admit").Class("secondary").Type("button").Text(p.tr("park.staff")).
					OnClick(func(ctx app.Context, e app.Event) { p.sight = !p.sight })
			}),
			app.If(p.enr.Role == scope.Reception, func() app.UI {
				return app.Div().Class("actions").Body(
					app.Button().ID("staff-check").Class("secondary").Type("button").Text(p.tr("rx.staff")).
						OnClick(func(ctx app.Context, e app.Event) { p.staffCheck() }),
					app.A().ID("queue-link").Class("button secondary").Href(route.Queue).Text(p.tr("queue.title")),
					app.Button().ID("er-open").Class("danger").Type("button").Text(p.tr("er.open")).
						OnClick(func(ctx app.Context, e app.Event) { p.openEmergency() }),
				)
			}),
		),
		app.If(p.sight, p.sightView),
		app.If(p.enr.Role == scope.Shop && p.st != nil, func() app.UI { return p.refundsView() }),
		app.Button().ID("face-overlay-toggle").Class("secondary small").Type("button").Text(p.tr("face.overlay")).
			OnClick(func(ctx app.Context, e app.Event) { p.scan.overlay = !p.scan.overlay }),
	)
}

// parkView is the play park's answer: free entry and the age band, or
// not; and for a guardian, the household's children to admit.
func (p *identifyPage) parkView() []app.UI {
	var out []app.UI
	switch {
	case p.admitted > 0:
		out = append(out, app.Strong().ID("park-admitted").Attr("data-count", p.admitted).Text(p.tr("park.admitted", p.admitted)))
	case p.park.Eligible:
		out = append(out, app.Strong().ID("park-answer").Attr("data-eligible", true).Attr("data-band", p.park.Band).
			Text(p.tr("park.yes", p.tr("band."+p.park.Band))))
	default:
		out = append(out, app.Strong().ID("park-answer").Attr("data-eligible", false).Attr("data-band", p.park.Band).Text(p.tr("park.no")))
	}
	if p.park.Declared {
		out = append(out, app.P().ID("park-declared").Class("error").Text(p.tr("park.declared")))
	}
	if n := len(p.park.Children); n > 0 {
		out = append(out, app.Button().ID("admit-household").Class("big").Type("button").Text(p.tr("park.household", n)).
			OnClick(func(ctx app.Context, e app.Event) { p.admitHousehold() }))
	}
	return out
}

// parkCounts is the day's entries at the park by age band, for its
// report: the residents this terminal admitted today, each once.
func (p *identifyPage) parkCounts() app.UI {
	if p.st == nil {
		return app.Text("")
	}
	c := p.todays()
	return app.P().ID("park-counts").Class("hint").Attr("data-preschool", c[playpark.Preschool]).Attr("data-elementary", c[playpark.Elementary]).
		Text(p.tr("park.counts", c[playpark.Preschool], c[playpark.Elementary]))
}

// dayCounts are the park's counts as of one fold and one day.
type dayCounts struct {
	gen uint64
	day string
	c   playpark.Counts
}

// todays returns the day's counts, read from the log again only when the
// fold or the day changed: the screen is drawn at every camera frame.
func (p *identifyPage) todays() playpark.Counts {
	now := time.Now()
	day := now.Format(time.DateOnly)
	if p.counts.gen == p.gen && p.counts.day == day {
		return p.counts.c
	}
	c := terminal.ParkCounts(p.ops, p.sync.DeviceID(), p.st.Profiles, now)
	p.counts = dayCounts{gen: p.gen, day: day, c: c}
	return p.counts.c
}

// outcomeView says the result: for the play park only whether the child
// may enter; at reception, the resident's number for staff.
func (p *identifyPage) outcomeView() app.UI {
	key, class := "face.id.unknown", "result unknown"
	switch p.outcome {
	case identify.Accepted:
		key, class = "face.id.ok."+string(p.enr.Role), "result ok"
	case identify.Ambiguous:
		key = "face.id.ambiguous"
	case identify.Flat:
		key = "face.id.flat"
	case identify.Expired:
		key = "face.id.expired"
	case identify.SecondFactor:
		key = "face.id.second"
	}
	if p.key != "" { // a QR pass's outcome
		key = p.key
	}
	body := []app.UI{app.Strong().Text(p.tr(key))}
	switch {
	case p.outcome == identify.Accepted && p.enr.Role == scope.Reception:
		body = append(body, app.P().ID("identify-resident").Text(p.tr("face.id.resident", p.resident)))
	case p.outcome == identify.Accepted && p.arrival != nil:
		body = p.arrivalView()
	case p.outcome == identify.Accepted && p.enr.Role == scope.PlayPark && p.park.Profiled:
		body = p.parkView()
		if !p.park.Eligible && p.admitted == 0 {
			class = "result unknown"
		}
	}
	return app.Div().ID("identify-result").Class(class).Attr("role", "status").Attr("data-outcome", p.outcome).Body(body...)
}
