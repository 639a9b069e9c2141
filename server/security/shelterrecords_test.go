package security

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/syncproto"
)

// TestShelterRecordsValidated performs finding 7 of issue 16: an
// enrolled shelter tablet pushes records the app would never write (a
// reading that is markup, a birth year of 3000, a clock of 2^64−1 that
// beats every later correction, a correction to the year 3000, a name
// with a newline) between two good ones. The real server refuses each
// bad one with a verdict the tablet receives, its queue moves on, and
// the HQ's feed never carries them; the good record named as a formula
// reaches the HQ, whose roster CSV writes it as text. Failed before the
// fix: all five bad records were stored and sent to the HQ, and the CSV
// cell started with "=".
func TestShelterRecordsValidated(t *testing.T) {
	p := domainServer(t)
	const at = "shelter-daishoji"
	tablet := domainEnroll(t, p, "records-tablet", at, "shelter")
	hq := domainEnroll(t, p, "records-hq", "kaga-hq", "hq")

	good := shelter.Evacuee{Shelter: at, Name: `=HYPERLINK("http://x","y")`, Kana: "カガ", BirthYear: 1980}
	markup := shelter.Evacuee{Shelter: at, Kana: "<script>alert(1)</script>", BirthYear: 1980}
	future := shelter.Evacuee{Shelter: at, Kana: "ミライ", BirthYear: 3000}
	clock := domainOp(t, 4, shelter.OpEvacueeAdd, shelter.Evacuee{Shelter: at, Kana: "トケイ", BirthYear: 1980})
	clock.HLC = math.MaxUint64
	ops := append(append(domainOps(t, 1, shelter.OpEvacueeAdd, good, markup, future), clock),
		domainOp(t, 5, shelter.OpEvacueeEdit, shelter.Edit{Shelter: at, Record: "records-tablet.1", Field: shelter.FieldBirthYear, Value: "3000"}),
		domainOp(t, 6, shelter.OpEvacueeAdd, shelter.Evacuee{Shelter: at, Name: "山田\n2026-01-01\tadmin", Kana: "ヤマダ", BirthYear: 1980}),
		domainOp(t, 7, shelter.OpEvacueeAdd, shelter.Evacuee{Shelter: at, Kana: "アト", BirthYear: 1990}),
	)
	bad := map[uint64]bool{2: true, 3: true, 4: true, 5: true, 6: true}

	refusals, acked := tablet.push(ops...)
	if acked != 7 {
		t.Fatalf("acked %d, want 7: the tablet's queue must move on", acked)
	}
	if len(refusals) == 0 {
		t.Fatal("the server refused nothing")
	}
	for seq := range bad {
		if !strings.Contains(refusals[0].Message, fmt.Sprintf("op %d ", seq)) {
			t.Errorf("op %d is not among the refusals: %s", seq, refusals[0].Message)
		}
	}

	// The tablet's own feed holds its verdicts, with clocks the server
	// accepts.
	limit := hlc.Limit(time.Now())
	verdicts := 0
	for _, op := range tablet.pull(scope.FacilityFeed(at)) {
		if op.Device != tablet.id {
			continue
		}
		if op.HLC > limit {
			t.Errorf("op %d stored with a clock of %d, past the server's limit", op.Seq, op.HLC)
		}
		if bad[op.Seq] != (op.Kind == scope.OpRejected) {
			t.Errorf("op %d stored as %s", op.Seq, op.Kind)
		}
		if op.Kind == scope.OpRejected {
			verdicts++
		}
	}
	if verdicts != len(bad) {
		t.Errorf("the tablet receives %d verdicts, want %d", verdicts, len(bad))
	}

	// The HQ sees the good records and nothing of the bad ones.
	var roster []shelter.Evacuee
	for _, op := range hq.pull(scope.FeedHQ) {
		if op.Device != tablet.id {
			continue
		}
		if bad[op.Seq] || op.HLC > limit {
			t.Errorf("the HQ's feed carries op %d (%s): %s", op.Seq, op.Kind, op.Body)
			continue
		}
		var e shelter.Evacuee
		if err := json.Unmarshal(op.Body, &e); err != nil {
			t.Fatal(err)
		}
		roster = append(roster, e)
	}
	if len(roster) != 2 {
		t.Fatalf("the HQ received %d of the 2 good records", len(roster))
	}

	// The HQ's roster CSV: the name is text, not a formula.
	var b bytes.Buffer
	if err := shelter.WriteRoster(&b, roster, func(string) string { return at }, "ja"); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b.Bytes(), []byte("\xEF\xBB\xBF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if name := rows[1][1]; name != `'`+good.Name {
		t.Errorf("the roster's name cell is %q: a spreadsheet runs it as a formula", name)
	}
	domainAuditIntact(t, p)
}

// domainOps numbers one op of kind per body, from seq on.
func domainOps[T any](t *testing.T, seq uint64, kind string, bodies ...T) []syncproto.Op {
	t.Helper()
	var out []syncproto.Op
	for i, b := range bodies {
		out = append(out, domainOp(t, seq+uint64(i), kind, b))
	}
	return out
}
