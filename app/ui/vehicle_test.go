package ui

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/fare"
	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/pass"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/synclog"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/app/transit"
	"smartpass.city/smartpass/app/transit/demofeed"
	"smartpass.city/smartpass/app/vehicle"
	"smartpass.city/smartpass/syncproto"
)

// busPage mounts a vehicle tablet's screen in go-app's test engine over
// an op log in memory that already holds what the server publishes to
// the operator's vehicles: the demo feed's import, the pass key (whose
// private half it returns), and the templates and profiles of a father
// and his daughter in elementary school.
func busPage(t *testing.T) (*identifyPage, app.TestEngine, *synclog.Engine, ed25519.PrivateKey) {
	t.Helper()
	const operator = "kaga-demo"
	parts, err := demofeed.Import(operator)
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, _ := ed25519.GenerateKey(nil)
	var ops []syncproto.Op
	add := func(kind string, v any) {
		body, _ := json.Marshal(v)
		n := uint64(len(ops) + 1)
		ops = append(ops, syncproto.Op{Device: "server", Seq: n, Global: n, HLC: n << 16, Kind: kind, Body: body})
	}
	for _, p := range parts {
		add(transit.OpNetwork, p)
	}
	add(pass.OpKeys, pass.Keys{Keys: []ed25519.PublicKey{pub}})
	for i, id := range []string{"father", "daughter"} {
		add(template.OpPut, template.Template{Resident: id, Model: "m", Facilities: []string{operator}, Vec: template.Pack([]float32{float32(i), 1})})
		add(transit.OpRider, transit.Profile{Operator: operator, Resident: id, Birth: []string{"1985-05-01", "2017-05-01"}[i], Allowance: 3000})
	}
	store := synclog.NewMemStore("bus-7")
	if err := store.SaveRemote(t.Context(), scope.FacilityFeed(operator), ops, uint64(len(ops))); err != nil {
		t.Fatal(err)
	}
	p, e, log := identifyOn(t, store, enrolledAs{Device: "bus-7", Facility: operator, Role: scope.Vehicle})
	return p, e, log, priv
}

// TestBusPage: the driver picks the distance line's trip from the list,
// moves to D2; a father boards by face and is shown his numbered ticket,
// provisional; his daughter boards as his companion; two stops later
// (two zones on) each alights and is shown their class and fare; a rider
// seen at the alighting-only door with no boarding is told so in words;
// a face the rule does not trust alone asks for the QR pass; the taps are
// transit ops in the device's log, the daughter's in her father's party.
func TestBusPage(t *testing.T) {
	p, e, log, key := busPage(t)
	if !p.allowed() {
		t.Fatal("a vehicle tablet may not identify")
	}
	html := app.HTMLString(p)
	for _, trip := range []string{"line-0800", "loop-0900", "line-1000", "loop-1400"} {
		if !strings.Contains(html, `data-trip="`+trip+`"`) {
			t.Fatalf("trip %s not offered:\n%s", trip, html)
		}
	}
	press(e, &p.live, func() { p.busPick("line-0800") })
	press(e, &p.live, func() { p.busMove(true) })
	if got, _ := textOf(app.HTMLString(p), "vehicle-stop"); !strings.Contains(got, "錦の城跡口") {
		t.Fatalf("current stop %q, want D2 錦の城跡口", got)
	}
	shown := func(what, id string) string {
		t.Helper()
		var got string
		until(t, e, what, func() bool {
			got, _ = textOf(app.HTMLString(p), id)
			return got != "" && p.bus.sent.Device == "bus-7"
		})
		return got
	}
	press(e, &p.live, func() { p.busTap("father", transit.ByFace) })
	if got := shown("his ticket", "vehicle-ticket"); got != "整理券 2 番" {
		t.Errorf("father's boarding shows %q", got)
	}
	if _, ok := textOf(app.HTMLString(p), "vehicle-provisional"); !ok {
		t.Error("a tap the server has not stored is not shown as provisional")
	}
	press(e, &p.live, func() { p.bus.companion = true })
	press(e, &p.live, func() { p.busTap("daughter", transit.ByFace) })
	shown("her ticket", "vehicle-ticket")
	until(t, e, "both aboard", func() bool {
		b, a := vehicle.Counts(*transit.Rides.In(p.st.Parts()), *p.bus.run)
		return b == 2 && a == 2
	})

	press(e, &p.live, func() { p.busMove(true) })
	press(e, &p.live, func() { p.busMove(true) })
	for _, c := range []struct{ who, want string }{{"father", "大人 ¥300"}, {"daughter", "小児 ¥150"}} {
		p.bus.sent = syncproto.Op{}
		press(e, &p.live, func() { p.busTap(c.who, transit.ByFace) })
		if got := shown(c.who+"'s fare", "vehicle-fare"); got != c.want {
			t.Errorf("%s alights and is shown %q, want %q", c.who, got, c.want)
		}
	}
	press(e, &p.live, func() { p.lang = langEN })
	if got, _ := textOf(app.HTMLString(p), "vehicle-fare"); got != "Child ¥150" {
		t.Errorf("in English: %q", got)
	}
	press(e, &p.live, func() { p.lang = langJA })

	press(e, &p.live, func() { p.bus.door = vehicle.Alight })
	press(e, &p.live, func() { p.busTap("father", transit.ByFace) }) // alighted here: nothing
	press(e, &p.live, func() { p.busMove(true) })
	press(e, &p.live, func() { p.busTap("daughter", transit.ByFace) })
	if got, _ := textOf(app.HTMLString(p), "vehicle-note"); !strings.Contains(got, "乗車の記録がありません") {
		t.Errorf("an alighting with no boarding says %q", got)
	}

	// At the door for both again, a face the rule does not trust alone:
	// the pass is asked only when the tap would record something.
	press(e, &p.live, func() { p.bus.door = vehicle.Both })
	press(e, &p.live, func() { p.busMove(false) })
	press(e, &p.live, func() { p.busFace(identify.SecondFactor, "father") })
	if p.qr || p.bus.pending != "" || p.bus.note != vehicle.Again {
		t.Errorf("a face seen again where he alighted: qr %v pending %q note %q", p.qr, p.bus.pending, p.bus.note)
	}
	press(e, &p.live, func() { p.busMove(true) })
	press(e, &p.live, func() { p.busFace(identify.SecondFactor, "father") })
	if !p.qr || p.bus.pending != "father" {
		t.Errorf("a face not enough alone: qr %v pending %q", p.qr, p.bus.pending)
	}
	if got, _ := textOf(app.HTMLString(p), "vehicle-note"); !strings.Contains(got, "QRパス") {
		t.Errorf("the second factor asked as %q", got)
	}
	// The daughter's pass held up meanwhile is not his: ignored, not
	// spent; his own boards him by the pass; shown again, it is used.
	issue := func(resident string) string {
		text, _, err := pass.Issue(key, resident, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return text
	}
	hers, his := issue("daughter"), issue("father")
	press(e, &p.live, func() { p.busPass(hers) })
	if !p.qr || p.bus.pending != "father" {
		t.Errorf("another rider's pass: qr %v pending %q", p.qr, p.bus.pending)
	}
	press(e, &p.live, func() { p.busPass(his) })
	until(t, e, "he boards at D5 by his pass", func() bool {
		return p.bus.sent.Device == "bus-7" && p.bus.lastTap.Stop == "D5" && !p.qr && p.bus.pending == ""
	})
	press(e, &p.live, func() { p.busPass(his) })
	until(t, e, "his pass used", func() bool { return p.st.PassesUsed != nil && len(p.st.PassesUsed) == 1 })

	ops, _ := log.Ops(t.Context())
	var taps []transit.Tap
	var kinds, ids []string
	for _, op := range ops {
		if op.Device == "bus-7" && op.Kind != identify.OpIdentified {
			ids = append(ids, transit.RideID(op))
			tp, err := transit.TapOf(op)
			if err != nil {
				t.Fatal(err)
			}
			taps, kinds = append(taps, tp), append(kinds, op.Kind)
		}
	}
	want := []string{transit.OpBoard, transit.OpBoard, transit.OpAlight, transit.OpAlight, transit.OpBoard}
	if strings.Join(kinds, " ") != strings.Join(want, " ") {
		t.Fatalf("recorded %v, want %v", kinds, want)
	}
	if taps[4].Via != transit.ByQR || taps[4].Resident != "father" || taps[1].Party != ids[0] || taps[2].Stop != "D4" || taps[0].Day != time.Now().In(fare.JST).Format(time.DateOnly) {
		t.Errorf("taps %+v", taps)
	}
}

// fakeGeo is a position source the test drives: send delivers a fix or
// an error to the screen's watch, as the browser would.
type fakeGeo struct {
	fix     func(vehicle.Fix)
	failed  func(error)
	stopped bool
}

func (g *fakeGeo) Watch(fix func(vehicle.Fix), failed func(error)) func() {
	g.fix, g.failed, g.stopped = fix, failed, false
	return func() { g.stopped = true }
}

// TestBusPageFollowsPosition: the vehicle's current stop follows the
// tablet's position along the trip, marked GPS; the driver's ◀ wins
// over it and clears the mark; a position before the trip is picked
// moves nothing; a refused permission says in words that the buttons
// move the stop, and they still do; the watch ends with the screen.
func TestBusPageFollowsPosition(t *testing.T) {
	geo := &fakeGeo{}
	UseGeolocation(geo)
	t.Cleanup(func() { UseGeolocation(nil) })
	p, e, _, _ := busPage(t)
	if geo.fix == nil {
		t.Fatal("the vehicle screen does not watch the position")
	}
	s, err := p.busSettlement()
	if err != nil {
		t.Fatal(err)
	}
	at := func(stop string) vehicle.Fix {
		rec, ok := s.Network.Stop(stop)
		if !ok {
			t.Fatalf("no stop %s", stop)
		}
		return vehicle.Fix{Lat: rec.Lat, Lon: rec.Lon, Accuracy: 10, At: time.Now()}
	}
	send := func(f vehicle.Fix) {
		geo.fix(f)
		e.ConsumeAll()
	}
	send(at("D2")) // no trip yet
	press(e, &p.live, func() { p.busPick("line-0800") })
	html := app.HTMLString(p)
	if got, _ := textOf(html, "vehicle-stop"); !strings.Contains(got, "大聖寺デモ駅前") || strings.Contains(html, `id="vehicle-gps"`) {
		t.Fatalf("a position before the trip moved its stop: %q", got)
	}
	if strings.Contains(html, `id="vehicle-nogeo"`) {
		t.Error("a screen with a position source says it has none")
	}

	send(at("D3"))
	html = app.HTMLString(p)
	if got, _ := textOf(html, "vehicle-stop"); !strings.Contains(got, "作見の辻") || !strings.Contains(html, `id="vehicle-gps"`) || !strings.Contains(html, `data-stop-by="gps"`) {
		t.Fatalf("at D3's position the stop is %q, marked GPS: %v", got, strings.Contains(html, `id="vehicle-gps"`))
	}
	send(at("D2")) // behind: never back
	if p.bus.run.Stop() != "D3" {
		t.Errorf("a position behind moved the stop back to %s", p.bus.run.Stop())
	}

	press(e, &p.live, func() { p.busMove(false) })
	html = app.HTMLString(p)
	if p.bus.run.Stop() != "D2" || strings.Contains(html, `id="vehicle-gps"`) || !strings.Contains(html, `data-stop-by="tap"`) {
		t.Fatalf("the driver's ◀: stop %s, GPS mark %v", p.bus.run.Stop(), strings.Contains(html, `id="vehicle-gps"`))
	}
	send(at("D3")) // still at the stop the driver moved back from
	if p.bus.run.Stop() != "D2" {
		t.Errorf("the same position undid the driver's ◀: %s", p.bus.run.Stop())
	}

	geo.failed(errors.New("User denied Geolocation"))
	e.ConsumeAll()
	if got, _ := textOf(app.HTMLString(p), "vehicle-nogeo"); !strings.Contains(got, "位置情報が使えません") {
		t.Errorf("a refused permission says %q", got)
	}
	press(e, &p.live, func() { p.lang = langEN })
	if got, _ := textOf(app.HTMLString(p), "vehicle-nogeo"); !strings.Contains(got, "buttons") {
		t.Errorf("in English: %q", got)
	}
	press(e, &p.live, func() { p.busMove(true) })
	if p.bus.run.Stop() != "D3" {
		t.Errorf("without a position the driver's ▶ moves to %s", p.bus.run.Stop())
	}
	p.OnDismount()
	if !geo.stopped {
		t.Error("the position watch outlives the screen")
	}
}

// TestBusPageWithoutPosition: a tablet with no position source says so
// and the driver's buttons move the stop.
func TestBusPageWithoutPosition(t *testing.T) {
	p, e, _, _ := busPage(t)
	press(e, &p.live, func() { p.busPick("line-0800") })
	if got, _ := textOf(app.HTMLString(p), "vehicle-nogeo"); !strings.Contains(got, "停留所はボタンで進めてください") {
		t.Errorf("no position source says %q", got)
	}
	press(e, &p.live, func() { p.busMove(true) })
	if p.bus.run.Stop() != "D2" {
		t.Errorf("the driver's ▶ moves to %s", p.bus.run.Stop())
	}
}
