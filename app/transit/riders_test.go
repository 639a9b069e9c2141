package transit_test

import (
	"errors"
	"testing"

	"smartpass.city/smartpass/app/fare"
	"smartpass.city/smartpass/app/transit"
)

// TestRiderRecords: what the server sends a vehicle of its riders is
// checked before it is stored, and a rider's facts turn into the fare
// engine's rider (the birth date for the class of the day, the handbook's
// last day, the passes, a pass sent again held once).
func TestRiderRecords(t *testing.T) {
	pass := fare.Pass{ID: "p1", Operator: operator, From: "2026-06-01", Until: "2026-06-30", Zones: []string{"Z1", "Z2"}, Class: fare.Adult}
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"profile", transit.Profile{Operator: operator, Resident: "r1", Birth: "2018-06-01", DisabilityUntil: "2027-03-31"}.Validate()},
		{"pass", transit.PassRecord{Resident: "r1", Pass: pass}.Validate()},
	} {
		if tc.err != nil {
			t.Errorf("%s: %v", tc.name, tc.err)
		}
	}
	bad := func(f func(*fare.Pass)) error {
		p := pass
		f(&p)
		return transit.PassRecord{Resident: "r1", Pass: p}.Validate()
	}
	for name, err := range map[string]error{
		"profile without birth":   transit.Profile{Operator: operator, Resident: "r1"}.Validate(),
		"profile with birth text": transit.Profile{Operator: operator, Resident: "r1", Birth: "H30.6.1"}.Validate(),
		"negative allowance":      transit.Profile{Operator: operator, Resident: "r1", Birth: "2018-06-01", Allowance: -1}.Validate(),
		"pass ends before":        bad(func(p *fare.Pass) { p.Until = "2026-05-31" }),
		"pass of nothing":         bad(func(p *fare.Pass) { p.Zones = nil }),
		"pass for a preschooler":  bad(func(p *fare.Pass) { p.Class = fare.Preschool }),
		"pass of no operator":     bad(func(p *fare.Pass) { p.Operator = "" }),
	} {
		if !errors.Is(err, transit.ErrRider) {
			t.Errorf("%s: %v, want %v", name, err, transit.ErrRider)
		}
	}
	f := transit.Facts{Profile: transit.Profile{Operator: operator, Resident: "r1", Birth: "2018-06-01", DisabilityUntil: "2027-03-31"}}
	f = f.WithPass(pass).WithPass(pass)
	r, ok := f.Rider()
	if !ok || len(r.Passes) != 1 || !r.Birth.Equal(jst("2018-06-01 00:00")) || !r.DisabilityUntil.Equal(jst("2027-03-31 00:00")) {
		t.Fatalf("rider %+v, %v", r, ok)
	}
	if _, ok := (transit.Facts{}).Rider(); ok {
		t.Error("a rider with no profile is priced")
	}
}
