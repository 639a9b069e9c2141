package state

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/hospital"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/syncproto"
)

func op(dev string, seq, hlc uint64, kind string, body any) syncproto.Op {
	b, err := json.Marshal(body)
	if err != nil {
		panic(err)
	}
	return syncproto.Op{Device: dev, Seq: seq, HLC: hlc, Kind: kind, Body: b}
}

func TestFoldIsOrderIndependent(t *testing.T) {
	ops := []syncproto.Op{
		op("server", 1, 10, facility.OpUpsert, facility.Facility{ID: "s1", Kind: facility.Shelter, NameJA: "旧名"}),
		op("server", 2, 50, facility.OpUpsert, facility.Facility{ID: "s1", Kind: facility.Shelter, NameJA: "新名"}),
		op("tab-a", 1, 20, shelter.OpEvacueeAdd, shelter.Evacuee{Shelter: "s1", Kana: "イ", BirthYear: 1990}),
		op("tab-b", 1, 20, shelter.OpEvacueeAdd, shelter.Evacuee{Shelter: "s1", Kana: "ア", BirthYear: 1980}),
		op("tab-b", 2, 30, "future.kind", map[string]int{"x": 1}),
		{Device: "tab-c", Seq: 1, HLC: 40, Kind: facility.OpUpsert, Body: json.RawMessage(`{"id":""}`)},
		op("server", 3, 60, jpki.OpAnchors, jpki.Anchors{Roots: [][]byte{[]byte("new")}}),
		op("server", 4, 15, jpki.OpAnchors, jpki.Anchors{Roots: [][]byte{[]byte("old")}}),
	}
	want := foldChecked(t, ops)
	if got := want.Facilities["s1"].NameJA; got != "新名" {
		t.Fatalf("last writer by HLC: name = %q, want 新名", got)
	}
	if want.Anchors == nil || string(want.Anchors.Roots[0]) != "new" {
		t.Fatalf("Anchors = %+v, want the latest published", want.Anchors)
	}
	if len(want.Rejected) != 1 || want.Rejected[0].Op.Device != "tab-c" {
		t.Fatalf("Rejected = %+v, want the invalid facility op of tab-c", want.Rejected)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		shuffled := append([]syncproto.Op(nil), ops...)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got := Fold(shuffled); !reflect.DeepEqual(got, want) {
			t.Fatalf("fold depends on order:\n got %+v\nwant %+v", got, want)
		}
	}
	list := want.EvacueesAt("s1")
	if len(list) != 2 || list[0].Kana != "ア" || list[0].ID != "tab-b.1" {
		t.Fatalf("EvacueesAt = %+v, want ア (tab-b.1) first", list)
	}
	if sh := want.Shelters(); len(sh) != 1 || sh[0].ID != "s1" {
		t.Fatalf("Shelters = %+v", sh)
	}
}

func TestFoldShowsRefusedOps(t *testing.T) {
	dev := scope.Device{Facility: facility.Facility{ID: "s1"}}
	refused := dev.Reject(op("tab-a", 3, 20, shelter.OpEvacueeAdd, shelter.Evacuee{Shelter: "s2", Kana: "ウ"}), scope.ErrForbidden)
	st := foldChecked(t, []syncproto.Op{refused})
	if len(st.Evacuees) != 0 {
		t.Fatalf("a refused check-in was applied: %+v", st.Evacuees)
	}
	if len(st.Rejected) != 1 {
		t.Fatalf("Rejected = %+v, want the refused op", st.Rejected)
	}
	got := st.Rejected[0]
	if got.Op.Kind != shelter.OpEvacueeAdd || got.Op.Seq != 3 || !strings.Contains(got.Reason, "not allowed") {
		t.Fatalf("Rejected[0] = %+v, want the original check-in and the server's reason", got)
	}
}

func TestConflicts(t *testing.T) {
	add := func(dev string, seq, hlc uint64, at, kana string, year int) syncproto.Op {
		return op(dev, seq, hlc, shelter.OpEvacueeAdd, shelter.Evacuee{Shelter: at, Kana: kana, BirthYear: year})
	}
	ed := func(dev string, seq, hlc uint64, record, field, value, prev string) syncproto.Op {
		return op(dev, seq, hlc, shelter.OpEvacueeEdit, shelter.Edit{Shelter: "s1", Record: record, Field: field, Value: value, Prev: prev})
	}
	now := uint64(hlc.Make(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC).UnixMilli(), 0))
	base := []syncproto.Op{
		add("tab-a", 1, now+1, "s1", "ヤマダ　タロウ", 1950),
		add("tab-b", 1, now+2, "s2", "やまだたろう", 1950), // same person, other shelter
		add("tab-b", 2, now+3, "s2", "ヤマダ　ハナコ", 1950),
		add("tab-a", 2, now+4, "s1", "スズキ", 1980),
	}
	tests := []struct {
		name  string
		ops   []syncproto.Op
		want  string
		value string // the name of tab-a.1 after the fold
	}{
		{"two shelters", base, "[{two_shelters [tab-a.1 tab-b.1]  []}]", ""},
		{"one edit, no conflict", append(slices.Clone(base),
			ed("tab-a", 3, now+10, "tab-a.1", "name", "山田 太郎", "")),
			"[{two_shelters [tab-a.1 tab-b.1]  []}]", "山田 太郎"},
		{"edits in sequence, no conflict", append(slices.Clone(base),
			ed("tab-a", 3, now+10, "tab-a.1", "name", "山田 太郎", ""),
			ed("tab-c", 1, now+20, "tab-a.1", "name", "山田 太朗", "tab-a.3")),
			"[{two_shelters [tab-a.1 tab-b.1]  []}]", "山田 太朗"},
		{"concurrent edits: later wins, both shown", append(slices.Clone(base),
			ed("tab-a", 3, now+10, "tab-a.1", "name", "山田 太郎", ""),
			ed("tab-c", 1, now+20, "tab-a.1", "name", "山田 多郎", "")),
			"[{edit [tab-a.1] name [山田 多郎 山田 太郎]} {two_shelters [tab-a.1 tab-b.1]  []}]", "山田 多郎"},
		{"a resolving edit ends the conflict", append(slices.Clone(base),
			ed("tab-a", 3, now+10, "tab-a.1", "name", "山田 太郎", ""),
			ed("tab-c", 1, now+20, "tab-a.1", "name", "山田 多郎", ""),
			ed("tab-c", 2, now+30, "tab-a.1", "name", "山田 太郎", "tab-c.1")),
			"[{two_shelters [tab-a.1 tab-b.1]  []}]", "山田 太郎"},
		{"checking out of one shelter ends the two-shelter match", append(slices.Clone(base),
			ed("tab-a", 3, now+10, "tab-a.1", "status", "left", "")),
			"[]", ""},
		{"a kana correction ends the two-shelter match", append(slices.Clone(base),
			ed("tab-a", 3, now+10, "tab-a.1", "kana", "やまだ じろう", "")),
			"[]", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := foldChecked(t, tt.ops)
			if got := fmt.Sprint(st.Conflicts()); got != tt.want {
				t.Fatalf("Conflicts = %s, want %s", got, tt.want)
			}
			if got := st.Evacuees["tab-a.1"].Name; got != tt.value {
				t.Fatalf("name = %q, want %q", got, tt.value)
			}
			// Same answer from any arrival order.
			r := rand.New(rand.NewPCG(3, 4))
			for range 20 {
				shuffled := slices.Clone(tt.ops)
				r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
				if got := fmt.Sprint(Fold(shuffled).Conflicts()); got != tt.want {
					t.Fatalf("order-dependent conflicts: %s", got)
				}
			}
		})
	}
}

func TestEditsRefused(t *testing.T) {
	now := uint64(hlc.Make(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC).UnixMilli(), 0))
	ops := []syncproto.Op{
		op("tab-a", 1, now, shelter.OpEvacueeAdd, shelter.Evacuee{Shelter: "s1", Kana: "ア", BirthYear: 1950}),
		op("tab-a", 2, now+1, shelter.OpEvacueeEdit, shelter.Edit{Shelter: "s1", Record: "tab-z.9", Field: "name", Value: "x"}),
		op("tab-a", 3, now+2, shelter.OpEvacueeEdit, shelter.Edit{Shelter: "s2", Record: "tab-a.1", Field: "name", Value: "x"}),
		op("tab-a", 4, now+3, shelter.OpEvacueeEdit, shelter.Edit{Shelter: "s1", Record: "tab-a.1", Field: "kana", Value: "abc"}),
		op("tab-a", 5, now+4, shelter.OpEvacueeEdit, shelter.Edit{Shelter: "s1", Record: "tab-a.1", Field: "birth_year", Value: "3000"}),
		op("tab-a", 6, now+5, shelter.OpEvacueeEdit, shelter.Edit{Shelter: "s1", Record: "tab-a.1", Field: "shelter", Value: "s9"}),
	}
	st := foldChecked(t, ops)
	if len(st.Rejected) != 5 {
		t.Fatalf("Rejected = %+v, want the 5 bad edits", st.Rejected)
	}
	if e := st.Evacuees["tab-a.1"]; e.Kana != "ア" || e.BirthYear != 1950 || e.Shelter != "s1" {
		t.Fatalf("a refused edit changed the record: %+v", e)
	}
}

// TestStatusHistory: a person's comings and goings are kept, each with
// its time, and the record shows the latest.
func TestStatusHistory(t *testing.T) {
	at := func(min int) uint64 {
		return uint64(hlc.Make(time.Date(2026, 1, 2, 10, min, 0, 0, time.UTC).UnixMilli(), 0))
	}
	add, _ := json.Marshal(shelter.Evacuee{Shelter: "s1", Kana: "カガ", BirthYear: 1950})
	ops := []syncproto.Op{{Device: "tab", Seq: 1, HLC: at(0), Kind: shelter.OpEvacueeAdd, Body: add}}
	for i, status := range []string{shelter.StatusOut, shelter.StatusIn, shelter.StatusLeft} {
		b, _ := json.Marshal(shelter.Edit{Shelter: "s1", Record: "tab.1", Field: shelter.FieldStatus, Value: status})
		ops = append(ops, syncproto.Op{Device: "tab", Seq: uint64(i + 2), HLC: at(10 * (i + 1)), Kind: shelter.OpEvacueeEdit, Body: b})
	}
	st := foldChecked(t, ops)
	h := st.History("tab.1", shelter.FieldStatus)
	if len(h) != 3 || h[0].Value != "out" || h[2].Value != "left" || h[1].At.Minute() != 20 {
		t.Fatalf("History = %+v", h)
	}
	if e := st.Evacuees["tab.1"]; e.Status != shelter.StatusLeft || e.Present() {
		t.Fatalf("record %+v, want left", e)
	}
}

// TestHospitalQueue: a patient number linked once is remembered (a later
// link replaces it); the day's queue lists that day's receptions at that
// hospital, in order; hospital records reach no feed but the hospital's.
func TestHospitalQueue(t *testing.T) {
	day := func(d, h int) uint64 {
		return uint64(hlc.Make(time.Date(2026, 11, d, h, 0, 0, 0, time.Local).UnixMilli(), 0))
	}
	mk := func(seq uint64, at uint64, kind string, body any) syncproto.Op {
		b, _ := json.Marshal(body)
		return syncproto.Op{Device: "rx", Seq: seq, HLC: at, Kind: kind, Body: b}
	}
	ops := []syncproto.Op{
		mk(1, day(29, 9), hospital.OpLink, hospital.Link{Facility: "h", Resident: "R-1", Patient: "111"}),
		mk(2, day(29, 10), hospital.OpReception, hospital.Reception{Facility: "h", Resident: "R-1", Patient: "111", Department: "internal", Via: hospital.ByFace}),
		mk(3, day(30, 9), hospital.OpLink, hospital.Link{Facility: "h", Resident: "R-1", Patient: "112"}),
		mk(4, day(30, 10), hospital.OpReception, hospital.Reception{Facility: "h", Resident: "R-1", Patient: "112", Department: "surgery", Via: hospital.ByFace}),
		mk(5, day(30, 9), hospital.OpReception, hospital.Reception{Facility: "h", Patient: "7", Department: "ent", Via: hospital.ByStaff}),
		mk(6, day(30, 11), hospital.OpReception, hospital.Reception{Facility: "other", Patient: "9", Department: "ent", Via: hospital.ByStaff}),
	}
	st := foldChecked(t, ops)
	if p := st.Patients["h"]["R-1"]; p != "112" {
		t.Fatalf("patient number %q, want the later link's", p)
	}
	q := st.Queue("h", time.Date(2026, 11, 30, 12, 0, 0, 0, time.Local))
	if len(q) != 2 || q[0].Patient != "7" || q[1].Patient != "112" || q[1].Department != "surgery" {
		t.Fatalf("queue %+v, want 7 then 112", q)
	}
	for _, op := range ops {
		if feeds := scope.Feeds(op); !reflect.DeepEqual(feeds, []string{scope.FacilityFeed(mustFacility(op))}) {
			t.Errorf("%s reaches %v, want its hospital's feed only", op.Kind, feeds)
		}
	}
}

func mustFacility(op syncproto.Op) string {
	var f struct{ Facility string }
	json.Unmarshal(op.Body, &f)
	return f.Facility
}
