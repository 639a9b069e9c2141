package fare_test

import (
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"smartpass.city/smartpass/app/fare"
)

// tables reads the demo operator's fare tables from testdata: one from
// 2026-04-01, a revision from 2027-04-01.
func tables(t *testing.T) fare.Tables {
	t.Helper()
	b, err := os.ReadFile("testdata/kaga-demo.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	var ts fare.Tables
	for _, r := range raw {
		rules, err := fare.Parse(r)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, rules)
	}
	return ts
}

func day(s string) time.Time {
	d, err := fare.ParseDay(s)
	if err != nil {
		panic(err)
	}
	return d
}

// at returns hh:mm on the day.
func at(d time.Time, hhmm string) time.Time {
	if hhmm == "" {
		return time.Time{}
	}
	c, err := time.Parse("15:04", hhmm)
	if err != nil {
		panic(err)
	}
	return d.Add(time.Duration(c.Hour())*time.Hour + time.Duration(c.Minute())*time.Minute)
}

// ride is a ride in a case: who, party, route, boarding time and zone,
// alighting time and zone ("" never alighted), the trip's last zone.
type ride struct {
	who, party, route, board, from, alight, to, end string
}

// The riders of the cases, by birth date and attributes.
var riders = map[string]fare.Rider{
	"father":         {Birth: day("1985-05-05")},
	"mother":         {Birth: day("1987-09-09")},
	"daughter":       {Birth: day("2018-06-01")}, // 小学2年 in 2026
	"apr1":           {Birth: day("2020-04-01")}, // school from 2026-04-01
	"apr2":           {Birth: day("2020-04-02")}, // school from 2027-04-01
	"jh-apr1":        {Birth: day("2014-04-01")}, // junior high from 2026-04-01
	"jh-apr2":        {Birth: day("2014-04-02")}, // junior high from 2027-04-01
	"baby":           {Birth: day("2026-01-01")}, // 乳児
	"kid1":           {Birth: day("2022-05-01")}, // 幼児
	"kid2":           {Birth: day("2022-05-01")}, // 幼児
	"kid3":           {Birth: day("2023-05-01")}, // 幼児
	"senior71":       {Birth: day("1955-01-01")}, // 70+ in 2026
	"senior69":       {Birth: day("1957-01-01")}, // not yet 70 in 2026, 70 on 2027-01-01
	"senior67":       {Birth: day("1960-06-01")}, // 65+ under the 2027 table
	"holder":         {Birth: day("1980-02-02"), DisabilityUntil: day("2027-03-31")},
	"holder-child":   {Birth: day("2017-10-10"), DisabilityUntil: day("2027-03-31")},
	"holder-expired": {Birth: day("1980-02-02"), DisabilityUntil: day("2026-06-09")},
	"commuter": {Birth: day("1990-01-01"), Passes: []fare.Pass{
		{ID: "p1", Operator: "kaga-demo-bus", From: "2026-06-01", Until: "2026-06-30", Zones: []string{"Z1", "Z2"}, Class: fare.Adult},
		{ID: "p2", Operator: "kaga-demo-bus", From: "2026-05-10", Until: "2026-06-09", Routes: []string{"loop"}, Class: fare.Adult},
	}},
	"holder-pass": {Birth: day("1980-02-02"), DisabilityUntil: day("2027-03-31"), Passes: []fare.Pass{
		{ID: "p5", Operator: "kaga-demo-bus", From: "2026-06-01", Until: "2026-06-30", Routes: []string{"line"}, Class: fare.Adult},
	}},
	"loop-pass": {Birth: day("1990-01-01"), Passes: []fare.Pass{
		{ID: "p3", Operator: "kaga-demo-bus", From: "2026-06-01", Until: "2026-06-10", Routes: []string{"loop"}, Class: fare.Adult},
	}},
	"other-op": {Birth: day("1990-01-01"), Passes: []fare.Pass{
		{ID: "p4", Operator: "komatsu-bus", From: "2026-06-01", Until: "2026-06-30", Routes: []string{"loop"}, Class: fare.Adult},
	}},
}

func TestPrice(t *testing.T) {
	ts := tables(t)
	for _, c := range []struct {
		name  string
		day   string
		rides []ride
		want  []int // per ride, in the order given
		cats  []fare.Category
	}{
		{"adult flat", "2026-06-10", []ride{{who: "father", route: "loop", board: "09:00"}}, []int{210}, []fare.Category{"adult"}},
		{"child flat: 210 halves to 105, rounds up to 110", "2026-06-10", []ride{{who: "daughter", route: "loop", board: "09:00"}}, []int{110}, []fare.Category{"child"}},
		{"child by zones: 180 90, 230 120, 300 150, then the child's day cap (350)", "2026-06-10", []ride{
			{who: "daughter", route: "line", board: "08:00", from: "Z1", alight: "08:04", to: "Z1"},
			{who: "daughter", route: "line", board: "11:00", from: "Z1", alight: "11:12", to: "Z2"},
			{who: "daughter", route: "line", board: "13:00", from: "Z1", alight: "13:25", to: "Z3"},
			{who: "daughter", route: "line", board: "16:00", from: "Z4", alight: "16:45", to: "Z1"},
		}, []int{90, 120, 140, 0}, nil}, // 90+120+150 = 360 > 350: the third pays 140, the fourth nothing
		{"child 380 -> 190", "2026-06-10", []ride{{who: "daughter", route: "line", board: "16:00", from: "Z4", alight: "16:45", to: "Z1"}}, []int{190}, nil},
		{"two zones for an adult", "2026-06-10", []ride{{who: "father", route: "line", board: "08:00", from: "Z1", alight: "08:25", to: "Z3"}}, []int{300}, nil},
		{"school year: born April 1 is 小児 on 2026-04-01, born April 2 still 幼児 (free with a parent)", "2026-04-01", []ride{
			{who: "father", party: "a", route: "line", board: "08:00", from: "Z1", alight: "08:12", to: "Z2"},
			{who: "apr1", party: "a", route: "line", board: "08:00", from: "Z1", alight: "08:12", to: "Z2"},
			{who: "apr2", party: "a", route: "line", board: "08:00", from: "Z1", alight: "08:12", to: "Z2"},
		}, []int{230, 120, 0}, []fare.Category{"adult", "child", "preschool"}},
		{"junior high: born April 1 is 大人 from 2026-04-01, born April 2 still 小児", "2026-04-01", []ride{
			{who: "jh-apr1", route: "loop", board: "09:00"},
			{who: "jh-apr2", route: "loop", board: "09:00"},
		}, []int{210, 110}, []fare.Category{"adult", "child"}},
		{"born April 2 turns 大人 on the next April 1 (2027 table)", "2027-04-01", []ride{{who: "jh-apr2", route: "loop", board: "09:00"}}, []int{250}, []fare.Category{"adult"}},
		{"乳児 free alone", "2026-06-10", []ride{{who: "baby", route: "loop", board: "09:00"}}, []int{0}, []fare.Category{"infant"}},
		{"幼児 alone pays the 小児 fare", "2026-06-10", []ride{{who: "kid1", route: "loop", board: "09:00"}}, []int{110}, []fare.Category{"preschool"}},
		{"two 幼児 free per paying passenger, the third pays", "2026-06-10", []ride{
			{who: "mother", party: "m", route: "line", board: "09:00", from: "Z1", alight: "09:12", to: "Z2"},
			{who: "kid1", party: "m", route: "line", board: "09:00", from: "Z1", alight: "09:12", to: "Z2"},
			{who: "kid2", party: "m", route: "line", board: "09:00", from: "Z1", alight: "09:12", to: "Z2"},
			{who: "kid3", party: "m", route: "line", board: "09:00", from: "Z1", alight: "09:12", to: "Z2"},
		}, []int{230, 0, 0, 120}, []fare.Category{"adult", "preschool", "preschool", "preschool"}},
		{"two parents carry three 幼児 and a baby free", "2026-06-10", []ride{
			{who: "mother", party: "m", route: "loop", board: "09:00"},
			{who: "father", party: "m", route: "loop", board: "09:00"},
			{who: "kid1", party: "m", route: "loop", board: "09:00"},
			{who: "kid2", party: "m", route: "loop", board: "09:00"},
			{who: "kid3", party: "m", route: "loop", board: "09:00"},
			{who: "baby", party: "m", route: "loop", board: "09:00"},
		}, []int{210, 210, 0, 0, 0, 0}, nil},
		{"senior flat ¥100 at 70+, not at 69", "2026-06-10", []ride{
			{who: "senior71", route: "line", board: "09:00", from: "Z1", alight: "09:12", to: "Z2"},
			{who: "senior69", route: "line", board: "09:00", from: "Z1", alight: "09:12", to: "Z2"},
		}, []int{100, 230}, []fare.Category{"senior", "adult"}},
		{"senior rule is the table's: 65+ half under the 2027 table", "2027-06-10", []ride{
			{who: "senior67", route: "line", board: "09:00", from: "Z1", alight: "09:12", to: "Z2"},
		}, []int{130}, []fare.Category{"senior"}}, // 250 / 2 = 125 -> 130
		{"disability half, one carer half, a second companion full", "2026-06-10", []ride{
			{who: "holder", party: "h", route: "line", board: "09:00", from: "Z1", alight: "09:12", to: "Z2"},
			{who: "mother", party: "h", route: "line", board: "09:00", from: "Z1", alight: "09:12", to: "Z2"},
			{who: "father", party: "h", route: "line", board: "09:00", from: "Z1", alight: "09:12", to: "Z2"},
		}, []int{120, 120, 230}, []fare.Category{"disability", "carer", "adult"}},
		{"a holder on a commuter pass still brings a carer at half", "2026-06-10", []ride{
			{who: "holder-pass", party: "h", route: "line", board: "09:00", from: "Z1", alight: "09:12", to: "Z2"},
			{who: "mother", party: "h", route: "line", board: "09:00", from: "Z1", alight: "09:12", to: "Z2"},
		}, []int{0, 120}, []fare.Category{"commuter_pass", "carer"}},
		{"a child holder pays half the child fare", "2026-06-10", []ride{{who: "holder-child", route: "line", board: "09:00", from: "Z1", alight: "09:25", to: "Z3"}}, []int{80}, []fare.Category{"disability"}},
		{"a handbook that expired yesterday", "2026-06-10", []ride{
			{who: "holder-expired", party: "h", route: "line", board: "09:00", from: "Z1", alight: "09:12", to: "Z2"},
			{who: "mother", party: "h", route: "line", board: "09:00", from: "Z1", alight: "09:12", to: "Z2"},
		}, []int{230, 230}, []fare.Category{"adult", "adult"}},
		{"commuter pass on its zones free, off them full, an expired one full", "2026-06-10", []ride{
			{who: "commuter", route: "line", board: "07:00", from: "Z1", alight: "07:12", to: "Z2"},
			{who: "commuter", route: "line", board: "12:00", from: "Z1", alight: "12:25", to: "Z3"},
			{who: "commuter", route: "loop", board: "18:00"},
		}, []int{0, 300, 210}, []fare.Category{"commuter_pass", "adult", "adult"}},
		{"a route pass on its last day, and another operator's pass", "2026-06-10", []ride{
			{who: "loop-pass", route: "loop", board: "09:00"},
			{who: "other-op", route: "loop", board: "09:00"},
		}, []int{0, 210}, nil},
		{"transfer within 30 minutes of alighting, not after", "2026-06-10", []ride{
			{who: "father", route: "loop", board: "09:00", alight: "09:20"},
			{who: "father", route: "line", board: "09:50", from: "Z1", alight: "10:02", to: "Z2"},
			{who: "father", route: "line", board: "10:33", from: "Z2", alight: "10:45", to: "Z1"},
		}, []int{210, 130, 230}, nil},
		{"daily cap at the day pass", "2026-06-10", []ride{
			{who: "father", route: "line", board: "07:00", from: "Z1", alight: "07:45", to: "Z4"},
			{who: "father", route: "line", board: "10:00", from: "Z4", alight: "10:45", to: "Z1"},
			{who: "father", route: "line", board: "13:00", from: "Z1", alight: "13:45", to: "Z4"},
		}, []int{380, 320, 0}, nil},
		{"the cap is per day", "2026-06-11", []ride{{who: "father", route: "line", board: "07:00", from: "Z1", alight: "07:45", to: "Z4"}}, []int{380}, nil},
		{"never alighted: to the trip's end (2026 rule)", "2026-06-10", []ride{{who: "father", route: "line", board: "08:04", from: "Z2", end: "Z4"}}, []int{300}, nil},
		{"never alighted: the highest fare from boarding (2027 rule)", "2027-06-10", []ride{{who: "father", route: "line", board: "08:04", from: "Z2", end: "Z3"}}, []int{310}, nil},
		{"fare revision from its date: child 250 -> 125 -> 130", "2027-06-10", []ride{{who: "daughter", route: "loop", board: "09:00"}}, []int{130}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := day(c.day)
			rules, err := ts.On("kaga-demo-bus", d)
			if err != nil {
				t.Fatal(err)
			}
			var rides []fare.Ride
			for i, r := range c.rides {
				rides = append(rides, fare.Ride{ID: string(rune('a' + i)), Rider: r.who, Party: r.party, Route: r.route,
					Board: at(d, r.board), BoardZone: r.from, Alight: at(d, r.alight), AlightZone: r.to, TripEndZone: r.end})
			}
			fares, err := fare.Price(rules, rides, riders)
			if err != nil {
				t.Fatal(err)
			}
			got := make(map[string]fare.Fare)
			for _, f := range fares {
				got[f.Ride] = f
				if f.Account != "operator:kaga-demo-bus" {
					t.Errorf("ride %s pays to %q", f.Ride, f.Account)
				}
			}
			for i, want := range c.want {
				f := got[rides[i].ID]
				if f.Amount != want {
					t.Errorf("ride %d (%s): ¥%d, want ¥%d (%+v)", i+1, c.rides[i].who, f.Amount, want, f)
				}
				if c.cats != nil && f.Category != c.cats[i] {
					t.Errorf("ride %d (%s): category %s, want %s", i+1, c.rides[i].who, f.Category, c.cats[i])
				}
			}
		})
	}
}

func TestFlags(t *testing.T) {
	ts := tables(t)
	d := day("2026-06-10")
	rules, _ := ts.On("kaga-demo-bus", d)
	rides := []fare.Ride{
		{ID: "1", Rider: "father", Route: "loop", Board: at(d, "09:00"), Alight: at(d, "09:20")},
		{ID: "2", Rider: "father", Route: "line", Board: at(d, "09:30"), BoardZone: "Z1", TripEndZone: "Z4"},
		{ID: "3", Rider: "father", Route: "line", Board: at(d, "12:00"), BoardZone: "Z1", Alight: at(d, "12:45"), AlightZone: "Z4"},
	}
	fares, err := fare.Price(rules, rides, riders)
	if err != nil {
		t.Fatal(err)
	}
	// 210; 380-100 = 280 (transfer, unalighted); 380 capped to 700-490 = 210.
	want := []fare.Fare{
		{Amount: 210},
		{Amount: 280, Transfer: true, Unalighted: true},
		{Amount: 210, Capped: true},
	}
	for i, w := range want {
		f := fares[i]
		if f.Amount != w.Amount || f.Transfer != w.Transfer || f.Unalighted != w.Unalighted || f.Capped != w.Capped {
			t.Errorf("ride %d: %+v, want %+v", i+1, f, w)
		}
	}
}

func TestErrors(t *testing.T) {
	ts := tables(t)
	d := day("2026-06-10")
	rules, _ := ts.On("kaga-demo-bus", d)
	for _, c := range []struct {
		ride fare.Ride
		want error
	}{
		{fare.Ride{ID: "x", Rider: "nobody", Route: "loop", Board: d}, fare.ErrNoRider},
		{fare.Ride{ID: "x", Rider: "father", Route: "tram", Board: d}, fare.ErrNoFare},
		{fare.Ride{ID: "x", Rider: "father", Route: "line", Board: d, BoardZone: "Z9", Alight: d, AlightZone: "Z1"}, fare.ErrNoFare},
	} {
		if _, err := fare.Price(rules, []fare.Ride{c.ride}, riders); !errors.Is(err, c.want) {
			t.Errorf("%+v: %v, want %v", c.ride, err, c.want)
		}
	}
	if _, err := ts.On("kaga-demo-bus", day("2026-03-31")); !errors.Is(err, fare.ErrNoRules) {
		t.Errorf("before the first table: %v", err)
	}
	if _, err := ts.On("komatsu-bus", d); !errors.Is(err, fare.ErrNoRules) {
		t.Errorf("another operator: %v", err)
	}
}

func TestClassOn(t *testing.T) {
	r := fare.Rules{InfantUnder: 1}
	for _, c := range []struct {
		birth, on string
		want      fare.Class
	}{
		{"2019-04-01", "2025-03-31", fare.Preschool},
		{"2019-04-01", "2025-04-01", fare.Child},
		{"2019-04-02", "2025-04-01", fare.Preschool},
		{"2019-04-02", "2026-04-01", fare.Child},
		{"2019-03-31", "2025-04-01", fare.Child},
		{"2019-12-31", "2026-03-31", fare.Preschool},
		{"2019-12-31", "2026-04-01", fare.Child},
		{"2013-04-01", "2025-03-31", fare.Child},
		{"2013-04-01", "2025-04-01", fare.Adult},
		{"2013-04-02", "2025-04-01", fare.Child},
		{"2025-06-10", "2026-06-09", fare.Infant},
		{"2025-06-10", "2026-06-10", fare.Preschool},
	} {
		if got := r.ClassOn(day(c.birth), day(c.on)); got != c.want {
			t.Errorf("born %s, on %s: %s (%s), want %s", c.birth, c.on, got, got.JA(), c.want)
		}
	}
}

func TestDiscountOf(t *testing.T) {
	half := fare.Discount{Percent: 50, RoundUp: 10}
	for _, c := range []struct{ in, want int }{{210, 110}, {220, 110}, {230, 120}, {180, 90}, {0, 0}, {1000, 500}, {190, 100}} {
		if got := half.Of(c.in); got != c.want {
			t.Errorf("half of %d = %d, want %d", c.in, got, c.want)
		}
	}
	if got := (fare.Discount{Percent: 30, RoundUp: 1}).Of(230); got != 161 {
		t.Errorf("30%% off 230 rounded up to ¥1 = %d, want 161", got)
	}
}

func TestRulesRefused(t *testing.T) {
	good := tables(t)[0]
	for name, mutate := range map[string]func(r *fare.Rules){
		"no account":          func(r *fare.Rules) { r.Account = "" },
		"bad date":            func(r *fare.Rules) { r.From = "2026/04/01" },
		"child over 100%":     func(r *fare.Rules) { r.Child.Percent = 150 },
		"no rounding unit":    func(r *fare.Rules) { r.Disability.RoundUp = 0 },
		"senior both":         func(r *fare.Rules) { r.Senior = &fare.SeniorRule{Age: 70, Discount: &r.Child, Flat: new(int)} },
		"unalighted unknown":  func(r *fare.Rules) { r.Unalighted = "free" },
		"flat route no fare":  func(r *fare.Rules) { r.Routes = map[string]fare.Route{"x": {Pay: fare.OnBoarding}} },
		"zone route no zones": func(r *fare.Rules) { r.Routes = map[string]fare.Route{"x": {Pay: fare.OnAlighting}} },
		"transfer no minutes": func(r *fare.Rules) { r.Transfer = &fare.Transfer{Off: 100} },
	} {
		r := good
		mutate(&r)
		if err := r.Validate(); !errors.Is(err, fare.ErrRules) {
			t.Errorf("%s: %v, want ErrRules", name, err)
		}
	}
	if _, err := fare.Parse([]byte(`{"operator": 5}`)); !errors.Is(err, fare.ErrRules) {
		t.Errorf("Parse of bad JSON: %v", err)
	}
}

// FuzzParse feeds an operator's rules file to the decoder: refused or
// accepted, never a panic, and accepted rules price a ride on each route.
func FuzzParse(f *testing.F) {
	b, err := os.ReadFile("testdata/kaga-demo.json")
	if err != nil {
		f.Fatal(err)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		f.Fatal(err)
	}
	for _, r := range raw {
		f.Add([]byte(r))
	}
	f.Add([]byte(`{"routes":{"x":{"pay":"alighting","zones":{"a":{"b":-1}}}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rules, err := fare.Parse(b)
		if err != nil {
			return
		}
		d, _ := fare.ParseDay(rules.From)
		for id, rt := range rules.Routes {
			ride := fare.Ride{ID: "r", Rider: "father", Route: id, Board: d.Add(9 * time.Hour)}
			for o, ds := range rt.Zones {
				for dz := range ds {
					ride.BoardZone, ride.Alight, ride.AlightZone = o, ride.Board.Add(time.Minute), dz
				}
			}
			fares, err := fare.Price(rules, []fare.Ride{ride}, riders)
			if err != nil || len(fares) != 1 || fares[0].Amount < 0 || fares[0].Amount > fares[0].Adult {
				t.Fatalf("route %s: %+v, %v", id, fares, err)
			}
		}
	})
}
