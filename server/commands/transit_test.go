package commands_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/fare"
	"smartpass.city/smartpass/app/gtfsjp"
	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/app/transit"
	"smartpass.city/smartpass/app/transit/demofeed"
	"smartpass.city/smartpass/server/audit"
	"smartpass.city/smartpass/server/commands"
)

const config = `{"fares": {"account": "operator:kaga-demo", "child": {"percent": 50, "round_up": 10},
 "infant_under": 1, "free_preschoolers": 2, "disability": {"percent": 50, "round_up": 10}, "carers": 1,
 "unalighted": "trip_end"}, "clock_tolerance_minutes": 60, "grace_minutes": 30}`

// TestTransitImport: the command stores a feed on the operator's feed,
// where its vehicles pull it, refuses one for a facility that is no
// operator and a malformed feed with its file and line, and audits each
// import.
func TestTransitImport(t *testing.T) {
	l, set := newSet(t)
	bus := facility.Facility{ID: "kaga-demo", Kind: facility.Transit, NameJA: "加賀デモ交通"}
	for _, f := range []facility.Facility{bus, facility.Demo()[0]} {
		if _, err := set.Do("facility", []string{commands.Arg(f)}); err != nil {
			t.Fatal(err)
		}
	}
	run := func(req commands.TransitImport) (commands.Reply, error) {
		return set.Do("transit-import", []string{commands.Arg(req)})
	}
	reply, err := run(commands.TransitImport{Operator: bus.ID, Feed: demofeed.Feed(), Config: []byte(config)})
	if err != nil || reply.Import == "" {
		t.Fatalf("import: %+v, %v", reply, err)
	}
	var ps opkind.Parts
	ops, err := l.Since(opkind.FacilityFeed(bus.ID), 0, 1000, 8<<20)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range ops {
		opkind.Fold(&ps, op)
	}
	s, err := transit.SettlementOn(&ps, bus.ID, mustDay(t, "2026-04-01"))
	if err != nil {
		t.Fatalf("the vehicle's feed holds no network from the feed's first day: %v", err)
	}
	if route, ok := s.Network.Route("line-0800"); !ok || route != "line" || s.Tables[0].Routes["line"].Zones["Z1"]["Z4"] != 380 {
		t.Errorf("network: route %q %v, tables %+v", route, ok, s.Tables)
	}

	if _, err := run(commands.TransitImport{Operator: "kaga-medical", Feed: demofeed.Feed(), Config: []byte(config)}); err == nil {
		t.Error("a hospital took a bus feed")
	}
	bad := demofeed.Files()
	bad["fare_rules.txt"] = []byte(strings.Replace(string(bad["fare_rules.txt"]), "Z1,Z3,", "Z1,Z9,", 1))
	_, err = run(commands.TransitImport{Operator: bus.ID, Feed: demofeed.Zip(bad), Config: []byte(config)})
	if !errors.Is(err, gtfsjp.ErrReference) || !strings.Contains(err.Error(), "fare_rules.txt line 5: zone Z9") {
		t.Errorf("a bad feed: %v", err)
	}
	var imports []audit.Entry
	if _, err := audit.New(l).Verify(func(e audit.Entry) {
		if e.Action == "transit.import" {
			imports = append(imports, e)
		}
	}); err != nil || len(imports) != 1 || imports[0].Subject != bus.ID || !strings.Contains(imports[0].Detail, reply.Import) {
		t.Errorf("audit: %+v, %v", imports, err)
	}
}

func mustDay(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := fare.ParseDay(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
