package terminal

import (
	"encoding/json"
	"testing"
	"time"

	"smartpass.city/smartpass/app/appointment"
	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/hospital"
	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/app/state"
	"smartpass.city/smartpass/syncproto"
)

func TestOpenVisit(t *testing.T) {
	at := func(s string) time.Time {
		t, _ := time.ParseInLocation("2006-01-02 15:04", s, appointment.JST)
		return t
	}
	var ops []syncproto.Op
	op := func(when time.Time, kind string, body any) syncproto.Op {
		b, _ := json.Marshal(body)
		o := syncproto.Op{Device: "d", Seq: uint64(len(ops) + 1), HLC: hlc.Make(when.UnixMilli(), 0), Kind: kind, Body: b}
		ops = append(ops, o)
		return o
	}
	booked := at("2026-12-02 20:00")
	op(booked, hospital.OpLink, hospital.Link{Facility: "hospA", Resident: "son", Patient: "A-77"})
	op(booked, appointment.OpSlots, appointment.Day{Hospital: "hospA", Department: "pediatrics", Date: "2026-12-10",
		Slots: []appointment.Slot{{Start: at("2026-12-10 09:00"), Minutes: 30, Capacity: 2}}})
	id := opkind.RecordID(op(booked, appointment.OpBook, appointment.Booking{Hospital: "hospA", Department: "pediatrics", Start: at("2026-12-10 09:00"), Resident: "son", By: "mother"}))
	op(booked, appointment.OpAnswers, appointment.Answers{Hospital: "hospA", Booking: id, Resident: "son", Questionnaire: appointment.Pediatrics.ID, By: "mother", Consented: booked,
		Values: map[string]string{"symptoms": "fever", "since": "2026-12-01", "weight": "22.4", "convulsion": "false", "allergic": "false", "vaccines": "yes"}})
	st := state.Fold(ops)

	v := OpenVisit(st, "hospA", "son", at("2026-12-10 08:50"))
	if v.Booking == nil || v.Department != "pediatrics" || v.Answers == nil || v.Questionnaire.ID != appointment.Pediatrics.ID || v.Patient != "A-77" {
		t.Fatalf("visit %+v", v)
	}
	r, n, ok, err := ReceiveVisit(st, "hospA", "son", hospital.ByFace, v, at("2026-12-10 08:50"))
	if !ok || err != nil || r.Department != "pediatrics" || n != 1 {
		t.Errorf("reception %+v %d %v %v", r, n, ok, err)
	}
	walkIn := OpenVisit(st, "hospA", "mother", at("2026-12-10 08:50"))
	if walkIn.Booking != nil {
		t.Errorf("a walk-in with a booking: %+v", walkIn)
	}
	if _, _, ok, _ := ReceiveVisit(st, "hospA", "mother", hospital.ByFace, walkIn, at("2026-12-10 08:50")); ok {
		t.Error("a walk-in received without a department")
	}
	if late := OpenVisit(st, "hospA", "son", at("2026-12-10 10:45")); late.Booking != nil {
		t.Error("a booking long past its slot is still due")
	}
}
