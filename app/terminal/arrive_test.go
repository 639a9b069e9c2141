package terminal

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/hospital"
	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/app/state"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/syncproto"
)

// shelterState: a mother checked in and then out at s1, her son checked
// in at s1, her daughter nowhere yet, a neighbour checked in at s2, and
// a man with no household.
func shelterState(t *testing.T) *state.State {
	t.Helper()
	seq, base := uint64(0), uint64(hlc.Make(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).UnixMilli(), 0))
	op := func(kind string, body any) syncproto.Op {
		seq++
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		return syncproto.Op{Device: "tab", Seq: seq, HLC: base + seq, Kind: kind, Body: b}
	}
	profile := func(id, name, household string) syncproto.Op {
		return op(template.OpProfile, template.Profile{Resident: id, Facility: "s1", Name: name, BirthYear: 1980, Household: household, Declared: id == "girl"})
	}
	return state.Fold([]syncproto.Op{
		profile("mum", "母", "h1"), profile("boy", "息子", "h1"), profile("girl", "娘", "h1"), profile("man", "男", ""), profile("nbr", "隣", "h2"),
		op(shelter.OpEvacueeAdd, shelter.Evacuee{Shelter: "s1", Resident: "mum", Name: "母", BirthYear: 1980}), // tab.6
		op(shelter.OpEvacueeEdit, shelter.Edit{Shelter: "s1", Record: "tab.6", Field: shelter.FieldStatus, Value: shelter.StatusOut}),
		op(shelter.OpEvacueeAdd, shelter.Evacuee{Shelter: "s1", Resident: "boy", Name: "息子", BirthYear: 2015}), // tab.8
		op(shelter.OpEvacueeAdd, shelter.Evacuee{Shelter: "s2", Resident: "nbr", Name: "隣", BirthYear: 1970}),  // tab.9
	})
}

func TestArrive(t *testing.T) {
	st := shelterState(t)
	for _, tc := range []struct {
		resident, result string
		add, edit        bool
		family           []string
		declared         bool
	}{
		{"mum", ArrivedBack, false, true, []string{"girl"}, false},
		{"boy", ArrivedAlready, false, false, []string{"girl"}, false}, // mum has a record here, out or not
		{"girl", ArrivedIn, true, false, nil, true},
		{"man", ArrivedIn, true, false, nil, false},
		{"nbr", ArrivedIn, true, false, nil, false}, // in at another shelter: a record here too
	} {
		t.Run(tc.resident, func(t *testing.T) {
			a := Arrive(st, "s1", tc.resident)
			if a.Result != tc.result || (a.Add != nil) != tc.add || (a.Edit != nil) != tc.edit || !slices.Equal(a.Family, tc.family) || a.Declared != tc.declared {
				t.Fatalf("Arrive = %+v", a)
			}
			if a.Add != nil && (a.Add.Shelter != "s1" || a.Add.Resident != tc.resident || a.Add.Name == "") {
				t.Fatalf("record %+v", *a.Add)
			}
			if a.Edit != nil && (a.Edit.Record != "tab.6" || a.Edit.Value != shelter.StatusIn || a.Edit.Prev != "tab.7") {
				t.Fatalf("edit %+v, want tab.6 in after tab.7", *a.Edit)
			}
		})
	}
}

func TestArriveBySlip(t *testing.T) {
	st := shelterState(t)
	for _, tc := range []struct {
		name, slipShelter, record string
		ok                        bool
		result                    string
	}{
		{"out: back", "s1", "tab.6", true, ArrivedBack},
		{"in already", "s1", "tab.8", true, ArrivedAlready},
		{"another shelter's slip", "s2", "tab.9", false, ""},
		{"a slip naming this shelter for another's record", "s1", "tab.9", false, ""},
		{"not held", "s1", "tab.99", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, ok := ArriveBySlip(st, "s1", tc.slipShelter, tc.record)
			if ok != tc.ok || a.Result != tc.result || a.Add != nil {
				t.Fatalf("ArriveBySlip = %+v, %v", a, ok)
			}
		})
	}
	if fam := FamilyRecords(st, "s1", []string{"girl"}); len(fam) != 1 || fam[0].Resident != "girl" || fam[0].Shelter != "s1" {
		t.Fatalf("FamilyRecords = %+v", fam)
	}
}

func TestReception(t *testing.T) {
	now := time.Date(2026, 12, 1, 11, 0, 0, 0, time.Local)
	at := uint64(hlc.Make(now.Add(-time.Hour).UnixMilli(), 0))
	link, _ := json.Marshal(hospital.Link{Facility: "h", Resident: "R-1", Patient: "P7"})
	prof, _ := json.Marshal(template.Profile{Resident: "R-1", Facility: "h", Medication: true})
	earlier, _ := json.Marshal(hospital.Reception{Facility: "h", Patient: "9", Department: "ent", Via: hospital.ByStaff})
	st := state.Fold([]syncproto.Op{
		{Device: "rx", Seq: 1, HLC: at, Kind: hospital.OpLink, Body: link},
		{Device: "srv", Seq: 1, HLC: at, Kind: template.OpProfile, Body: prof},
		{Device: "rx", Seq: 2, HLC: at + 1, Kind: hospital.OpReception, Body: earlier},
	})
	if r := OpenReception(st, "h", "R-1"); r.Patient != "P7" || !r.Linked || !slices.Equal(r.Shares, []string{"medication"}) {
		t.Fatalf("OpenReception(R-1) = %+v", r)
	}
	if r := OpenReception(st, "h", "R-2"); r.Patient != "" || r.Linked || r.Shares != nil {
		t.Fatalf("OpenReception(R-2) = %+v", r)
	}
	for _, tc := range []struct {
		typed, want string
		ok          bool
	}{{" p8 ", "P8", true}, {"", "", false}} {
		l, err := Link("h", "R-2", tc.typed)
		if (err == nil) != tc.ok || (tc.ok && l.Patient != tc.want) {
			t.Errorf("Link(%q) = %+v, %v", tc.typed, l, err)
		}
	}
	r, n, err := Receive(st, "h", "R-1", "p7", "internal", hospital.ByFace, []string{"medication"}, now)
	if err != nil || n != 2 || r.Patient != "P7" || r.Department != "internal" {
		t.Fatalf("Receive = %+v, %d, %v; want number 2 after the earlier one", r, n, err)
	}
	if _, _, err := Receive(st, "h", "R-1", "", "internal", hospital.ByFace, nil, now); err == nil {
		t.Fatal("a reception with no patient number was accepted")
	}
}
