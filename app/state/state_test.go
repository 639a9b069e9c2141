package state

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"smartpass.city/smartpass/app/facility"
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
	}
	want := Fold(ops)
	if got := want.Facilities["s1"].NameJA; got != "新名" {
		t.Fatalf("last writer by HLC: name = %q, want 新名", got)
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
	st := Fold([]syncproto.Op{refused})
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
