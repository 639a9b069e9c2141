package vehicle_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"smartpass.city/smartpass/app/fare"
	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/app/transit"
	"smartpass.city/smartpass/app/transit/demofeed"
	"smartpass.city/smartpass/app/vehicle"
	"smartpass.city/smartpass/syncproto"
)

const operator = "kaga-demo"

// settlement is the demo feed's network and fares, as a vehicle folds
// them from the operator's published import.
func settlement(t testing.TB) transit.Settlement {
	t.Helper()
	parts, err := demofeed.Import(operator)
	if err != nil {
		t.Fatal(err)
	}
	var ps opkind.Parts
	for i, p := range parts {
		b, _ := json.Marshal(p)
		opkind.Fold(&ps, syncproto.Op{Device: "server", Seq: uint64(i + 1), Kind: transit.OpNetwork, Body: b})
	}
	s, err := transit.SettlementOn(&ps, operator, day)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var day = time.Date(2026, 6, 10, 0, 0, 0, 0, fare.JST)

// riders are the facts the vehicle holds: a father, his daughter in
// elementary school, a preschooler, a commuter-pass holder on zones Z1–Z3.
var riders = map[string]transit.Facts{
	"father":    {Profile: transit.Profile{Operator: operator, Resident: "father", Birth: "1985-05-01"}},
	"daughter":  {Profile: transit.Profile{Operator: operator, Resident: "daughter", Birth: "2017-05-01"}},
	"toddler":   {Profile: transit.Profile{Operator: operator, Resident: "toddler", Birth: "2022-05-01"}},
	"commuter":  {Profile: transit.Profile{Operator: operator, Resident: "commuter", Birth: "1990-01-01"}, Passes: []fare.Pass{{ID: "p1", Operator: operator, From: "2026-06-01", Until: "2026-06-30", Zones: []string{"Z1", "Z2", "Z3"}, Class: fare.Adult}}},
	"handbook":  {Profile: transit.Profile{Operator: operator, Resident: "handbook", Birth: "1970-01-01", DisabilityUntil: "2027-03-31"}},
	"carer":     {Profile: transit.Profile{Operator: operator, Resident: "carer", Birth: "1960-03-03"}},
	"grandma70": {Profile: transit.Profile{Operator: operator, Resident: "grandma70", Birth: "1950-02-02"}},
}

// bus is a tablet on a run: it records what Decide says as ops of its
// device and folds them, as the screen does through the sync engine.
type bus struct {
	t    *testing.T
	s    transit.Settlement
	run  vehicle.Run
	seq  uint64
	ps   opkind.Parts
	last string // the record id of the last op
}

func newBus(t *testing.T, trip string) *bus {
	t.Helper()
	s := settlement(t)
	run, err := vehicle.Start(s, operator, trip, day)
	if err != nil {
		t.Fatal(err)
	}
	return &bus{t: t, s: s, run: run}
}

func (b *bus) book() transit.Book { return *transit.Rides.In(&b.ps) }

// seen is resident recognised at the current stop at hh:mm.
func (b *bus) seen(door vehicle.Door, resident, party, at string) vehicle.Action {
	b.t.Helper()
	now, _ := time.ParseInLocation("2006-01-02 15:04", "2026-06-10 "+at, fare.JST)
	a := vehicle.Decide(b.book(), riders, b.run, door, resident, transit.ByFace, party, now)
	if a.Kind == "" {
		return a
	}
	b.seq++
	body, _ := json.Marshal(a.Tap)
	op := syncproto.Op{Device: "bus-7", Seq: b.seq, HLC: hlc.Make(now.UnixMilli(), 0), Kind: a.Kind, Body: body}
	opkind.Fold(&b.ps, op)
	if rej := *opkind.Rejections.In(&b.ps); len(rej) > 0 {
		b.t.Fatalf("fold %s of %s: %+v", a.Kind, resident, rej)
	}
	b.last = transit.RideID(op)
	return a
}

func (b *bus) shown(a vehicle.Action, at string) vehicle.Shown {
	b.t.Helper()
	now, _ := time.ParseInLocation("2006-01-02 15:04", "2026-06-10 "+at, fare.JST)
	sh, ok := vehicle.Show(b.s, b.book(), riders, b.run, a.Kind, b.last, now)
	if !ok {
		b.t.Fatalf("the tap %s is not in the book", b.last)
	}
	return sh
}

func TestChoices(t *testing.T) {
	cs, err := vehicle.Choices(settlement(t), operator, day)
	if err != nil {
		t.Fatal(err)
	}
	want := []vehicle.Choice{
		{Trip: "line-0800", Route: "line", Headsign: "こおろぎ渓谷", Departs: "08:00", Pay: fare.OnAlighting, From: "D1", To: "D5"},
		{Trip: "loop-0900", Route: "loop", Headsign: "周遊（右回り）", Departs: "09:00", Pay: fare.OnBoarding, From: "L1", To: "L1"},
		{Trip: "line-1000", Route: "line", Headsign: "大聖寺デモ駅前", Departs: "10:00", Pay: fare.OnAlighting, From: "D5", To: "D1"},
		{Trip: "loop-1400", Route: "loop", Headsign: "周遊（右回り）", Departs: "14:00", Pay: fare.OnBoarding, From: "L1", To: "L1"},
	}
	if len(cs) != len(want) {
		t.Fatalf("choices %+v", cs)
	}
	for i := range want {
		if cs[i] != want[i] {
			t.Errorf("choice %d: %+v, want %+v", i, cs[i], want[i])
		}
	}
	if _, err := vehicle.Choices(settlement(t), "other-operator", day); err == nil {
		t.Error("another operator's trips listed")
	}
	if _, err := vehicle.Start(settlement(t), operator, "no-such-trip", day); !errors.Is(err, vehicle.ErrNoTrip) {
		t.Errorf("an unknown trip started: %v", err)
	}
}

func TestStops(t *testing.T) {
	b := newBus(t, "line-0800")
	r := b.run
	steps := []struct {
		move func() bool
		ok   bool
		stop string
	}{
		{r.Prev, false, "D1"},
		{r.Next, true, "D2"},
		{r.Next, true, "D3"},
		{r.Prev, true, "D2"},
		{r.Next, true, "D3"},
		{r.Next, true, "D4"},
		{r.Next, true, "D5"},
		{r.Next, false, "D5"},
	}
	for i, s := range steps {
		if got := s.move(); got != s.ok || r.Stop() != s.stop {
			t.Fatalf("step %d: moved %v at %s, want %v at %s", i, got, r.Stop(), s.ok, s.stop)
		}
	}
	for stop, n := range map[string]int{"D1": 1, "D2": 2, "D4": 4, "D5": 5, "L1": 0} {
		if got := r.Ticket(stop); got != n {
			t.Errorf("ticket at %s: %d, want %d", stop, got, n)
		}
	}
}

// The distance line: a father and daughter board together at D2 (zone
// Z1) and see their numbered ticket, no fare; two zones later at D4 (Z3)
// each is shown their class and fare; a commuter rides free on the pass;
// a rider seen twice at a stop is recorded once; the door's modes; a
// rider the vehicle holds no facts of pays cash.
func TestDistanceLine(t *testing.T) {
	b := newBus(t, "line-0800")
	b.run.Next() // D2, zone Z1
	dad := b.seen(vehicle.Both, "father", "", "08:04")
	if dad.Kind != transit.OpBoard {
		t.Fatalf("father: %+v", dad)
	}
	sh := b.shown(dad, "08:04")
	if sh.Ticket != 2 || sh.Priced {
		t.Errorf("father's boarding shows %+v: want ticket 2 and no fare yet", sh)
	}
	party := b.book().Rides[sh.Ride].Party
	girl := b.seen(vehicle.Both, "daughter", party, "08:04")
	if girl.Kind != transit.OpBoard || girl.Tap.Party != sh.Ride {
		t.Fatalf("daughter: %+v, want a boarding in the father's party %s", girl, sh.Ride)
	}
	if a := b.seen(vehicle.Both, "commuter", "", "08:05"); a.Kind != transit.OpBoard || a.Tap.Party != "" {
		t.Fatalf("commuter: %+v", a)
	}
	cases := []struct {
		name     string
		door     vehicle.Door
		resident string
		kind     string
		reason   vehicle.Reason
	}{
		{"seen again stepping in", vehicle.Both, "father", "", vehicle.Again},
		{"a face without fare facts", vehicle.Both, "stranger", "", vehicle.NoFacts},
		{"alight door, not aboard", vehicle.Alight, "grandma70", "", vehicle.NotAboard},
		{"board door, aboard", vehicle.Board, "daughter", "", vehicle.Again},
	}
	for _, c := range cases {
		a := b.seen(c.door, c.resident, "", "08:05")
		if a.Kind != c.kind || a.Reason != c.reason {
			t.Errorf("%s: %+v, want %q %q", c.name, a, c.kind, c.reason)
		}
	}
	if boarded, aboard := vehicle.Counts(b.book(), b.run); boarded != 3 || aboard != 3 {
		t.Errorf("counts %d boarded %d aboard, want 3 and 3", boarded, aboard)
	}
	b.run.Next()
	b.run.Next() // D4, zone Z3
	if a := b.seen(vehicle.Board, "father", "", "08:25"); a.Reason != vehicle.Aboard {
		t.Errorf("board door at D4: %+v", a)
	}
	fares := []struct {
		resident string
		adult    int
		amount   int
		ja       string
	}{
		{"father", 300, 300, "大人"},
		{"daughter", 300, 150, "小児"},
		{"commuter", 300, 0, "定期"},
	}
	for _, f := range fares {
		a := b.seen(vehicle.Both, f.resident, "", "08:25")
		if a.Kind != transit.OpAlight {
			t.Fatalf("%s at D4: %+v", f.resident, a)
		}
		sh := b.shown(a, "08:25")
		ja, _ := vehicle.Label(sh.Fare)
		if !sh.Priced || sh.Fare.Adult != f.adult || sh.Fare.Amount != f.amount || ja != f.ja || sh.Ticket != 2 {
			t.Errorf("%s alights: %+v (%s), want %s ¥%d of ¥%d, ticket 2", f.resident, sh, ja, f.ja, f.amount, f.adult)
		}
		if again := b.seen(vehicle.Both, f.resident, "", "08:26"); again.Reason != vehicle.Again {
			t.Errorf("%s seen again where they alighted: %+v", f.resident, again)
		}
	}
	if boarded, aboard := vehicle.Counts(b.book(), b.run); boarded != 3 || aboard != 0 {
		t.Errorf("counts %d boarded %d aboard, want 3 and 0", boarded, aboard)
	}
}

// The flat loop pays on boarding: the fare is shown at once, by class;
// a preschooler boarding with a paying adult rides free, a carer with a
// handbook holder at half, a senior at the operator's flat ¥100.
func TestFlatLoop(t *testing.T) {
	b := newBus(t, "loop-0900")
	cases := []struct {
		resident string
		withLast bool
		amount   int
		ja       string
	}{
		{"father", false, 210, "大人"},
		{"toddler", true, 0, "幼児"},
		{"daughter", false, 110, "小児"},
		{"handbook", false, 110, "障害者割引"},
		{"carer", true, 110, "介助者"},
		{"grandma70", false, 100, "シニア"},
	}
	var last string
	for _, c := range cases {
		party := ""
		if c.withLast {
			party = b.book().Rides[last].Party
		}
		a := b.seen(vehicle.Both, c.resident, party, "09:00")
		if a.Kind != transit.OpBoard {
			t.Fatalf("%s: %+v", c.resident, a)
		}
		sh := b.shown(a, "09:00")
		last = sh.Ride
		ja, en := vehicle.Label(sh.Fare)
		if !sh.Priced || sh.Fare.Amount != c.amount || ja != c.ja || en == "" {
			t.Errorf("%s boards the loop: %+v (%s/%s), want %s ¥%d", c.resident, sh, ja, en, c.ja, c.amount)
		}
	}
}

func TestWords(t *testing.T) {
	for _, r := range []vehicle.Reason{vehicle.NoFacts, vehicle.Again, vehicle.NotAboard, vehicle.Aboard, vehicle.Unknown, vehicle.Second} {
		ja, en := r.Words()
		if ja == en || ja == "" || en == "" || ja == string(r) {
			t.Errorf("%s: %q / %q", r, ja, en)
		}
	}
}
