package vehicle_test

import (
	"math"
	"testing"
	"time"

	"smartpass.city/smartpass/app/vehicle"
)

// metresPerDegree is one degree of latitude on the mean Earth, to place
// test fixes a given distance north of a stop.
const metresPerDegree = 6371008.8 * math.Pi / 180

// north is the point m metres due north of p.
func north(p vehicle.Point, m float64) vehicle.Point {
	return vehicle.Point{Lat: p.Lat + m/metresPerDegree, Lon: p.Lon}
}

// fixAt is a fix at p, accurate to acc metres, taken at sec seconds into
// the test's run.
func fixAt(p vehicle.Point, acc float64, sec int) vehicle.Fix {
	return vehicle.Fix{Lat: p.Lat, Lon: p.Lon, Accuracy: acc, At: t0.Add(time.Duration(sec) * time.Second)}
}

var t0 = time.Date(2026, 6, 10, 8, 0, 0, 0, time.UTC)

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		name string
		a, b vehicle.Point
		want float64 // metres
	}{
		{"one degree of latitude", vehicle.Point{Lat: 36, Lon: 136}, vehicle.Point{Lat: 37, Lon: 136}, metresPerDegree},
		{"one degree of longitude on the equator", vehicle.Point{}, vehicle.Point{Lon: 1}, metresPerDegree},
		{"half way round", vehicle.Point{}, vehicle.Point{Lon: 180}, 180 * metresPerDegree},
		{"same place", vehicle.Point{Lat: 36.3, Lon: 136.3}, vehicle.Point{Lat: 36.3, Lon: 136.3}, 0},
		// One degree of longitude at 60° is half of one at the equator.
		{"one degree of longitude at 60°", vehicle.Point{Lat: 60, Lon: 10}, vehicle.Point{Lat: 60, Lon: 11}, metresPerDegree / 2},
		{"50 m north", vehicle.Point{Lat: 36.3, Lon: 136.3}, north(vehicle.Point{Lat: 36.3, Lon: 136.3}, 50), 50},
	} {
		got := vehicle.Distance(c.a, c.b)
		// At 60° the great circle is a little shorter than the parallel.
		tol := 0.01 + c.want*0.0002
		if math.Abs(got-c.want) > tol {
			t.Errorf("%s: %.3f m, want %.3f", c.name, got, c.want)
		}
		if back := vehicle.Distance(c.b, c.a); math.Abs(back-got) > 1e-6 {
			t.Errorf("%s: %.3f m one way, %.3f back", c.name, got, back)
		}
	}
}

// lineStops are the demo distance line's stops D1–D5 in the order of
// trip line-0800, from the feed.
func lineStops(t testing.TB) []vehicle.Point {
	t.Helper()
	run, err := vehicle.Start(settlement(t), operator, "line-0800", day)
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Points) != 5 {
		t.Fatalf("line-0800 has %d positions, want 5", len(run.Points))
	}
	return run.Points
}

func TestLocate(t *testing.T) {
	line := lineStops(t)
	loop := newBus(t, "loop-0900").run.Points // L1 L2 L3 L4 L1
	if len(loop) != 5 || loop[0] != loop[4] {
		t.Fatalf("loop-0900's positions %v: want five, the first and last the same", loop)
	}
	unknown := []vehicle.Point{line[0], {}, line[2]}
	nan := fixAt(line[1], 5, 0)
	nan.Lat = math.NaN()
	for _, c := range []struct {
		name  string
		stops []vehicle.Point
		at    int
		fix   vehicle.Fix
		want  int // -1: none
	}{
		{"at the next stop", line, 0, fixAt(line[1], 5, 0), 1},
		{"40 m from the next stop", line, 0, fixAt(north(line[1], 40), 5, 0), 1},
		{"54 m off with 5 m accuracy", line, 0, fixAt(north(line[1], 54), 5, 0), 1},
		{"60 m off with 5 m accuracy: between stops", line, 0, fixAt(north(line[1], 60), 5, 0), -1},
		{"90 m off with 50 m accuracy", line, 0, fixAt(north(line[1], 90), 50, 0), 1},
		{"90 m off with 80 m accuracy: the allowance is capped at 50 m", line, 0, fixAt(north(line[1], 90), 80, 0), 1},
		{"110 m off with 80 m accuracy: beyond the capped radius", line, 0, fixAt(north(line[1], 110), 80, 0), -1},
		{"right at the stop but accurate only to 150 m", line, 0, fixAt(line[1], 150, 0), -1},
		{"a negative accuracy", line, 0, fixAt(line[1], -1, 0), -1},
		{"not a number", line, 0, nan, -1},
		{"at the current stop", line, 1, fixAt(line[1], 5, 0), 1},
		{"at a passed stop: never back", line, 2, fixAt(line[1], 5, 0), -1},
		{"three stops ahead", line, 0, fixAt(line[3], 5, 0), 3},
		{"four stops ahead: too far for one fix", line, 0, fixAt(line[4], 5, 0), -1},
		{"the last stop from the one before", line, 3, fixAt(line[4], 5, 0), 4},
		{"loop: at the first stop, the last one is the same place", loop, 0, fixAt(loop[0], 5, 0), 0},
		{"loop: back at the start from the last stop before it", loop, 3, fixAt(loop[0], 5, 0), 4},
		{"loop: from its second stop, the start is taken as the end, three ahead", loop, 1, fixAt(loop[0], 5, 0), 4},
		{"a stop with no position is never matched", unknown, 0, fixAt(line[1], 5, 0), -1},
		{"a stop after one with no position", unknown, 0, fixAt(line[2], 5, 0), 2},
		{"past the end", line, 4, fixAt(line[4], 5, 0), 4},
	} {
		got, ok := vehicle.Locate(c.stops, c.at, c.fix)
		if !ok {
			got = -1
		}
		if got != c.want {
			t.Errorf("%s: stop %d, want %d", c.name, got, c.want)
		}
	}
}

// step is one event on a run: the driver's tap (tap "next" or "prev")
// or a fix, sec seconds into the run (the fix's own time is fix.At),
// and the current stop and GPS mark after it.
type step struct {
	tap   string
	fix   vehicle.Fix
	sec   int
	at    int
	byFix bool
}

func TestRunFix(t *testing.T) {
	line := lineStops(t)
	away := north(line[2], 300) // between stops, away from all of them
	for _, c := range []struct {
		name  string
		steps []step
	}{
		{"fixes move the stop forward", []step{
			{fix: fixAt(line[1], 10, 1), sec: 1, at: 1, byFix: true},
			{fix: fixAt(away, 10, 2), sec: 2, at: 1, byFix: true},
			{fix: fixAt(line[2], 10, 3), sec: 3, at: 2, byFix: true},
		}},
		{"never back to a passed stop", []step{
			{fix: fixAt(line[2], 10, 1), sec: 1, at: 2, byFix: true},
			{fix: fixAt(line[1], 10, 2), sec: 2, at: 2, byFix: true},
		}},
		{"a tap after a fix sets the stop", []step{
			{fix: fixAt(line[1], 10, 1), sec: 1, at: 1, byFix: true},
			{tap: "next", sec: 2, at: 2},
			{fix: fixAt(line[1], 10, 3), sec: 3, at: 2},
		}},
		{"a fix taken before the tap arrives after it", []step{
			{tap: "next", sec: 10, at: 1},
			{fix: fixAt(line[2], 10, 9), sec: 11, at: 1},
		}},
		{"the next fix moves on from the tapped stop", []step{
			{tap: "next", sec: 10, at: 1},
			{fix: fixAt(line[2], 10, 20), sec: 20, at: 2, byFix: true},
		}},
		{"a tap back holds until the vehicle leaves the stop it came back from", []step{
			{fix: fixAt(line[2], 10, 1), sec: 1, at: 2, byFix: true},
			{tap: "prev", sec: 2, at: 1},
			{fix: fixAt(line[2], 10, 3), sec: 3, at: 1},
			{fix: fixAt(north(line[2], 40), 30, 4), sec: 4, at: 1},
			{fix: fixAt(line[1], 10, 5), sec: 5, at: 1},
			{fix: fixAt(away, 10, 6), sec: 6, at: 1},
			{fix: fixAt(line[2], 10, 7), sec: 7, at: 2, byFix: true},
		}},
		{"after a tap back, a fix away from the stop it left moves on as usual", []step{
			{fix: fixAt(line[2], 10, 1), sec: 1, at: 2, byFix: true},
			{tap: "prev", sec: 2, at: 1},
			{fix: fixAt(line[3], 10, 3), sec: 3, at: 3, byFix: true},
		}},
		{"a stale fix", []step{
			{fix: fixAt(line[1], 10, 0), sec: 31, at: 0},
			{fix: fixAt(line[1], 10, 30), sec: 31, at: 1, byFix: true},
		}},
		{"a vague fix", []step{
			{fix: fixAt(line[1], 101, 1), sec: 1, at: 0},
		}},
		{"taps at the ends", []step{
			{tap: "prev", sec: 1, at: 0},
			{fix: fixAt(line[3], 10, 2), sec: 2, at: 3, byFix: true},
			{tap: "next", sec: 3, at: 4},
			{tap: "next", sec: 4, at: 4},
		}},
	} {
		run := newBus(t, "line-0800").run
		for i, s := range c.steps {
			now := t0.Add(time.Duration(s.sec) * time.Second)
			if s.tap != "" {
				run.Tap(s.tap == "next", now)
			} else {
				run.Fix(s.fix, now)
			}
			if run.At != s.at || run.ByFix != s.byFix {
				t.Errorf("%s: step %d: stop %d (GPS %v), want %d (GPS %v)", c.name, i+1, run.At, run.ByFix, s.at, s.byFix)
			}
		}
	}
}

// FuzzLocate: whatever position the browser reports (any floats, a
// current stop anywhere), Locate never answers a stop behind the current
// one, more than three ahead, or farther than the widest radius (50 m
// plus at most 50 m of accuracy), and never panics.
func FuzzLocate(f *testing.F) {
	stops := lineStops(f)
	f.Add(stops[1].Lat, stops[1].Lon, 10.0, 0)
	f.Add(stops[4].Lat, stops[4].Lon, 100.0, 3)
	f.Add(math.NaN(), math.Inf(1), -1.0, -5)
	f.Add(90.0, 180.0, 0.0, 99)
	f.Fuzz(func(t *testing.T, lat, lon, acc float64, at int) {
		i, ok := vehicle.Locate(stops, at, vehicle.Fix{Lat: lat, Lon: lon, Accuracy: acc})
		if !ok {
			return
		}
		if i < at || i > at+3 || i >= len(stops) {
			t.Fatalf("from stop %d a fix at %v,%v (±%v m) answers stop %d", at, lat, lon, acc, i)
		}
		if d := vehicle.Distance(vehicle.Point{Lat: lat, Lon: lon}, stops[i]); d > 100 {
			t.Fatalf("a fix %v m from stop %d answers it", d, i)
		}
	})
}
