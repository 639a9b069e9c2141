package emergency

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"smartpass.city/smartpass/app/face/embed"
	"smartpass.city/smartpass/app/face/gallery"
	"smartpass.city/smartpass/app/face/risk"
	"smartpass.city/smartpass/app/fhirjp"
	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/medical"
	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/syncproto"
)

const n = 40 // templates at the emergency tablet

// net is the network the tests' scores are on.
var net = embed.ModelName

// basis is the measured basis of net.
func basis(t *testing.T) *risk.Basis {
	b, err := risk.BasisOf(net)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func rule(t *testing.T) risk.Policy {
	p, ok := basis(t).For(risk.HospitalEmergency, n)
	if !ok {
		t.Fatal("no emergency rule")
	}
	return p
}

func TestRuleIsStricterThanReception(t *testing.T) {
	e, r := rule(t), basis(t).ForFacility("hospital", n)
	if e.Decision.Threshold < r.Decision.Threshold || e.Decision.Margin < r.Decision.Margin || e.TurnCheck {
		t.Errorf("emergency %+v is not stricter than reception %+v (and without the turn check)", e.Decision, r.Decision)
	}
}

func TestDecide(t *testing.T) {
	p := rule(t)
	th, m := p.Decision.Threshold, p.Decision.Margin
	clear := []gallery.Match{{ID: "adult", Score: th + 0.01}, {ID: "other", Score: th - 0.3}}
	cases := []struct {
		name    string
		top     []gallery.Match
		reason  string
		outcome string
		err     error
	}{
		{"no reason", clear, "", "", ErrNoReason},
		{"a blank reason", clear, "  　", "", ErrNoReason},
		{"unregistered face", []gallery.Match{{ID: "x", Score: th - 0.2}, {ID: "y", Score: th - 0.3}}, "意識なし 救急搬送", NotIdentified, nil},
		{"empty gallery", nil, "意識なし", NotIdentified, nil},
		{"two close", []gallery.Match{{ID: "twin1", Score: th + 0.02}, {ID: "twin2", Score: th + 0.02 - m/2}}, "意識なし", Unclear, nil},
		{"one clear", clear, "意識なし 救急搬送", map[bool]string{true: Proposed, false: Identified}[p.SecondFactor == risk.Always], nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := Decide(c.top, net, n, c.reason)
			if !errors.Is(err, c.err) || d.Outcome != c.outcome {
				t.Fatalf("Decide = %+v %v, want %s %v", d, err, c.outcome, c.err)
			}
			if d.Outcome != Identified && d.Resident != "" {
				t.Errorf("%s names %q", d.Outcome, d.Resident)
			}
			if (d.Outcome == Unclear || d.Outcome == NotIdentified) && slices.Contains(d.Next, NextSecond) {
				t.Errorf("%s offers a second member of staff", d.Outcome)
			}
		})
	}
}

func TestConfirm(t *testing.T) {
	p := rule(t)
	if p.SecondFactor != risk.Always {
		t.Skip("the emergency rule lets the face alone decide at this size: nothing to confirm")
	}
	th := p.Decision.Threshold
	d, _ := Decide([]gallery.Match{{ID: "adult", Score: th + 0.01}, {ID: "other", Score: 0.1}}, net, n, "意識なし")
	if _, err := ConfirmBySecond(d, "nurse1", "nurse1"); !errors.Is(err, ErrConfirm) {
		t.Errorf("the same person twice: %v", err)
	}
	if _, err := ConfirmBySecond(d, "nurse1", ""); !errors.Is(err, ErrConfirm) {
		t.Errorf("no second: %v", err)
	}
	unclear, _ := Decide([]gallery.Match{{ID: "a", Score: th + 0.02}, {ID: "b", Score: th + 0.02}}, net, n, "意識なし")
	if _, err := ConfirmBySecond(unclear, "nurse1", "doctor1"); !errors.Is(err, ErrConfirm) {
		t.Errorf("confirming look-alikes: %v", err)
	}
	ok, err := ConfirmBySecond(d, "nurse1", "doctor1")
	if err != nil || ok.Outcome != Identified || ok.Resident != "adult" {
		t.Errorf("confirmed: %+v %v", ok, err)
	}
	byCard, conflict, err := ConfirmByCard(d, "someone-else")
	if err != nil || !conflict || byCard.Resident != "someone-else" {
		t.Errorf("card disagreeing with the face: %+v %v %v", byCard, conflict, err)
	}
	if _, _, err := ConfirmByCard(unclear, ""); !errors.Is(err, ErrConfirm) {
		t.Errorf("a card of nobody: %v", err)
	}
}

func record(t *testing.T, now time.Time) *medical.Record {
	ref := "Patient/B-1"
	docs := []any{
		fhirjp.AllergyOf("a", ref, "ペニシリン", "medication", "high"),
		fhirjp.MedicationStatementOf("m1", ref, fhirjp.Medication{Name: "アムロジピン錠５ｍｇ", Start: now.AddDate(0, 0, -10), End: now.AddDate(0, 0, 18)}, now),
		fhirjp.MedicationStatementOf("m2", ref, fhirjp.Medication{Name: "抗生物質（終了）", Start: now.AddDate(0, -2, 0), End: now.AddDate(0, -1, 0)}, now),
		fhirjp.ConditionOf("c", ref, "高血圧症", true, time.Time{}),
	}
	s := medical.Summary{Hospital: "hospA", Resident: "adult", Patient: "B-1", Visit: now.AddDate(0, 0, -10)}
	for _, d := range docs {
		b, err := fhirjp.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		s.Documents = append(s.Documents, b)
	}
	body, _ := json.Marshal(s)
	var p opkind.Parts
	opkind.Fold(&p, syncproto.Op{Device: "tabA", Seq: 1, HLC: hlc.Make(now.Add(-time.Hour).UnixMilli(), 0), Kind: medical.OpSummary, Body: body})
	return medical.Records.In(&p)
}

func TestSummary(t *testing.T) {
	now := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	rec := record(t, now)
	d := Decision{Outcome: Identified, Resident: "adult"}
	s, err := SummaryOf(d, rec, "hospB", "nurse1", "意識なし 救急搬送", Contact{Name: "加賀　花子", Phone: "090-0000-0000"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Allergies, []string{"ペニシリン（重篤）"}) || !slices.Equal(s.Medication, []string{"アムロジピン錠５ｍｇ"}) || !slices.Equal(s.Conditions, []string{"高血圧症"}) {
		t.Errorf("summary %+v", s)
	}
	if !s.Showing(now.Add(ShowFor-time.Second)) || s.Showing(now.Add(ShowFor)) {
		t.Errorf("shown until %v", s.Until)
	}
	if a := s.Access; a.Purpose != medical.PurposeEmergency || a.Reason != "意識なし 救急搬送" || a.Validate() != nil || len(a.Summaries) != 1 {
		t.Errorf("access %+v: %v", a, a.Validate())
	}
	for _, bad := range []Decision{{Outcome: NotIdentified}, {Outcome: Unclear}, {Outcome: Proposed}} {
		if _, err := SummaryOf(bad, rec, "hospB", "nurse1", "意識なし", Contact{}, now); !errors.Is(err, ErrConfirm) {
			t.Errorf("%s shows a summary: %v", bad.Outcome, err)
		}
	}
	if _, err := SummaryOf(d, rec, "hospB", "nurse1", "", Contact{}, now); !errors.Is(err, ErrNoReason) {
		t.Errorf("no reason: %v", err)
	}
}

func TestUses(t *testing.T) {
	for _, c := range []struct {
		name string
		u    Use
		ok   bool
	}{
		{"identified by a second", Use{Hospital: "h", Staff: "n1", Second: "d1", Reason: "意識なし", Method: NextSecond, Outcome: Identified, Resident: "adult"}, true},
		{"not identified", Use{Hospital: "h", Staff: "n1", Reason: "意識なし", Method: "face", Outcome: NotIdentified}, true},
		{"no reason", Use{Hospital: "h", Staff: "n1", Method: "face", Outcome: NotIdentified}, false},
		{"unclear naming someone", Use{Hospital: "h", Staff: "n1", Reason: "r", Method: "face", Outcome: Unclear, Resident: "a"}, false},
		{"second who is the first", Use{Hospital: "h", Staff: "n1", Second: "n1", Reason: "r", Method: NextSecond, Outcome: Identified, Resident: "a"}, false},
	} {
		if err := c.u.Validate(); c.ok != (err == nil) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	var p opkind.Parts
	at := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	for i, u := range []Use{
		{Hospital: "h", Staff: "n1", Reason: "r", Method: "face", Outcome: NotIdentified},
		{Hospital: "h", Staff: "n1", Second: "d1", Reason: "r", Method: NextSecond, Outcome: Identified, Resident: "adult"},
		{Hospital: "h", Staff: "n1", Reason: "r", Method: NextCard, Outcome: Identified, Resident: "stranger"},
	} {
		b, _ := json.Marshal(u)
		op := syncproto.Op{Device: "er", Seq: uint64(i + 1), HLC: hlc.Make(at.Add(time.Duration(i)*time.Minute).UnixMilli(), 0), Kind: OpUse, Body: b}
		opkind.Fold(&p, op)
		if e, ok := opkind.AuditOf(op); !ok || e.Action != OpUse {
			t.Errorf("use %d not audited", i)
		}
		if f := opkind.FeedsOf(op); len(f) != 0 {
			t.Errorf("a use travels to %v", f)
		}
	}
	uses := *Uses.In(&p)
	if len(uses) != 3 {
		t.Fatalf("review lists %d uses, want 3", len(uses))
	}
	guardian := map[string]string{"adult": "wife"}
	got := Notices(uses, "wife", func(r string) string { return guardian[r] })
	if len(got) != 1 || got[0].Resident != "adult" {
		t.Errorf("the guardian is told of %+v", got)
	}
}

// TestUnmeasuredNetwork: the scores of a network without a measured
// basis mean nothing, so even a perfect one names and proposes nobody;
// the card decides.
func TestUnmeasuredNetwork(t *testing.T) {
	d, err := Decide([]gallery.Match{{ID: "adult", Score: 1}, {ID: "other", Score: 0}}, "other-net/x/f32", n, "意識なし")
	if err != nil || d.Outcome != NotIdentified || d.Resident != "" || d.candidate != "" || !slices.Contains(d.Next, NextCard) {
		t.Errorf("Decide on an unmeasured network = %+v, %v", d, err)
	}
}
