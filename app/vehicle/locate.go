package vehicle

import (
	"math"
	"time"

	"smartpass.city/smartpass/app/transit"
)

// Where the tablet's position fixes (the browser's Geolocation) move the
// current stop. A fix only ever helps the driver: it moves the stop
// forward along the trip to a stop the vehicle is plainly at, and the
// driver's ◀/▶ taps always win over it.

// stopRadius is how near a stop a fix must be for the vehicle to be at
// it: a bus stops within a few tens of metres of its pole, and stops on
// one route are rarely closer than a few hundred metres, so 50 m tells
// them apart.
const stopRadius = 50.0 // metres

// accuracyAllowance caps how much of a fix's own uncertainty widens
// stopRadius: a fix accurate to 30 m may be 30 m off, so it counts within
// 80 m; a vaguer one must not make the circle cover the next stop too.
const accuracyAllowance = 50.0 // metres

// worstAccuracy is the vaguest fix taken at all: beyond 100 m the
// browser is guessing from Wi-Fi or cell towers (a tablet indoors at the
// depot, GPS not locked yet), and a stop chosen from it would be a guess.
const worstAccuracy = 100.0 // metres

// maxAhead is how many stops forward one fix may move the current stop:
// a bus passes stops nobody asked for between fixes (the browser reports
// about once a second), but a jump further than this is a wrong position
// (a GPS jump, or a loop's far side passing near), not the bus.
const maxAhead = 3

// maxFixAge is how old a fix may be when it arrives: a browser waking
// from sleep may hand over a position from minutes ago, when the vehicle
// was elsewhere.
const maxFixAge = 30 * time.Second

// earthRadius is the mean radius of the Earth, for haversine distances.
const earthRadius = 6371008.8 // metres

// Fix is a position the tablet's Geolocation reported.
type Fix struct {
	Lat, Lon float64
	// Accuracy is the radius in metres the browser is confident of.
	Accuracy float64
	// At is when the position was taken.
	At time.Time
}

// Point is a stop's position; the zero Point is a stop the feed gives
// no position for, which no fix matches.
type Point struct{ Lat, Lon float64 }

// known reports whether p is a position (GTFS writes 0,0 for none, and
// no stop of a Japanese operator lies there).
func (p Point) known() bool { return p != Point{} }

// Distance returns the great-circle distance between a and b in metres
// (haversine), ample for stops a few hundred metres apart.
func Distance(a, b Point) float64 {
	const rad = math.Pi / 180
	dLat, dLon := (b.Lat-a.Lat)*rad, (b.Lon-a.Lon)*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadius * math.Asin(math.Sqrt(min(1, h)))
}

// usable reports whether f is a position to act on: finite, on the
// globe, and accurate enough.
func (f Fix) usable() bool {
	for _, v := range []float64{f.Lat, f.Lon, f.Accuracy} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return f.Lat >= -90 && f.Lat <= 90 && f.Lon >= -180 && f.Lon <= 180 && f.Accuracy >= 0 && f.Accuracy <= worstAccuracy
}

// radius is how near a stop f must be to be at it.
func (f Fix) radius() float64 { return stopRadius + min(f.Accuracy, accuracyAllowance) }

// Locate returns which of the trip's stops (their positions in order)
// a vehicle whose current stop is at is at by fix: the nearest within
// the fix's radius among the current stop and the maxAhead after it
// (a stop the trip calls at twice, as a loop's first and last, counts
// by its place in the order, the earlier on a tie), or false for none.
// It never answers a stop before at.
func Locate(stops []Point, at int, f Fix) (int, bool) {
	if !f.usable() || at < 0 {
		return 0, false
	}
	here := Point{f.Lat, f.Lon}
	best, bestD := -1, f.radius()
	for i := at; i < len(stops) && i <= at+maxAhead; i++ {
		if !stops[i].known() {
			continue
		}
		if d := Distance(here, stops[i]); d <= bestD && (best < 0 || d < bestD) {
			best, bestD = i, d
		}
	}
	return best, best >= 0
}

// points returns the positions of the trip's stops from the network.
func points(n *transit.Network, stops []string) []Point {
	out := make([]Point, len(stops))
	for i, id := range stops {
		if s, ok := n.Stop(id); ok {
			out[i] = Point{s.Lat, s.Lon}
		}
	}
	return out
}

// Fix moves the current stop by a position fix reported at now, and
// reports whether it moved. A fix older than maxFixAge, or taken before
// the driver's last tap, is ignored: the tap wins. After the driver
// moved back a stop, the stop they moved back from is not taken again
// (nor any after it) until a fix shows the vehicle away from it: the
// driver corrected a fix that ran ahead, and the same position must not
// undo the correction.
func (r *Run) Fix(f Fix, now time.Time) bool {
	if now.Sub(f.At) > maxFixAge || f.At.Before(r.tapped) || !f.usable() {
		return false
	}
	if r.left > r.At && r.left < len(r.Points) {
		if r.Points[r.left].known() && Distance(Point{f.Lat, f.Lon}, r.Points[r.left]) <= f.radius() {
			return false
		}
		r.left = 0 // the vehicle is away from it: fixes count again
	}
	i, ok := Locate(r.Points, r.At, f)
	if !ok || i == r.At {
		return false
	}
	r.At, r.ByFix = i, true
	return true
}

// Tap moves the current stop on (forward) or back at the driver's tap at
// now, and reports whether it moved. It wins over every fix taken before
// it, and a fix after it moves the stop only forward from there.
func (r *Run) Tap(forward bool, now time.Time) bool {
	from := r.At
	var moved bool
	if forward {
		moved = r.Next()
	} else {
		moved = r.Prev()
	}
	if !moved {
		return false
	}
	r.tapped, r.ByFix, r.left = now, false, 0
	if !forward {
		r.left = from
	}
	return true
}
