package appointment

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"smartpass.city/smartpass/app/fhirjp"
	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/medical"
	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/syncproto"
)

func jst(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, JST)
	if err != nil {
		panic(err)
	}
	return t
}

type log struct{ ops []syncproto.Op }

// add records an op of kind at time at.
func (l *log) add(at time.Time, kind string, body any) syncproto.Op {
	b, _ := json.Marshal(body)
	op := syncproto.Op{Device: "d", Seq: uint64(len(l.ops) + 1), HLC: hlc.Make(at.UnixMilli(), 0), Kind: kind, Body: b}
	l.ops = append(l.ops, op)
	return op
}

func (l *log) fold() (*Book, map[uint64]string) {
	var p opkind.Parts
	for _, op := range l.ops {
		opkind.Fold(&p, op)
	}
	rej := map[uint64]string{}
	for _, r := range *opkind.Rejections.In(&p) {
		rej[r.Op.Seq] = r.Reason
	}
	return Books.In(&p), rej
}

var day = Day{Hospital: "hospA", Department: "pediatrics", Date: "2026-12-10", Slots: []Slot{
	{Start: jst("2026-12-10 09:00"), Minutes: 30, Capacity: 1},
	{Start: jst("2026-12-10 09:30"), Minutes: 30, Capacity: 2},
}}

func booking(who, at string) Booking {
	return Booking{Hospital: "hospA", Department: "pediatrics", Start: jst(at), Resident: who, By: "mother"}
}

func TestBookMoveCancelNoShow(t *testing.T) {
	now := jst("2026-12-02 20:00")
	l := &log{}
	l.add(now, OpSlots, day)
	son := l.add(now, OpBook, booking("son", "2026-12-10 09:00"))
	sonID := opkind.RecordID(son)
	steps := []struct {
		name string
		at   time.Time
		kind string
		body any
		want string // "" accepted; else in the rejection
	}{
		{"a full slot", now, OpBook, booking("daughter", "2026-12-10 09:00"), "full"},
		{"twice in one slot", now, OpBook, booking("son", "2026-12-10 09:00"), "booked in this slot already"},
		{"no such slot", now, OpBook, booking("daughter", "2026-12-10 11:00"), "no such slot"},
		{"another department's slot", now, OpBook, Booking{Hospital: "hospA", Department: "internal", Start: jst("2026-12-10 09:00"), Resident: "daughter", By: "mother"}, "no such slot"},
		{"move him to 9:30", now, OpMove, Move{Hospital: "hospA", ID: sonID, Start: jst("2026-12-10 09:30"), By: "mother"}, ""},
		{"9:00 is free again", now, OpBook, booking("daughter", "2026-12-10 09:00"), ""},
		{"a booking in the past", jst("2026-12-10 09:45"), OpBook, booking("father", "2026-12-10 09:30"), "has begun"},
		{"move to a full slot", now, OpMove, Move{Hospital: "hospA", ID: sonID, Start: jst("2026-12-10 09:00"), By: "mother"}, "full"},
		{"move a booking unknown", now, OpMove, Move{Hospital: "hospA", ID: "x.1", Start: jst("2026-12-10 09:00"), By: "mother"}, "no such booking"},
		{"no-show before the slot ends", jst("2026-12-10 09:40"), OpNoShow, NoShow{Hospital: "hospA", ID: sonID}, "before the slot ends"},
		{"no-show after", jst("2026-12-10 10:05"), OpNoShow, NoShow{Hospital: "hospA", ID: sonID}, ""},
		{"cancel a missed visit", jst("2026-12-10 10:10"), OpCancel, Cancel{Hospital: "hospA", ID: sonID, By: "mother"}, "noshow"},
	}
	seqs := map[uint64]int{}
	for i, s := range steps {
		seqs[l.add(s.at, s.kind, s.body).Seq] = i
	}
	b, rej := l.fold()
	for seq, i := range seqs {
		s := steps[i]
		got := rej[seq]
		if s.want == "" && got != "" || s.want != "" && !strings.Contains(got, s.want) {
			t.Errorf("%s: rejection %q, want %q", s.name, got, s.want)
		}
	}
	if e := b.Bookings[sonID]; e.Status != Missed || !e.Start.Equal(jst("2026-12-10 09:30")) {
		t.Errorf("son's booking %+v", e)
	}
	list := b.DayList("hospA", "2026-12-10")
	if len(list) != 2 || list[0].Resident != "daughter" || list[1].Resident != "son" {
		t.Errorf("the desk's list %+v", list)
	}
	if got := b.Of("son", "daughter"); len(got) != 2 {
		t.Errorf("the family's bookings %+v", got)
	}
}

func TestCheckAndDue(t *testing.T) {
	l := &log{}
	now := jst("2026-12-02 20:00")
	l.add(now, OpSlots, day)
	l.add(now, OpBook, booking("son", "2026-12-10 09:00"))
	b, _ := l.fold()
	for _, c := range []struct {
		name string
		bk   Booking
		at   time.Time
		want error
	}{
		{"free place", booking("daughter", "2026-12-10 09:30"), now, nil},
		{"full", booking("daughter", "2026-12-10 09:00"), now, ErrFull},
		{"past", booking("daughter", "2026-12-10 09:30"), jst("2026-12-10 09:30"), ErrPast},
		{"no slot", booking("daughter", "2026-12-11 09:30"), now, ErrNoSlot},
		{"no department", Booking{Hospital: "hospA", Department: "magic", Start: jst("2026-12-10 09:30"), Resident: "d", By: "m"}, now, ErrInvalid},
	} {
		if err := b.Check(c.bk, c.at, ""); c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if e, ok := b.Due("hospA", "son", jst("2026-12-10 08:40"), time.Hour); !ok || e.Resident != "son" {
		t.Errorf("reception finds no booking: %+v", e)
	}
	if _, ok := b.Due("hospA", "son", jst("2026-12-10 11:00"), time.Hour); ok {
		t.Error("a booking an hour and a half past its slot is still due")
	}
	if _, ok := b.Due("hospA", "daughter", jst("2026-12-10 08:40"), time.Hour); ok {
		t.Error("a walk-in has a booking")
	}
	if r := b.Reminders(jst("2026-12-09 10:00"), 24*time.Hour); len(r) != 1 {
		t.Errorf("reminders %+v", r)
	}
	if r := b.Reminders(jst("2026-12-08 08:00"), 24*time.Hour); len(r) != 0 {
		t.Errorf("reminders two days early %+v", r)
	}
}

func TestDayValidate(t *testing.T) {
	bad := []Day{
		{Hospital: "h", Department: "magic", Date: "2026-12-10", Slots: day.Slots},
		{Hospital: "h", Department: "pediatrics", Date: "2026-12-11", Slots: day.Slots},
		{Hospital: "h", Department: "pediatrics", Date: "2026-12-10", Slots: []Slot{day.Slots[1], day.Slots[0]}},
		{Hospital: "h", Department: "pediatrics", Date: "2026-12-10", Slots: []Slot{{Start: jst("2026-12-10 09:00"), Minutes: 30, Capacity: 0}}},
		{Hospital: "h", Department: "pediatrics", Date: "2026-12-10"},
	}
	for i, d := range bad {
		if err := d.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("day %d: %v", i, err)
		}
	}
	if err := day.Validate(); err != nil {
		t.Error(err)
	}
}

func goodPediatrics() map[string]string {
	return map[string]string{"symptoms": "fever,cough", "since": "2026-12-08", "temperature": "38.5", "weight": "22.4",
		"convulsion": "false", "allergic": "true", "allergies": "卵", "vaccines": "yes"}
}

func TestAnswerRules(t *testing.T) {
	today := jst("2026-12-09 20:00")
	if err := Pediatrics.Check(goodPediatrics(), today); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		change func(v map[string]string)
		in     string
	}{
		{"required missing", func(v map[string]string) { delete(v, "weight") }, "weight"},
		{"asked when yes, not given", func(v map[string]string) { delete(v, "allergies") }, "allergies"},
		{"given when not asked", func(v map[string]string) { v["allergic"] = "false" }, "only when allergic"},
		{"temperature out of range", func(v map[string]string) { v["temperature"] = "45.0" }, "temperature"},
		{"two decimal places", func(v map[string]string) { v["temperature"] = "38.55" }, "decimal place"},
		{"not a number", func(v map[string]string) { v["weight"] = "二十" }, "weight"},
		{"not an option", func(v map[string]string) { v["vaccines"] = "maybe" }, "vaccines"},
		{"an option twice", func(v map[string]string) { v["symptoms"] = "fever,fever" }, "symptoms"},
		{"a date in the future", func(v map[string]string) { v["since"] = "2026-12-10" }, "since"},
		{"a yes-no that is neither", func(v map[string]string) { v["convulsion"] = "はい" }, "convulsion"},
		{"text too long", func(v map[string]string) { v["nursery"] = strings.Repeat("あ", 201) }, "nursery"},
		{"a question not asked", func(v map[string]string) { v["bloodtype"] = "A" }, "bloodtype"},
	}
	for _, c := range cases {
		v := goodPediatrics()
		c.change(v)
		err := Pediatrics.Check(v, today)
		if !errors.Is(err, ErrAnswer) || !strings.Contains(err.Error(), c.in) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func TestAnswersFold(t *testing.T) {
	now := jst("2026-12-02 20:00")
	l := &log{}
	l.add(now, OpSlots, day)
	son := opkind.RecordID(l.add(now, OpBook, booking("son", "2026-12-10 09:00")))
	a := Answers{Hospital: "hospA", Booking: son, Resident: "son", Questionnaire: Pediatrics.ID, Values: goodPediatrics(), By: "mother", Consented: jst("2026-12-09 21:00")}
	other, internal, bad := a, a, a
	other.Resident = "daughter"
	internal.Questionnaire, internal.Values = Internal.ID, map[string]string{"symptoms": "cough", "since": "2026-12-08", "medicating": "false", "allergic": "false"}
	bad.Values = map[string]string{"symptoms": "fever"}
	ok := l.add(now, OpAnswers, a)
	o := l.add(now, OpAnswers, other)
	in := l.add(now, OpAnswers, internal)
	b, rej := l.fold()
	if rej[ok.Seq] != "" || b.Bookings[son].Answers == nil || b.Bookings[son].Answers.Values["allergies"] != "卵" {
		t.Errorf("answers not attached: %q %+v", rej[ok.Seq], b.Bookings[son])
	}
	if rej[o.Seq] == "" || rej[in.Seq] == "" {
		t.Errorf("answers for another patient or department kept: %q %q", rej[o.Seq], rej[in.Seq])
	}
	if err := bad.Validate(); !errors.Is(err, ErrAnswer) {
		t.Errorf("answers that fail their rules: %v", err)
	}
	if f := opkind.FeedsOf(ok); len(f) != 1 || f[0] != opkind.FacilityFeed("hospA") {
		t.Errorf("answers travel to %v, want that hospital's feed only", f)
	}
}

func TestFHIRExports(t *testing.T) {
	now := jst("2026-12-02 20:00")
	l := &log{}
	l.add(now, OpSlots, day)
	id := opkind.RecordID(l.add(now, OpBook, booking("son", "2026-12-10 09:00")))
	b, _ := l.fold()
	a := b.FHIR(*b.Bookings[id], "Patient/A-77")
	if a.Start != "2026-12-10T09:00:00+09:00" || a.End != "2026-12-10T09:30:00+09:00" || a.Status != "booked" {
		t.Errorf("appointment %+v", a)
	}
	ans := Answers{Hospital: "hospA", Booking: id, Resident: "son", Questionnaire: Pediatrics.ID, Values: goodPediatrics(), By: "mother", Consented: jst("2026-12-09 21:00")}
	resp := Pediatrics.Response(ans, "Patient/A-77")
	if len(resp.Item) != len(ans.Values) || len(resp.Item[0].Answer) != 2 {
		t.Errorf("response items %+v", resp.Item)
	}
	for name, r := range map[string]any{"appointment": a, "internal": Internal.FHIR(), "pediatrics": Pediatrics.FHIR(), "response": resp} {
		if _, err := fhirjp.Marshal(r); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, dept := range []string{"internal", "pediatrics"} {
		if q, ok := For(dept); !ok || q.Department != dept {
			t.Errorf("no questionnaire for %s", dept)
		}
	}
}

func TestPrefill(t *testing.T) {
	now := jst("2026-12-09 20:00")
	ref := "Patient/A-77"
	var docs []json.RawMessage
	for _, r := range []any{
		fhirjp.AllergyOf("a1", ref, "卵", "food", "high"),
		fhirjp.AllergyOf("a2", ref, "ペニシリン", "medication", ""),
		fhirjp.MedicationStatementOf("m1", ref, fhirjp.Medication{Name: "カルボシステインＤＳ", Start: now.AddDate(0, 0, -2), End: now.AddDate(0, 0, 5)}, now),
	} {
		b, err := fhirjp.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, b)
	}
	sum := medical.Summary{Hospital: "hospA", Resident: "son", Patient: "A-77", Visit: now.AddDate(0, 0, -2), Documents: docs}
	l := &log{}
	l.add(now.AddDate(0, 0, -2), medical.OpSummary, sum)
	var p opkind.Parts
	for _, op := range l.ops {
		opkind.Fold(&p, op)
	}
	rec := medical.Records.In(&p)

	got := Prefill(Internal, rec, "son", now)
	want := map[string]string{"allergic": "true", "allergies": "卵（重篤）、ペニシリン", "medicating": "true", "medicines": "カルボシステインＤＳ"}
	if len(got) != len(want) {
		t.Fatalf("prefill %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	// Paediatrics asks allergies but not medication.
	if got := Prefill(Pediatrics, rec, "son", now); got["allergies"] == "" || got["medicines"] != "" {
		t.Errorf("paediatrics prefill %v", got)
	}
	if got := Prefill(Internal, rec, "daughter", now); len(got) != 0 {
		t.Errorf("someone else's record prefilled %v", got)
	}
}
