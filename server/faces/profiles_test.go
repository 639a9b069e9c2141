package faces

import (
	"strconv"
	"testing"
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/playpark"
	"smartpass.city/smartpass/app/template"
)

// TestProfileFor: each kind of facility learns its own part of a
// resident and nothing else; consents in the account reach the shelter
// (disclosure) and the hospital (medication).
func TestProfileFor(t *testing.T) {
	child := account.Account{ID: "R-2", Guardian: "R-1", Source: account.SourceCardRead,
		Facts:    card.Facts{Name: "加賀\u3000花子", Address: "石川県加賀市大聖寺南町", BirthDate: "20180505", Sex: "2"},
		Consents: map[string]bool{account.PurposeDisclosure: true, account.PurposeMedication: true}}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		kind  facility.Kind
		check func(string) bool
	}{
		{facility.PlayPark, func(s string) bool { return s == "elementary local R-1 false false 0" }},
		{facility.Shelter, func(s string) bool { return s == " false R-1 true false 2018" }},
		{facility.Hospital, func(s string) bool { return s == " false R-1 false true 0" }},
		// A transit operator's template profile holds nothing of her:
		// its rider facts are server/fares' (FaceFacts).
		{facility.Transit, func(s string) bool { return s == " false R-1 false false 0" }},
	} {
		p, err := profileFor(facility.Facility{ID: "f", Kind: tt.kind}, child, child.Guardian, "加賀市")
		if err != nil {
			t.Fatal(err)
		}
		local := map[bool]string{true: "local", false: "false"}[p.Local]
		got := p.BandAt(now) + " " + local + " " + p.Household + " " + map[bool]string{true: "true", false: "false"}[p.Disclose] +
			" " + map[bool]string{true: "true", false: "false"}[p.Medication] + " " + strconv.Itoa(p.BirthYear)
		if !tt.check(got) {
			t.Errorf("%s profile: %q", tt.kind, got)
		}
		if tt.kind != facility.Shelter && (p.Name != "" || p.Sex != "" || p.BirthYear != 0) {
			t.Errorf("%s learns her name, sex or birth year: %+v", tt.kind, p)
		}
		if tt.kind != facility.PlayPark && len(p.Bands) > 0 {
			t.Errorf("%s learns her age bands", tt.kind)
		}
	}
	if !playpark.Eligible(mustProfile(t, facility.PlayPark, child), now) {
		t.Error("a resident child is not eligible at the park")
	}
	// Her facts as her guardian's word only (issue 16, finding 2): every
	// facility is told, and the park grants no free entry by them.
	declared := child
	declared.Source = account.SourceDeclared
	for _, kind := range []facility.Kind{facility.PlayPark, facility.Shelter, facility.Hospital} {
		if p := mustProfile(t, kind, declared); !p.Declared {
			t.Errorf("%s is not told her facts are self-declared", kind)
		}
		if p := mustProfile(t, kind, child); p.Declared {
			t.Errorf("%s is told her card-read facts are self-declared", kind)
		}
	}
	if playpark.Eligible(mustProfile(t, facility.PlayPark, declared), now) {
		t.Error("a self-declared resident child is eligible at the park")
	}
	child.Facts.Address = "石川県小松市"
	if playpark.Eligible(mustProfile(t, facility.PlayPark, child), now) {
		t.Error("a child of another city is eligible at the park")
	}
}

func mustProfile(t *testing.T, kind facility.Kind, a account.Account) template.Profile {
	t.Helper()
	p, err := profileFor(facility.Facility{ID: "f", Kind: kind}, a, a.Guardian, "加賀市")
	if err != nil {
		t.Fatal(err)
	}
	return p
}
