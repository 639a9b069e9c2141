package transit

import (
	"cmp"
	"fmt"
	"io"
	"sort"
	"strconv"

	"smartpass.city/smartpass/app/admin"
	"smartpass.city/smartpass/app/excelcsv"
	"smartpass.city/smartpass/app/fare"
)

// RidershipRow is one line of the ridership report: how many rides of a
// category boarded in an hour between two stops of a route. It counts
// rides, never names a rider.
type RidershipRow struct {
	Day, Route, From, To string
	// FromName and ToName are the stops' names from the feed.
	FromName, ToName string
	Hour             int // of boarding, Japan time
	Class            fare.Class
	Category         fare.Category
	Rides            int
}

// RevenueRow is one line of the revenue report: the rides of a product
// and the yen they owe.
type RevenueRow struct {
	Day, Product string
	Rides, Yen   int
}

// Products a ride is counted under in revenue.
const (
	ProductSingle   = "single"        // 普通運賃
	ProductTransfer = "transfer"      // 乗継割引
	ProductCapped   = "day_cap"       // 一日上限
	ProductPass     = "commuter_pass" // 定期券
	ProductFree     = "free"          // 幼児・乳児
)

// product names what a charge was paid as.
func product(c Charge) string {
	switch {
	case c.Fare.Category == fare.CommPass:
		return ProductPass
	case c.Fare.Capped:
		return ProductCapped
	case c.Fare.Transfer:
		return ProductTransfer
	case c.Amount == 0:
		return ProductFree
	}
	return ProductSingle
}

// Report tallies priced rides: ridership by day, route, stop pair, hour
// and category, and revenue by day and product.
func Report(n *Network, rides []Ride, charges []Charge) ([]RidershipRow, []RevenueRow) {
	byID := make(map[string]Ride, len(rides))
	for _, r := range rides {
		byID[r.ID] = r
	}
	type rk struct {
		day, route, from, to string
		hour                 int
		class                fare.Class
		cat                  fare.Category
	}
	type vk struct{ day, product string }
	riders := make(map[rk]int)
	revenue := make(map[vk][2]int)
	for _, c := range charges {
		r, ok := byID[c.Ride]
		if !ok {
			continue
		}
		route, _ := n.Route(r.Trip)
		board, _ := n.When(r.Board)
		to := ""
		if r.Alight != nil {
			to = r.Alight.Stop
		}
		riders[rk{r.Day, route, r.Board.Stop, to, board.In(fare.JST).Hour(), c.Fare.Class, c.Fare.Category}]++
		v := revenue[vk{r.Day, product(c)}]
		revenue[vk{r.Day, product(c)}] = [2]int{v[0] + 1, v[1] + c.Amount}
	}
	var rs []RidershipRow
	for k, count := range riders {
		from, _ := n.Stop(k.from)
		to, _ := n.Stop(k.to)
		rs = append(rs, RidershipRow{Day: k.day, Route: k.route, From: k.from, To: k.to, FromName: from.Name, ToName: to.Name, Hour: k.hour, Class: k.class, Category: k.cat, Rides: count})
	}
	sort.Slice(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.Route, b.Route), cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To),
			cmp.Compare(a.Hour, b.Hour), cmp.Compare(a.Class, b.Class), cmp.Compare(a.Category, b.Category)) < 0
	})
	var vs []RevenueRow
	for k, v := range revenue {
		vs = append(vs, RevenueRow{Day: k.day, Product: k.product, Rides: v[0], Yen: v[1]})
	}
	sort.Slice(vs, func(i, j int) bool {
		if vs[i].Day != vs[j].Day {
			return vs[i].Day < vs[j].Day
		}
		return vs[i].Product < vs[j].Product
	})
	return rs, vs
}

// RidershipPath is where staff download an operator's ridership of a
// service day (a RidershipRequest, in a staff session; the answer is the
// CSV WriteRidership writes), to file for subsidy.
const RidershipPath = "/admin/api/transit/ridership"

// RidershipRequest asks for an operator's ridership of a service day
// (YYYY-MM-DD).
type RidershipRequest struct {
	admin.Request
	Operator string `json:"operator"`
	Day      string `json:"day"`
}

// WriteRidership writes the ridership report as a CSV for Excel, headed
// in Japanese and English; an unalighted ride's destination is left
// blank.
func WriteRidership(w io.Writer, rows []RidershipRow) error {
	out := [][]string{{"運行日 day", "系統 route", "乗車停留所 from", "乗車停留所名 from (name)", "降車停留所 to", "降車停留所名 to (name)", "乗車時台 hour", "区分 class", "割引等 category", "人数 rides"}}
	for _, r := range rows {
		out = append(out, []string{r.Day, r.Route, r.From, r.FromName, r.To, r.ToName, strconv.Itoa(r.Hour), r.Class.JA(), string(r.Category), strconv.Itoa(r.Rides)})
	}
	if err := excelcsv.Write(w, out); err != nil {
		return fmt.Errorf("transit: ridership: %w", err)
	}
	return nil
}

// WriteRevenue writes the revenue report as a CSV for Excel.
func WriteRevenue(w io.Writer, rows []RevenueRow) error {
	out := [][]string{{"運行日 day", "商品 product", "人数 rides", "運賃 yen"}}
	for _, r := range rows {
		out = append(out, []string{r.Day, r.Product, strconv.Itoa(r.Rides), strconv.Itoa(r.Yen)})
	}
	if err := excelcsv.Write(w, out); err != nil {
		return fmt.Errorf("transit: revenue: %w", err)
	}
	return nil
}

// VehicleRow is one vehicle's settlement of a service day: the rides its
// tablet recorded that were charged, the yen owed, and how many were
// priced by the timetable (its clock was off) or by the rule for riders
// never seen alighting, for the operator to look into.
type VehicleRow struct {
	Day, Vehicle                 string
	Rides, Yen                   int
	ClockFixed, Unalighted, Pass int
}

// Vehicles tallies charges by service day and the device that recorded
// the boarding.
func Vehicles(rides []Ride, charges []Charge) []VehicleRow {
	byID := make(map[string]Ride, len(rides))
	for _, r := range rides {
		byID[r.ID] = r
	}
	type key struct{ day, vehicle string }
	rows := make(map[key]*VehicleRow)
	for _, c := range charges {
		r, ok := byID[c.Ride]
		if !ok {
			continue
		}
		k := key{r.Day, r.Device}
		v := rows[k]
		if v == nil {
			v = &VehicleRow{Day: r.Day, Vehicle: r.Device}
			rows[k] = v
		}
		v.Rides++
		v.Yen += c.Amount
		if c.ClockFixed {
			v.ClockFixed++
		}
		if c.Fare.Unalighted {
			v.Unalighted++
		}
		if c.Fare.Category == fare.CommPass {
			v.Pass++
		}
	}
	out := make([]VehicleRow, 0, len(rows))
	for _, v := range rows {
		out = append(out, *v)
	}
	sort.Slice(out, func(i, j int) bool {
		return cmp.Or(cmp.Compare(out[i].Day, out[j].Day), cmp.Compare(out[i].Vehicle, out[j].Vehicle)) < 0
	})
	return out
}

// WriteVehicles writes the vehicles' settlement as a CSV for Excel.
func WriteVehicles(w io.Writer, rows []VehicleRow) error {
	out := [][]string{{"運行日 day", "車両 vehicle", "人数 rides", "運賃 yen", "定期券 commuter pass", "時刻補正 clock fixed", "降車未確認 never alighted"}}
	for _, r := range rows {
		out = append(out, []string{r.Day, r.Vehicle, strconv.Itoa(r.Rides), strconv.Itoa(r.Yen), strconv.Itoa(r.Pass), strconv.Itoa(r.ClockFixed), strconv.Itoa(r.Unalighted)})
	}
	if err := excelcsv.Write(w, out); err != nil {
		return fmt.Errorf("transit: vehicles: %w", err)
	}
	return nil
}
