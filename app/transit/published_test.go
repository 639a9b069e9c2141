package transit_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"smartpass.city/smartpass/app/fare"
	"smartpass.city/smartpass/app/gtfsjp"
	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/app/transit"
	"smartpass.city/smartpass/app/transit/demofeed"
	"smartpass.city/smartpass/syncproto"
)

// publish compiles a feed as the server's import and returns its ops.
func publish(t *testing.T, files map[string][]byte, from string, seq *uint64) []syncproto.Op {
	t.Helper()
	feed, err := gtfsjp.ReadFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	b := demofeed.Config()
	c, err := transit.ParseConfig(b)
	if err != nil {
		t.Fatal(err)
	}
	parts, err := transit.Compile(operator, from, feed, c)
	if err != nil {
		t.Fatal(err)
	}
	var ops []syncproto.Op
	for _, p := range parts {
		body, _ := json.Marshal(p)
		if len(body) > syncproto.MaxOpBody {
			t.Fatalf("part %d is %d bytes", p.Part, len(body))
		}
		*seq++
		ops = append(ops, syncproto.Op{Device: "server", Seq: *seq, HLC: *seq, Kind: transit.OpNetwork, Body: body})
	}
	return ops
}

// A second import from a later day replaces the first from that day on:
// rides before it keep the first's fares.
func TestImportReplacesFromItsDay(t *testing.T) {
	var seq uint64
	first := publish(t, demofeed.Files(), "2026-04-01", &seq)
	raised := demofeed.Files()
	raised["fare_attributes.txt"] = []byte(strings.Replace(string(raised["fare_attributes.txt"]), "loop-flat,210,", "loop-flat,250,", 1))
	second := publish(t, raised, "2026-10-01", &seq)

	var ps opkind.Parts
	for _, op := range append(first, second[1:]...) {
		opkind.Fold(&ps, op)
	}
	if rs := *opkind.Rejections.In(&ps); len(rs) != 0 {
		t.Fatalf("rejected %+v", rs)
	}
	// The second import lacks its first part: not in force yet.
	if s, err := transit.SettlementOn(&ps, operator, jst("2026-10-05 09:00")); err != nil || len(s.Tables) != 1 {
		t.Fatalf("an incomplete import is in force: %v, %d tables", err, len(s.Tables))
	}
	opkind.Fold(&ps, second[0])

	riders := map[string]fare.Rider{"r": {Birth: jst("1985-05-05 00:00")}}
	for _, c := range []struct {
		day  string
		want int
	}{{"2026-09-30", 210}, {"2026-10-01", 250}, {"2026-06-10", 210}} {
		s, err := transit.SettlementOn(&ps, operator, jst(c.day+" 09:00"))
		if err != nil {
			t.Fatal(err)
		}
		ride := transit.Ride{ID: "x", Facility: operator, Trip: "loop-0900", Day: c.day, Resident: "r", Party: "x",
			Board: transit.Tap{Facility: operator, Trip: "loop-0900", Day: c.day, Stop: "L1", Resident: "r", At: jst(c.day + " 09:00"), Via: transit.ByFace}}
		charges, unpriced := s.Charges([]transit.Ride{ride}, riders, jst(c.day+" 09:00"))
		if len(unpriced) != 0 || len(charges) != 1 || charges[0].Amount != c.want {
			t.Errorf("%s: %+v %+v, want ¥%d", c.day, charges, unpriced, c.want)
		}
		if st, ok := s.Network.Stop("L1"); !ok || st.Reading != "でもおんせんえきまえ" || st.NameEN != "Demo Onsen Station" {
			t.Errorf("%s: stop L1 %+v", c.day, st)
		}
	}
	if _, err := transit.SettlementOn(&ps, operator, jst("2026-03-31 09:00")); !errors.Is(err, transit.ErrNoNetwork) {
		t.Errorf("before the first import: %v", err)
	}
}

func TestPartValidate(t *testing.T) {
	c := transit.Config{}
	for _, p := range []transit.Part{
		{Operator: operator, Import: "i", From: "2026-04-01", Part: 1, Of: 1},
		{Operator: operator, Import: "i", From: "2026-04-01", Part: 0, Of: 2},
		{Operator: operator, Import: "i", From: "2026-04-01", Part: 1, Of: 2, Config: &c},
		{Operator: "", Import: "i", From: "2026-04-01", Part: 0, Of: 1, Config: &c},
		{Operator: operator, Import: "i", From: "April", Part: 0, Of: 1, Config: &c},
	} {
		if err := p.Validate(); !errors.Is(err, transit.ErrImport) {
			t.Errorf("%+v: %v", p, err)
		}
	}
}
