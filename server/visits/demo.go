package visits

import (
	"context"
	"slices"
	"time"

	"smartpass.city/smartpass/app/appointment"
	"smartpass.city/smartpass/app/medical"
)

// Hospital is what a hospital of the city exchanges with the pass: its
// 10-digit medical institution code (医療機関コード, the system of its
// patient numbers in JP_Patient), the kinds of data it exchanges, and
// the departments it takes bookings for.
type Hospital struct {
	ID          string
	Code        string
	Kinds       []string
	Departments []string
}

// Hospitals are the demo's two hospitals (facility.Demo): the medical
// centre exchanges every kind, the Yamanaka one everything but
// check-ups, so a consent to check-ups there is refused.
var Hospitals = []Hospital{
	{ID: "kaga-medical", Code: "1790100011", Kinds: medical.Kinds, Departments: []string{"internal", "pediatrics", "surgery", "orthopedics"}},
	{ID: "yamanaka-medical", Code: "1790200027", Kinds: []string{medical.Medication, medical.Conditions, medical.Allergies}, Departments: []string{"internal", "orthopedics"}},
}

// Code is hospital's institution code ("" for one the city does not
// list: its patients' identifier system is then the prefix alone).
func Code(hospital string) string {
	for _, h := range Hospitals {
		if h.ID == hospital {
			return h.Code
		}
	}
	return ""
}

// SeedDays is how many days ahead a demo server publishes the demo
// hospitals' slots at each start (SeedDemo).
const SeedDays = 7

// SeedOps is how many ops SeedDemo writes into a new log: one
// publication per hospital, one day of slots per department for
// yesterday, today and SeedDays ahead (the tests that pin a demo
// server's head count it).
func SeedOps() int {
	n := 0
	for _, h := range Hospitals {
		n += 1 + len(h.Departments)*(SeedDays+2)
	}
	return n
}

// DemoSlots are a demo day's slots: every half hour from 9:00 to 11:30
// for three patients, and one late slot at 16:00 for one (so a full
// slot is easy to show).
func DemoSlots(date time.Time) []appointment.Slot {
	y, m, dd := date.In(appointment.JST).Date()
	at := func(h, min int) time.Time { return time.Date(y, m, dd, h, min, 0, 0, appointment.JST) }
	var out []appointment.Slot
	for t := at(9, 0); t.Before(at(12, 0)); t = t.Add(30 * time.Minute) {
		out = append(out, appointment.Slot{Start: t, Minutes: 30, Capacity: 3})
	}
	return append(out, appointment.Slot{Start: at(16, 0), Minutes: 30, Capacity: 1})
}

// SeedDemo publishes what the demo hospitals exchange and their slots
// from the day before now to days after it, skipping what the log holds
// already (a demo server seeds at every start).
func (d *Door) SeedDemo(ctx context.Context, now time.Time, days int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	st, err := d.current()
	if err != nil {
		return err
	}
	rec, book := medical.Records.In(st.Parts()), appointment.Books.In(st.Parts())
	var ops []op
	for _, h := range Hospitals {
		if !slices.Equal(rec.Published[h.ID], h.Kinds) {
			ops = append(ops, op{medical.OpPublish, medical.Publish{Hospital: h.ID, Kinds: h.Kinds}})
		}
		for i := -1; i <= days; i++ {
			date := now.In(appointment.JST).AddDate(0, 0, i)
			day := date.Format(time.DateOnly)
			for _, dept := range h.Departments {
				if _, ok := book.Days[h.ID][dept][day]; !ok {
					ops = append(ops, op{appointment.OpSlots, appointment.Day{Hospital: h.ID, Department: dept, Date: day, Slots: DemoSlots(date)}})
				}
			}
		}
	}
	if len(ops) == 0 {
		return nil
	}
	_, err = d.write(ctx, ops...)
	return err
}
