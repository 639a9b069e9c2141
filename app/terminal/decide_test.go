package terminal

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"smartpass.city/smartpass/app/face/gallery"
	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/playpark"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/state"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/syncproto"
)

func TestRoles(t *testing.T) {
	for _, tc := range []struct {
		role              scope.Role
		identifies, turns bool
	}{
		{scope.PlayPark, true, true},
		{scope.Reception, true, true},
		{scope.Shelter, true, false},
		{scope.HQ, false, false},
		{scope.Registrar, false, false},
		{"", false, false},
	} {
		if got := Identifies(tc.role); got != tc.identifies {
			t.Errorf("Identifies(%q) = %v", tc.role, got)
		}
		if got := AsksTurn(tc.role); got != tc.turns {
			t.Errorf("AsksTurn(%q) = %v", tc.role, got)
		}
	}
}

func TestMatch(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	templates := map[string]template.Template{
		"R-1": {Resident: "R-1"},
		"R-2": {Resident: "R-2", Expires: now.Add(-time.Hour)},
		"R-3": {Resident: "R-3", Expires: now.Add(time.Hour)},
	}
	for _, tc := range []struct {
		name              string
		d                 gallery.Decision
		outcome, resident string
	}{
		{"accepted", gallery.Decision{ID: "R-1", Accepted: true}, identify.Accepted, "R-1"},
		{"accepted, not expired yet", gallery.Decision{ID: "R-3", Accepted: true}, identify.Accepted, "R-3"},
		{"expired", gallery.Decision{ID: "R-2", Accepted: true}, identify.Expired, "R-2"},
		{"two too close", gallery.Decision{ID: "R-1", Reason: "ambiguous"}, identify.Ambiguous, ""},
		{"nobody close", gallery.Decision{Reason: "no_match"}, identify.Unknown, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if o, r := Match(tc.d, templates, now); o != tc.outcome || r != tc.resident {
				t.Fatalf("Match = %s %q, want %s %q", o, r, tc.outcome, tc.resident)
			}
		})
	}
}

// parkProfiles: a father (not eligible), his two children (one eligible
// now, one too old), and a child of another household whose facts a
// guardian declared.
func parkProfiles(now time.Time) map[string]template.Profile {
	band := func(b string, from time.Time) []template.Band { return []template.Band{{Band: b, From: from}} }
	return map[string]template.Profile{
		"dad":   {Resident: "dad", Household: "h1", Local: true},
		"kid":   {Resident: "kid", Household: "h1", Local: true, Bands: band(playpark.Elementary, now.AddDate(-1, 0, 0))},
		"teen":  {Resident: "teen", Household: "h1", Local: true, Bands: band("junior_high", now.AddDate(-1, 0, 0))},
		"small": {Resident: "small", Household: "h2", Local: true, Declared: true, Bands: band(playpark.Preschool, now.AddDate(-2, 0, 0))},
		"away":  {Resident: "away", Local: false, Bands: band(playpark.Elementary, now.AddDate(-1, 0, 0))},
	}
}

func TestAnswerPark(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	st := &state.State{Profiles: parkProfiles(now)}
	for _, tc := range []struct {
		resident string
		want     Park
	}{
		{"dad", Park{Profiled: true, Children: []string{"kid"}}},
		{"kid", Park{Profiled: true, Eligible: true, Band: playpark.Elementary}},
		{"teen", Park{Profiled: true, Band: "junior_high", Children: []string{"kid"}}},
		{"small", Park{Profiled: true, Eligible: true, Band: playpark.Preschool, Declared: true}},
		{"away", Park{Profiled: true, Band: playpark.Elementary}},
		{"nobody", Park{}},
	} {
		t.Run(tc.resident, func(t *testing.T) {
			got := AnswerPark(st, tc.resident, now)
			if got.Profiled != tc.want.Profiled || got.Eligible != tc.want.Eligible || got.Band != tc.want.Band ||
				got.Declared != tc.want.Declared || !slices.Equal(got.Children, tc.want.Children) {
				t.Fatalf("AnswerPark = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParkCounts(t *testing.T) {
	now := time.Date(2026, 12, 1, 15, 0, 0, 0, time.Local)
	profiles := parkProfiles(now)
	seq := uint64(0)
	op := func(dev string, at time.Time, i identify.Identification) syncproto.Op {
		seq++
		b, _ := json.Marshal(i)
		return syncproto.Op{Device: dev, Seq: seq, HLC: uint64(hlc.Make(at.UnixMilli(), 0)), Kind: identify.OpIdentified, Body: b}
	}
	morning, yesterday := now.Add(-5*time.Hour), now.AddDate(0, 0, -1)
	face := func(r, outcome string) identify.Identification {
		return identify.Identification{Resident: r, Method: identify.MethodFace, Outcome: outcome}
	}
	staff := identify.Identification{Method: identify.MethodStaff, Outcome: identify.Accepted, Band: playpark.Preschool}
	for _, tc := range []struct {
		name                  string
		ops                   []syncproto.Op
		preschool, elementary int
	}{
		{"none", nil, 0, 0},
		{"a child, twice, counts once", []syncproto.Op{op("park", morning, face("kid", identify.Accepted)), op("park", now, face("kid", identify.Accepted))}, 0, 1},
		{"refused or not eligible: not counted", []syncproto.Op{op("park", now, face("kid", identify.Unknown)), op("park", now, face("dad", identify.Accepted)), op("park", now, face("away", identify.Accepted))}, 0, 0},
		{"by sight, each counts", []syncproto.Op{op("park", now, staff), op("park", now, staff)}, 2, 0},
		{"yesterday's and another terminal's: not counted", []syncproto.Op{op("park", yesterday, face("kid", identify.Accepted)), op("gate-2", now, face("small", identify.Accepted))}, 0, 0},
		{"other kinds ignored", []syncproto.Op{{Device: "park", Seq: 99, HLC: uint64(hlc.Make(now.UnixMilli(), 0)), Kind: template.OpPut, Body: []byte(`{}`)}}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ParkCounts(tc.ops, "park", profiles, now)
			if c[playpark.Preschool] != tc.preschool || c[playpark.Elementary] != tc.elementary {
				t.Fatalf("counts %v, want preschool %d elementary %d", c, tc.preschool, tc.elementary)
			}
		})
	}
}
