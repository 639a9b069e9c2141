package transit_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/fare"
	"smartpass.city/smartpass/app/gtfsjp"
	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/app/role"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/transit"
	"smartpass.city/smartpass/app/transit/demofeed"
	"smartpass.city/smartpass/syncproto"
)

const operator = "kaga-demo"

// settlement reads the demo feed and the operator's configuration.
func settlement(t *testing.T) transit.Settlement {
	t.Helper()
	feed, err := gtfsjp.Read(demofeed.Feed())
	if err != nil {
		t.Fatal(err)
	}
	b := demofeed.Config()
	c, err := transit.ParseConfig(b)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := transit.RulesFromFeed(feed, c.Fares)
	if err != nil {
		t.Fatal(err)
	}
	return transit.Settlement{Tables: fare.Tables{rules}, Network: transit.NewNetwork(feed, c)}
}

func jst(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, fare.JST)
	if err != nil {
		panic(err)
	}
	return t
}

// tablet records taps as a vehicle's tablet would: ops of its device, in
// sequence, with its clock.
type tablet struct {
	t   *testing.T
	dev string
	seq uint64
	ops []syncproto.Op
}

func (tb *tablet) tap(kind, trip, stop, resident, party, at string) string {
	tb.t.Helper()
	tb.seq++
	tap := transit.Tap{Facility: operator, Trip: trip, Day: "2026-06-10", Stop: stop, Resident: resident, Party: party, At: jst(at), Via: transit.ByFace}
	b, _ := json.Marshal(tap)
	op := syncproto.Op{Device: tb.dev, Seq: tb.seq, HLC: hlc.Make(jst(at).UnixMilli(), 0), Kind: kind, Body: b}
	dev := scope.Device{ID: tb.dev, Facility: facility.Facility{ID: operator, Kind: facility.Transit, NameJA: "加賀デモ交通"}, Role: role.Vehicle}
	if err := dev.Check(op); err != nil {
		tb.t.Fatalf("vehicle may not record %s: %v", kind, err)
	}
	tb.ops = append(tb.ops, op)
	return opkind.RecordID(op)
}

func fold(ops []syncproto.Op) (transit.Book, []opkind.Rejected) {
	var p opkind.Parts
	for _, op := range ops {
		opkind.Fold(&p, op)
	}
	return *transit.Rides.In(&p), *opkind.Rejections.In(&p)
}

func TestRulesFromFeed(t *testing.T) {
	s := settlement(t)
	rules := s.Tables[0]
	if got := rules.Routes["loop"]; got.Pay != fare.OnBoarding || got.Flat != 210 {
		t.Errorf("loop: %+v", got)
	}
	line := rules.Routes["line"]
	if line.Pay != fare.OnAlighting || line.Zones["Z1"]["Z3"] != 300 || line.Zones["Z4"]["Z1"] != 380 || len(line.Zones) != 4 {
		t.Errorf("line: %+v", line)
	}
	// A route left without a fare is refused with its line.
	files := demofeed.Files()
	files["fare_rules.txt"] = []byte("fare_id,route_id,origin_id,destination_id,contains_id\nloop-flat,loop,,,\n")
	feed, err := gtfsjp.ReadFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	_, err = transit.RulesFromFeed(feed, rules)
	if !errors.Is(err, transit.ErrConfig) || err.Error() != "routes.txt line 3: transit configuration: route line has no fare in fare_rules.txt" {
		t.Errorf("route without fare: %v", err)
	}
}

// The ride: on the distance-fare line a father, his daughter in
// elementary school and a registered senior board together at D1 (zone
// Z1) and alight two zones later at D4 (Z3); a commuter-pass holder
// rides free within the pass's zones; a rider never seen alighting pays
// to the trip's end once the trip is over; a tap whose clock is hours
// off is priced by the timetable and flagged.
func TestDayOnTheLine(t *testing.T) {
	s := settlement(t)
	tb := &tablet{t: t, dev: "bus-7"}
	dad := tb.tap(transit.OpBoard, "line-0800", "D1", "father", "", "2026-06-10 08:00")
	tb.tap(transit.OpBoard, "line-0800", "D1", "daughter", dad, "2026-06-10 08:00")
	tb.tap(transit.OpBoard, "line-0800", "D1", "grandpa", "", "2026-06-10 08:01")
	tb.tap(transit.OpBoard, "line-0800", "D2", "pass-holder", "", "2026-06-10 08:04")
	tb.tap(transit.OpBoard, "line-0800", "D2", "sleeper", "", "2026-06-10 08:04")
	tb.tap(transit.OpAlight, "line-0800", "D3", "pass-holder", "", "2026-06-10 08:12")
	for _, who := range []string{"father", "daughter", "grandpa"} {
		tb.tap(transit.OpAlight, "line-0800", "D4", who, "", "2026-06-10 08:25")
	}
	// The return trip: the tablet's clock is five hours slow (05:20 for
	// 10:20 at D4); the father rides back alone.
	tb.tap(transit.OpBoard, "line-1000", "D4", "father", "", "2026-06-10 05:20")
	tb.tap(transit.OpAlight, "line-1000", "D1", "father", "", "2026-06-10 05:45")

	book, rejected := fold(tb.ops)
	if len(rejected) != 0 {
		t.Fatalf("rejected: %+v", rejected)
	}
	riders := map[string]fare.Rider{
		"father":      {Birth: jst("1985-05-05 00:00")},
		"daughter":    {Birth: jst("2018-06-01 00:00")},
		"grandpa":     {Birth: jst("1950-03-03 00:00")},
		"pass-holder": {Birth: jst("1990-01-01 00:00"), Passes: []fare.Pass{{ID: "p", Operator: operator, From: "2026-06-01", Until: "2026-06-30", Zones: []string{"Z1", "Z2"}, Class: fare.Adult}}},
		"sleeper":     {Birth: jst("1990-01-01 00:00")},
	}
	rides := book.Of(operator)
	// At 09:00, with the outbound trip's taps only, the sleeper's trip
	// has not passed its grace (08:45 + 30): not charged yet.
	outbound := slices.DeleteFunc(slices.Clone(rides), func(r transit.Ride) bool { return r.Trip != "line-0800" })
	charges, unpriced := s.Charges(outbound, riders, jst("2026-06-10 09:00"))
	if len(unpriced) != 0 {
		t.Fatalf("unpriced: %+v", unpriced)
	}
	if got := owed(charges); !maps(got, map[string][]int{"father": {300}, "daughter": {150}, "grandpa": {100}, "pass-holder": {0}}) {
		t.Fatalf("at 09:00: %v", got)
	}
	// The father's return boarded 10:20 by the timetable, not 05:20:
	// no transfer (by the tablet's clock it would have come before his
	// first ride; by the timetable it is 115 minutes after 08:25), and
	// the day's cap (700) is not reached: 300 + 300.
	charges, unpriced = s.Charges(rides, riders, jst("2026-06-10 23:00"))
	if len(unpriced) != 0 {
		t.Fatalf("unpriced: %+v", unpriced)
	}
	want := map[string][]int{"father": {300, 300}, "daughter": {150}, "grandpa": {100}, "pass-holder": {0}, "sleeper": {380}}
	if got := owed(charges); !maps(got, want) {
		t.Fatalf("at 23:00: %v, want %v", got, want)
	}
	for _, c := range charges {
		if c.Account != "operator:kaga-demo" {
			t.Errorf("ride %s pays to %q", c.Ride, c.Account)
		}
		if c.ClockFixed != (book.Rides[c.Ride].Trip == "line-1000") {
			t.Errorf("ride %s of %s: clock fixed %v", c.Ride, c.Resident, c.ClockFixed)
		}
		if c.Resident == "sleeper" && !c.Fare.Unalighted {
			t.Errorf("the sleeper's ride is not marked unalighted: %+v", c.Fare)
		}
	}

	rs, vs := transit.Report(s.Network, rides, charges)
	var csv bytes.Buffer
	if err := transit.WriteRidership(&csv, rs); err != nil {
		t.Fatal(err)
	}
	text := csv.String()
	for _, line := range []string{
		"2026-06-10,line,D1,大聖寺デモ駅前,D4,山代デモ口,8,大人,adult,1\r\n",
		"2026-06-10,line,D1,大聖寺デモ駅前,D4,山代デモ口,8,大人,senior,1\r\n",
		"2026-06-10,line,D1,大聖寺デモ駅前,D4,山代デモ口,8,小児,child,1\r\n",
		"2026-06-10,line,D2,錦の城跡口,D3,作見の辻,8,大人,commuter_pass,1\r\n",
		"2026-06-10,line,D2,錦の城跡口,,,8,大人,adult,1\r\n",
		"2026-06-10,line,D4,山代デモ口,D1,大聖寺デモ駅前,10,大人,adult,1\r\n",
	} {
		if !strings.Contains(text, line) {
			t.Errorf("ridership CSV lacks %q:\n%s", line, text)
		}
	}
	for _, who := range []string{"father", "daughter", "grandpa", "pass-holder", "sleeper"} {
		if strings.Contains(text, who) {
			t.Errorf("ridership CSV names %s", who)
		}
	}
	if !strings.HasPrefix(text, "\xEF\xBB\xBF運行日 day,") {
		t.Errorf("CSV is not Excel's UTF-8 with BOM: %q", text[:20])
	}
	wantRevenue := []transit.RevenueRow{
		{Day: "2026-06-10", Product: transit.ProductPass, Rides: 1, Yen: 0},
		{Day: "2026-06-10", Product: transit.ProductSingle, Rides: 5, Yen: 300 + 300 + 150 + 100 + 380},
	}
	if !slices.Equal(vs, wantRevenue) {
		t.Errorf("revenue %+v, want %+v", vs, wantRevenue)
	}
	csv.Reset()
	if err := transit.WriteRevenue(&csv, vs); err != nil || !strings.Contains(csv.String(), "2026-06-10,single,5,1230\r\n") {
		t.Errorf("revenue CSV (%v):\n%s", err, csv.String())
	}
	vehicles := transit.Vehicles(rides, charges)
	wantVehicles := []transit.VehicleRow{{Day: "2026-06-10", Vehicle: "bus-7", Rides: 6, Yen: 1230, ClockFixed: 1, Unalighted: 1, Pass: 1}}
	if !slices.Equal(vehicles, wantVehicles) {
		t.Errorf("vehicles %+v, want %+v", vehicles, wantVehicles)
	}
	csv.Reset()
	if err := transit.WriteVehicles(&csv, vehicles); err != nil || !strings.Contains(csv.String(), "2026-06-10,bus-7,6,1230,1,1,1\r\n") {
		t.Errorf("vehicles CSV (%v):\n%s", err, csv.String())
	}
	if trips := book.Trips("daughter"); len(trips) != 1 || trips[0].Alight == nil || trips[0].Alight.Stop != "D4" {
		t.Errorf("the daughter's trips: %+v", trips)
	}
}

// owed lists each rider's charges in boarding order.
func owed(cs []transit.Charge) map[string][]int {
	out := make(map[string][]int)
	for _, c := range cs {
		out[c.Resident] = append(out[c.Resident], c.Amount)
	}
	return out
}

func maps(a, b map[string][]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

func TestFlatFarePaysOnBoarding(t *testing.T) {
	s := settlement(t)
	tb := &tablet{t: t, dev: "loop-1"}
	tb.tap(transit.OpBoard, "loop-0900", "L1", "daughter", "", "2026-06-10 09:00")
	book, _ := fold(tb.ops)
	riders := map[string]fare.Rider{"daughter": {Birth: jst("2018-06-01 00:00")}}
	charges, _ := s.Charges(book.Of(operator), riders, jst("2026-06-10 09:00"))
	if len(charges) != 1 || charges[0].Amount != 110 || charges[0].Fare.Class != fare.Child {
		t.Fatalf("小児 on the loop at boarding: %+v, want one charge of ¥110", charges)
	}
}

func TestTapsOutOfTurn(t *testing.T) {
	tb := &tablet{t: t, dev: "bus-7"}
	tb.tap(transit.OpAlight, "line-0800", "D3", "father", "", "2026-06-10 08:12")
	tb.tap(transit.OpBoard, "line-0800", "D1", "father", "", "2026-06-10 08:00")
	tb.tap(transit.OpBoard, "line-0800", "D2", "father", "", "2026-06-10 08:04")
	book, rejected := fold(tb.ops)
	if len(rejected) != 2 || len(book.Rides) != 1 {
		t.Fatalf("rejected %+v, rides %+v", rejected, book.Rides)
	}
	for _, r := range rejected {
		if !strings.Contains(r.Reason, transit.ErrTap.Error()) {
			t.Errorf("reason %q", r.Reason)
		}
	}
}

func TestUnknownRiderAndStop(t *testing.T) {
	s := settlement(t)
	tb := &tablet{t: t, dev: "bus-7"}
	tb.tap(transit.OpBoard, "loop-0900", "L1", "stranger", "", "2026-06-10 09:00")
	tb.tap(transit.OpBoard, "loop-0900", "D1", "father", "", "2026-06-10 09:00")
	book, _ := fold(tb.ops)
	charges, unpriced := s.Charges(book.Of(operator), map[string]fare.Rider{"father": {Birth: jst("1985-05-05 00:00")}}, jst("2026-06-10 23:00"))
	if len(charges) != 0 || len(unpriced) != 2 || !errors.Is(unpriced[0].Reason, fare.ErrNoRider) || !errors.Is(unpriced[1].Reason, transit.ErrRide) {
		t.Fatalf("charges %+v, unpriced %+v", charges, unpriced)
	}
}

func TestTapValidate(t *testing.T) {
	good := transit.Tap{Facility: operator, Trip: "line-0800", Day: "2026-06-10", Stop: "D1", Resident: "r1", At: jst("2026-06-10 08:00"), Via: transit.ByFace}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*transit.Tap){
		"no resident":              func(t *transit.Tap) { t.Resident = "" },
		"no stop":                  func(t *transit.Tap) { t.Stop = "" },
		"unknown means":            func(t *transit.Tap) { t.Via = "guess" },
		"bad day":                  func(t *transit.Tap) { t.Day = "2026-13-01" },
		"clock a day behind":       func(t *transit.Tap) { t.At = jst("2026-06-09 23:00") },
		"clock past the day's end": func(t *transit.Tap) { t.At = jst("2026-06-11 06:00") },
		"long id":                  func(t *transit.Tap) { t.Trip = strings.Repeat("x", transit.MaxID+1) },
	} {
		tap := good
		mutate(&tap)
		if err := tap.Validate(); !errors.Is(err, transit.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	// After midnight on a trip of the day before is the same service day.
	late := good
	late.At = jst("2026-06-11 01:30")
	if err := late.Validate(); err != nil {
		t.Errorf("a tap at 25:30 of its service day: %v", err)
	}
}

func TestOnlyVehiclesRecordTaps(t *testing.T) {
	b, _ := json.Marshal(transit.Tap{Facility: operator, Trip: "t", Day: "2026-06-10", Stop: "s", Resident: "r", At: jst("2026-06-10 08:00"), Via: transit.ByFace})
	op := syncproto.Op{Device: "d", Seq: 1, Kind: transit.OpBoard, Body: b}
	for _, d := range []scope.Device{
		{ID: "d", Facility: facility.Facility{ID: "kaga-medical", Kind: facility.Hospital}, Role: role.Reception},
		{ID: "d", Facility: facility.Facility{ID: "other-bus", Kind: facility.Transit}, Role: role.Vehicle},
	} {
		if err := d.Check(op); !errors.Is(err, scope.ErrForbidden) {
			t.Errorf("%s at %s recorded a tap: %v", d.Role, d.Facility.ID, err)
		}
	}
	if err := scope.CheckRole(facility.Facility{ID: operator, Kind: facility.Transit}, role.Vehicle); err != nil {
		t.Errorf("a vehicle at a transit operator: %v", err)
	}
}

// FuzzTap feeds a tap's body as a device would push it: the kind's rules
// must refuse or accept, never panic.
func FuzzTap(f *testing.F) {
	b, _ := json.Marshal(transit.Tap{Facility: operator, Trip: "t", Day: "2026-06-10", Stop: "s", Resident: "r", At: jst("2026-06-10 08:00"), Via: transit.ByFace})
	f.Add(b)
	f.Add([]byte(`{"day":"2026-02-30","at":"0001-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"facility":"x","trip":"t","stop":"s","resident":"r","via":"face","day":"9999-12-31","at":"9999-12-31T23:59:59Z"}`))
	k, _ := opkind.Lookup(transit.OpBoard)
	f.Fuzz(func(t *testing.T, body []byte) {
		op := syncproto.Op{Device: "d", Seq: 1, Kind: transit.OpBoard, Body: body}
		if err := k.Validate(op); err != nil {
			return
		}
		var p opkind.Parts
		opkind.Fold(&p, op)
		if len(*opkind.Rejections.In(&p)) != 0 {
			t.Fatalf("a valid tap was refused by the fold: %s", body)
		}
	})
}

// FuzzParseConfig feeds an operator's configuration file to its decoder.
func FuzzParseConfig(f *testing.F) {
	b := demofeed.Config()
	f.Add(b)
	f.Add([]byte(`{"clock_tolerance_minutes": -1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := transit.ParseConfig(b)
		if err == nil && (c.ClockTolerance <= 0 || c.Grace < 0) {
			t.Fatalf("accepted tolerances %d, %d", c.ClockTolerance, c.Grace)
		}
	})
}

// A 幼児 who alights before the parent rides free on the parent's fare,
// which is charged when the parent alights.
func TestPreschoolerAlightsFirst(t *testing.T) {
	s := settlement(t)
	tb := &tablet{t: t, dev: "bus-7"}
	mum := tb.tap(transit.OpBoard, "line-0800", "D1", "mother", "", "2026-06-10 08:00")
	tb.tap(transit.OpBoard, "line-0800", "D1", "kid", mum, "2026-06-10 08:00")
	tb.tap(transit.OpAlight, "line-0800", "D3", "kid", "", "2026-06-10 08:12")
	book, _ := fold(tb.ops)
	riders := map[string]fare.Rider{"mother": {Birth: jst("1987-09-09 00:00")}, "kid": {Birth: jst("2022-05-01 00:00")}}
	charges, unpriced := s.Charges(book.Of(operator), riders, jst("2026-06-10 08:13"))
	if len(unpriced) != 0 || len(charges) != 1 || charges[0].Resident != "kid" || charges[0].Amount != 0 || charges[0].Fare.Category != fare.Category(fare.Preschool) {
		t.Fatalf("while the mother rides on: %+v %+v, want the 幼児 alone, free", charges, unpriced)
	}
	tb.tap(transit.OpAlight, "line-0800", "D3", "mother", "", "2026-06-10 08:12")
	book, _ = fold(tb.ops)
	charges, _ = s.Charges(book.Of(operator), riders, jst("2026-06-10 08:13"))
	if got := owed(charges); !maps(got, map[string][]int{"mother": {230}, "kid": {0}}) {
		t.Fatalf("after both alighted: %v", got)
	}
}
