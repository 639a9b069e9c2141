package visits_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"smartpass.city/smartpass/app/appointment"
	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/visit"
	"smartpass.city/smartpass/server/visits"
	"smartpass.city/smartpass/syncproto"
)

// BenchmarkBookings is what a holder's bookings cost the door as the
// hospital records grow: the door keeps its folded state and applies
// the ops stored since its last request (visits.Door.current), so a
// request costs the same with 0 or 5,000 days of slots in the log. With
// a reception tablet's op stored between requests in the log's order
// (in order) the door applies one op; stamped before everything folded
// (a tablet that was offline) it folds again from every op.
func BenchmarkBookings(b *testing.B) {
	for _, n := range []int{0, 5000} {
		for _, arriving := range []string{"none", "in order", "out of order"} {
			b.Run(fmt.Sprintf("days=%d/new=%s", n, arriving), func(b *testing.B) {
				c := newCity(b)
				_, mother := c.open(card.Facts{Name: "加賀\u3000花子", Address: "石川県加賀市大聖寺南町ニ41", BirthDate: "19880312", Sex: "2"})
				start := time.Now().AddDate(1, 0, 0)
				seq := uint64(0)
				slots := func(day int, at uint64) {
					date := start.AddDate(0, 0, day)
					body, _ := json.Marshal(appointment.Day{Hospital: "kaga-medical", Department: "internal", Date: date.In(appointment.JST).Format(time.DateOnly), Slots: visits.DemoSlots(date)})
					seq++
					if _, err := c.log.Append(context.Background(), "reception-bench", []syncproto.Op{{Device: "reception-bench", Seq: seq, HLC: at, Kind: appointment.OpSlots, Body: body}}); err != nil {
						b.Fatal(err)
					}
				}
				now := func() uint64 { return hlc.Make(time.Now().UnixMilli(), 0) }
				for i := range n {
					slots(i, now())
				}
				must(c, mother, visit.API.Bookings, struct{}{})
				day := n
				for b.Loop() {
					switch arriving {
					case "in order":
						slots(day, now())
						day++
					case "out of order":
						slots(day, hlc.Make(time.Now().Add(-time.Hour).UnixMilli(), 0))
						day++
					}
					must(c, mother, visit.API.Bookings, struct{}{})
				}
			})
		}
	}
}
