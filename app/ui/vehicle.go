package ui

import (
	"fmt"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/fare"
	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/terminal"
	"smartpass.city/smartpass/app/transit"
	"smartpass.city/smartpass/app/vehicle"
	"smartpass.city/smartpass/syncproto"
)

// The vehicle tablet is the identify screen of a device enrolled at a
// transit operator (role vehicle), at route.Vehicle: the driver picks the
// day's trip once, the current stop follows the tablet's position when
// there is one and the driver's ◀/▶ taps always, and riders look at the
// camera at the door (the same loop and head turn as every terminal;
// the QR pass when the face alone is not enough at this gallery's size,
// as package risk rules). Every decision is app/vehicle's; a tap is a
// transit.board or transit.alight op through the device's sync engine,
// kept in IndexedDB and sent whenever there is signal, and the fare the
// rider is shown is priced on the tablet from the published tables,
// provisional until the server has stored the tap (and posted its fare).

// vehicleHold is how long the camera waits after a rider's tap before
// it decides again: short, so a queue boards quickly; the result stays
// in the panel until the next tap.
const vehicleHold = time.Second

// pendingFor is how long the tablet waits for a rider's QR pass before
// it looks for faces again.
const pendingFor = 20 * time.Second

// Geolocation is the tablet's position (wired in wasm/geolocation, the
// browser's Geolocation): the vehicle's current stop follows it along
// the trip when it is there (vehicle.Run.Fix).
type Geolocation interface {
	// Watch calls fix with each position the device reports and failed
	// when it cannot (no API, permission denied, no position), both on
	// no particular goroutine, until stop is called.
	Watch(fix func(vehicle.Fix), failed func(error)) (stop func())
}

// geolocation is the tablet's position source; nil where there is none
// (the driver's taps alone move the stop).
var geolocation Geolocation

// UseGeolocation sets the position source the vehicle tablet follows.
func UseGeolocation(g Geolocation) { geolocation = g }

// bus is a vehicle tablet's run on the identify screen.
type bus struct {
	run  *vehicle.Run
	door vehicle.Door
	// stopGeo ends the position watch (nil: none); noGeo is set while
	// there is no position to follow (no API, permission denied), and
	// the screen says the driver moves the stop.
	stopGeo func()
	noGeo   bool
	// companion: the next boarding joins the last boarding's party (a
	// 幼児 with the adult paying, a carer with a handbook holder).
	companion bool
	lastBoard string // the record id of the last boarding
	// pending is the resident a face proposed, waiting for their QR
	// pass (the face alone is not enough here).
	pending      string
	pendingUntil time.Time
	note         vehicle.Reason
	// sent is the last tap recorded ("…" while recording), lastTap its
	// body, kind its op kind.
	sent    syncproto.Op
	lastTap transit.Tap
	kind    string
	// taps and took: the taps recorded and the time from each rider's
	// decision to their op in the log, for the boarding throughput.
	taps int
	took time.Duration
	// The settlement as of the fold gen and day.
	setGen uint64
	setDay string
	set    transit.Settlement
	setErr error
}

// serviceDay is the day the tablet runs: today in Japan.
func serviceDay(now time.Time) time.Time {
	n := now.In(fare.JST)
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, fare.JST)
}

// busSettlement returns the operator's network and fares in force today
// from the imports the tablet folded, computed again only when the fold
// or the day changed.
func (p *identifyPage) busSettlement() (transit.Settlement, error) {
	b := &p.bus
	day := serviceDay(time.Now())
	if d := day.Format(time.DateOnly); b.setGen != p.gen || b.setDay != d || b.set.Network == nil && b.setErr == nil {
		b.set, b.setErr = transit.SettlementOn(p.st.Parts(), p.enr.Facility, day)
		b.setGen, b.setDay = p.gen, d
	}
	return b.set, b.setErr
}

// busFace goes on from the identify loop's outcome for a face: a rider
// accepted taps; a face the rule does not trust alone waits for the QR
// pass of the resident it proposed; anyone else is sent to cash or IC.
func (p *identifyPage) busFace(outcome, proposed string) {
	b := &p.bus
	p.until = time.Now().Add(vehicleHold)
	switch outcome {
	case identify.Accepted:
		p.busTap(p.resident, transit.ByFace)
	case identify.SecondFactor:
		// Ask for the pass only when the tap would record something: a
		// rider seen again where they tapped spends no pass.
		if a := p.busDecide(proposed, transit.ByQR); a.Kind == "" {
			b.note = a.Reason
			return
		}
		b.pending, b.pendingUntil, b.note = proposed, time.Now().Add(pendingFor), vehicle.Second
		p.setQR(true)
	default:
		b.note = vehicle.Unknown
	}
}

// busPass takes a QR pass shown at the door (the second factor, or a
// rider's pass alone); it reports whether it took the text.
func (p *identifyPage) busPass(text string) bool {
	b := &p.bus
	c := terminal.CheckPass(p.st, p.enr.Facility, p.enr.Role, text, time.Now())
	if c.Outcome == identify.Used {
		return true // a pass taken already, still in view: no try
	}
	if b.pending != "" && c.Outcome == identify.Accepted && c.Resident != b.pending {
		// Another rider's pass while this one's is awaited (the next in
		// the queue holding theirs up): not theirs, not spent, ignored.
		return true
	}
	p.record(c.Identification)
	b.pending = ""
	p.setQR(false)
	p.until = time.Now().Add(vehicleHold)
	if c.Outcome != identify.Accepted {
		b.note = vehicle.Unknown
		return true
	}
	p.busTap(c.Resident, transit.ByQR)
	return true
}

// busTap records what the run decides of resident, identified via.
func (p *identifyPage) busTap(resident, via string) {
	b := &p.bus
	if b.run == nil || p.st == nil || b.sent.Device == "…" {
		return // no trip picked yet, or a tap still being recorded
	}
	if b.lastTap.Resident == resident && b.lastTap.Stop == b.run.Stop() && b.lastTap.Trip == b.run.Trip {
		b.note = vehicle.Again // recorded, maybe not folded yet
		return
	}
	decided := time.Now()
	a := p.busDecide(resident, via)
	b.note = a.Reason
	if a.Kind == "" {
		return
	}
	b.companion, b.lastTap, b.kind = false, a.Tap, a.Kind
	b.sent = syncproto.Op{Device: "…"}
	p.later(func() func() {
		op, err := p.sync.Record(p.page, a.Kind, a.Tap)
		took := time.Since(decided)
		return func() {
			if err != nil {
				app.Log("record "+a.Kind+":", err)
				p.status.Err = err.Error()
				b.sent, b.lastTap = syncproto.Op{}, transit.Tap{}
				return
			}
			b.sent = op
			b.taps++
			b.took += took
			if a.Kind == transit.OpBoard {
				b.lastBoard = transit.RideID(op)
			}
		}
	})
}

// busDecide is what the run would record of resident now.
func (p *identifyPage) busDecide(resident, via string) vehicle.Action {
	b := &p.bus
	if b.run == nil || p.st == nil {
		return vehicle.Action{}
	}
	parts := p.st.Parts()
	book := *transit.Rides.In(parts)
	party := ""
	if b.companion && b.lastBoard != "" {
		party = book.Rides[b.lastBoard].Party
	}
	return vehicle.Decide(book, *transit.Riders.In(parts), *b.run, b.door, resident, via, party, time.Now())
}

// busExpire gives up a second factor nobody showed in time: the camera
// goes back to faces.
func (p *identifyPage) busExpire() {
	if b := &p.bus; b.pending != "" && time.Now().After(b.pendingUntil) {
		b.pending, b.note = "", ""
		p.setQR(false)
	}
}

// stopName names a stop in the screen's language, with its reading.
func (p *identifyPage) stopName(s transit.Settlement, id string) string {
	rec, ok := s.Network.Stop(id)
	switch {
	case !ok:
		return id
	case p.lang == langEN && rec.NameEN != "":
		return rec.NameEN
	case rec.Reading != "":
		return rec.Name + "（" + rec.Reading + "）"
	}
	return rec.Name
}

// busView is the vehicle's panel beside the camera.
func (p *identifyPage) busView() app.UI {
	b := &p.bus
	if p.st == nil {
		return app.Section().ID("vehicle").Class("card")
	}
	p.busExpire()
	s, err := p.busSettlement()
	if err != nil {
		return app.Section().ID("vehicle").Class("card").Body(
			app.P().ID("vehicle-nonetwork").Class("notice").Text(p.tr("bus.nonetwork")),
		)
	}
	if b.run == nil {
		return p.tripsView(s)
	}
	if b.door == "" {
		b.door = vehicle.Both
	}
	boarded, aboard := vehicle.Counts(*transit.Rides.In(p.st.Parts()), *b.run)
	doors := []vehicle.Door{vehicle.Both, vehicle.Board, vehicle.Alight}
	var ms int64
	if b.taps > 0 {
		ms = (b.took / time.Duration(b.taps)).Milliseconds()
	}
	return app.Section().ID("vehicle").Class("card till").
		Attr("data-trip", b.run.Trip).Attr("data-stop", b.run.Stop()).Attr("data-taps", b.taps).Attr("data-tap-ms", ms).
		Attr("data-boarded", boarded).Attr("data-aboard", aboard).Attr("data-pending", b.pending).
		Attr("data-stop-by", map[bool]string{false: "tap", true: "gps"}[b.run.ByFix]).Body(
		app.P().ID("vehicle-trip").Class("hint").Text(p.tr("bus.trip", b.run.Trip, p.tr("bus.pay."+string(b.run.Pay)))),
		app.P().ID("vehicle-stop").Class("amount").Body(
			app.Text(p.stopName(s, b.run.Stop())),
			app.If(b.run.ByFix, func() app.UI {
				return app.Span().ID("vehicle-gps").Class("gps").Title(p.tr("bus.gps.title")).Text("GPS")
			}),
		),
		app.If(b.noGeo, func() app.UI {
			return app.P().ID("vehicle-nogeo").Class("notice").Text(p.tr("bus.nogeo"))
		}),
		app.Div().Class("actions").Body(
			app.Button().ID("stop-prev").Class("secondary big").Type("button").Text(p.tr("bus.prev")).
				OnClick(func(ctx app.Context, e app.Event) { p.busMove(false) }),
			app.Button().ID("stop-next").Class("big").Type("button").Text(p.tr("bus.next")).
				OnClick(func(ctx app.Context, e app.Event) { p.busMove(true) }),
		),
		p.busResult(s),
		app.If(b.note != "", func() app.UI {
			ja, en := b.note.Words()
			return app.P().ID("vehicle-note").Class("error").Attr("role", "alert").Attr("data-reason", string(b.note)).Text(p.pick(ja, en))
		}),
		app.P().ID("vehicle-counts").Class("hint").Text(p.tr("bus.counts", boarded, aboard)),
		app.Div().Class("actions").Body(
			app.Range(doors).Slice(func(i int) app.UI {
				d := doors[i]
				class := "secondary door"
				if b.door == d {
					class = "door"
				}
				return app.Button().Class(class).Type("button").Attr("data-door", string(d)).Attr("aria-pressed", b.door == d).Text(p.tr("bus.door."+string(d))).
					OnClick(func(ctx app.Context, e app.Event) { b.door = d }, app.EventScope(string(d)))
			}),
		),
		app.Button().ID("vehicle-companion").Class(map[bool]string{false: "secondary", true: ""}[b.companion]).Type("button").
			Attr("aria-pressed", b.companion).Disabled(b.lastBoard == "").Text(p.tr("bus.companion")).
			OnClick(func(ctx app.Context, e app.Event) { b.companion = !b.companion }),
		app.Button().ID("vehicle-end").Class("secondary small").Type("button").Text(p.tr("bus.change")).
			OnClick(func(ctx app.Context, e app.Event) {
				b.run, b.note, b.sent, b.lastTap, b.pending = nil, "", syncproto.Op{}, transit.Tap{}, ""
			}),
	)
}

// busWatch follows the tablet's position while the screen is open: each
// fix may move the current stop on; without one the screen says the
// driver's buttons move it.
func (p *identifyPage) busWatch(ctx app.Context) {
	b := &p.bus
	if geolocation == nil {
		b.noGeo = true
		return
	}
	b.stopGeo = geolocation.Watch(
		func(f vehicle.Fix) { ctx.Dispatch(func(app.Context) { p.busFix(f) }) },
		func(err error) {
			app.Log("vehicle: no position:", err)
			ctx.Dispatch(func(app.Context) { b.noGeo = true })
		})
}

// busUnwatch ends the position watch as the screen closes.
func (p *identifyPage) busUnwatch() {
	if b := &p.bus; b.stopGeo != nil {
		b.stopGeo()
		b.stopGeo = nil
	}
}

// busFix moves the run's current stop by a position fix (forward only,
// the driver's taps winning: vehicle.Run.Fix).
func (p *identifyPage) busFix(f vehicle.Fix) {
	b := &p.bus
	b.noGeo = false
	if b.run != nil && b.run.Fix(f, time.Now()) {
		b.note = ""
	}
}

// busPick starts the run of the trip the driver tapped, at its first
// stop.
func (p *identifyPage) busPick(trip string) {
	s, err := p.busSettlement()
	if err != nil {
		return
	}
	if run, err := vehicle.Start(s, p.enr.Facility, trip, serviceDay(time.Now())); err == nil {
		p.bus.run, p.bus.note = &run, ""
	}
}

// busMove moves the current stop on (next) or back at the driver's tap,
// which wins over the position fixes before it.
func (p *identifyPage) busMove(next bool) {
	p.bus.run.Tap(next, time.Now())
	p.bus.note = ""
}

// tripsView is the driver's list of the day's trips, large buttons.
func (p *identifyPage) tripsView(s transit.Settlement) app.UI {
	day := serviceDay(time.Now())
	choices, err := vehicle.Choices(s, p.enr.Facility, day)
	if err != nil {
		return app.Section().ID("vehicle").Class("card").Body(app.P().ID("vehicle-nonetwork").Class("notice").Text(p.tr("bus.nonetwork")))
	}
	return app.Section().ID("vehicle").Class("card").Body(
		app.H2().Text(p.tr("bus.pick")),
		app.Div().Class("actions").Body(
			app.Range(choices).Slice(func(i int) app.UI {
				c := choices[i]
				label := fmt.Sprintf("%s %s → %s（%s）", c.Departs, p.stopName(s, c.From), p.stopName(s, c.To), p.tr("bus.pay."+string(c.Pay)))
				return app.Button().Class("big trip").Type("button").Attr("data-trip", c.Trip).Text(label).
					OnClick(func(ctx app.Context, e app.Event) { p.busPick(c.Trip) }, app.EventScope(c.Trip))
			}),
		),
	)
}

// busResult is the last tap as the rider sees it: the numbered ticket on
// a distance route's boarding, their class and fare when it is known,
// provisional until the server stored the tap, or the server's refusal.
func (p *identifyPage) busResult(s transit.Settlement) app.UI {
	b := &p.bus
	if b.sent.Device == "" || b.sent.Device == "…" {
		return app.Div().ID("vehicle-result").Attr("data-state", map[bool]string{false: "none", true: "recording"}[b.sent.Device == "…"])
	}
	parts := p.st.Parts()
	sh, ok := vehicle.Show(s, *transit.Rides.In(parts), *transit.Riders.In(parts), *b.run, b.kind, transit.RideID(b.sent), time.Now())
	refused, posted := terminal.Outcome(p.ops, p.st.Rejected, b.sent)
	state := map[bool]string{false: "provisional", true: "posted"}[posted]
	if refused != "" {
		state = "refused"
	}
	out := app.Div().ID("vehicle-result").Class("result ok").Attr("data-state", state).Attr("data-kind", b.kind).Attr("data-ride", sh.Ride)
	var body []app.UI
	switch {
	case refused != "":
		return out.Class("result unknown").Body(app.P().ID("vehicle-refused").Attr("role", "alert").Text(refused))
	case !ok:
		return out.Body(app.P().Text(p.tr("shop.r.recording")))
	}
	if b.kind == transit.OpBoard && b.run.Pay == fare.OnAlighting {
		body = append(body, app.P().ID("vehicle-ticket").Class("amount").Attr("data-ticket", sh.Ticket).Text(p.tr("bus.ticket", sh.Ticket)))
	}
	if sh.Priced {
		ja, en := vehicle.Label(sh.Fare)
		amount := yen(int64(sh.Fare.Amount))
		if sh.Fare.Amount == 0 {
			amount = p.tr("bus.free")
		}
		body = append(body, app.P().ID("vehicle-fare").Class("amount").Attr("data-class", string(sh.Fare.Class)).Attr("data-category", string(sh.Fare.Category)).
			Attr("data-amount", sh.Fare.Amount).Text(p.pick(ja, en)+" "+amount))
	}
	if sh.Err != nil {
		body = append(body, app.P().Class("error").Text(p.tr("bus.unpriced")))
	}
	if !posted {
		body = append(body, app.P().ID("vehicle-provisional").Class("hint").Text(p.tr("bus.provisional")))
	}
	return out.Body(body...)
}

// busText is the vehicle's words, Japanese first, merged into the table.
var busText = map[string][2]string{
	"face.id.ok.vehicle": {"確認できました", "Recognised"},
	"mode.vehicle":       {"バス・乗合タクシー", "Bus and shared taxi"},
	"mode.vehicle.d":     {"顔で乗車・降車（運賃は区分ごと、オフラインでも）", "Board and alight by face: fares by class, offline too"},
	"role.vehicle":       {"車両の端末", "vehicle tablet"},
	"bus.nonetwork":      {"この事業者の路線データがまだ届いていません。通信できる場所でお待ちください。", "This operator's routes have not arrived yet: wait where there is signal."},
	"bus.pick":           {"運行する便を選んでください", "Pick the trip you drive"},
	"bus.trip":           {"便 %s（%s）", "Trip %s (%s)"},
	"bus.pay.boarding":   {"運賃は乗車時", "fare on boarding"},
	"bus.pay.alighting":  {"整理券・運賃は降車時", "numbered ticket, fare on alighting"},
	"bus.prev":           {"◀ 前のバス停", "◀ Previous stop"},
	"bus.next":           {"次のバス停 ▶", "Next stop ▶"},
	"bus.counts":         {"この便の乗車 %d 人・乗車中 %d 人", "This trip: %d boarded, %d aboard"},
	"bus.door.both":      {"乗車・降車", "Board and alight"},
	"bus.door.board":     {"乗車のみ", "Boarding only"},
	"bus.door.alight":    {"降車のみ", "Alighting only"},
	"bus.companion":      {"同伴者を追加（幼児・介助者）", "Add a companion (preschooler, carer)"},
	"bus.change":         {"便を変更", "Change trip"},
	"bus.ticket":         {"整理券 %d 番", "Ticket no. %d"},
	"bus.free":           {"無料", "free"},
	"bus.provisional":    {"（仮）通信が戻ると確定します", "(provisional) final once the tablet is back online"},
	"bus.gps.title":      {"停留所は位置情報（GPS）で進みました", "The stop moved on by the tablet's position (GPS)"},
	"bus.nogeo":          {"位置情報が使えません。停留所はボタンで進めてください。", "No position available: move the stop with the buttons."},
	"bus.unpriced":       {"運賃を計算できません。乗務員が精算します。", "The fare cannot be computed: the driver settles it."},
}

func init() {
	for k, v := range busText {
		text[k] = v
	}
}
