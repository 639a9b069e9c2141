package visitpage

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/japanese"

	"smartpass.city/smartpass/app/appointment"
	"smartpass.city/smartpass/app/fhirjp"
	"smartpass.city/smartpass/app/jahis"
	"smartpass.city/smartpass/app/medical"
	"smartpass.city/smartpass/app/visit"
	"smartpass.city/smartpass/syncproto"
)

func TestWords(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want [2]string
	}{
		{"the server's words", &syncproto.Error{Code: visit.CodeFull, Message: "この枠は満員です。 / This slot is full."}, [2]string{"この枠は満員です。", "This slot is full."}},
		{"a refusal with one language", &syncproto.Error{Code: "x", Message: "nope"}, [2]string{"受け付けられませんでした（x）。", "Refused (x)."}},
		{"no server", errors.New("dial tcp: connection refused"), [2]string{"サーバーにつながりません。しばらくしてからもう一度お試しください。", "The server cannot be reached. Please try again in a moment."}},
	} {
		if got := Words(c.err); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestSlotLabel(t *testing.T) {
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, appointment.JST)
	for _, c := range []struct {
		free int
		want [2]string
	}{
		{3, [2]string{"12月4日（金）10:00　残り3人", "Fri 4 Dec 10:00 — 3 left"}},
		{0, [2]string{"12月4日（金）10:00　満員", "Fri 4 Dec 10:00 — full"}},
	} {
		if got := SlotLabel(appointment.Open{Start: at.UTC(), Free: c.free}); got != c.want {
			t.Errorf("free %d: %q, want %q", c.free, got, c.want)
		}
	}
}

func TestGrantable(t *testing.T) {
	b := visit.Place{ID: "b", Kinds: []string{medical.Medication, medical.Conditions, medical.Allergies}}
	for _, c := range []struct {
		name    string
		granted []visit.Granted
		want    []string
	}{
		{"nothing granted: what B exchanges, never check-ups", nil, []string{medical.Medication, medical.Conditions, medical.Allergies}},
		{"allergies in force", []visit.Granted{{Resident: "son", Hospital: "b", Kind: medical.Allergies, InForce: true}}, []string{medical.Medication, medical.Conditions}},
		{"allergies withdrawn", []visit.Granted{{Resident: "son", Hospital: "b", Kind: medical.Allergies}}, []string{medical.Medication, medical.Conditions, medical.Allergies}},
		{"another person's, another hospital's", []visit.Granted{{Resident: "mother", Hospital: "b", Kind: medical.Allergies, InForce: true}, {Resident: "son", Hospital: "a", Kind: medical.Medication, InForce: true}}, []string{medical.Medication, medical.Conditions, medical.Allergies}},
	} {
		if got := Grantable(b, c.granted, "son"); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// typed is a fixture as a reader types it: Unicode text with LF.
func typed(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../jahis/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := japanese.ShiftJIS.NewDecoder().String(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(s, "\r\n", "\n")
}

// TestNotebookParts: what a reader types becomes what the codes held:
// the parser reads a whole notebook, and a split one pasted in either
// order; text with no code is refused before anything is sent.
func TestNotebookParts(t *testing.T) {
	for _, c := range []struct {
		name  string
		text  string
		parts int
		meds  int // medications read; -1: the parser refuses
	}{
		{"one code", typed(t, "child.csv"), 1, 2},
		{"one code, CR LF and trailing blanks", strings.ReplaceAll(typed(t, "child.csv"), "\n", "  \r\n"), 1, 2},
		{"a split code", typed(t, "split1.csv") + typed(t, "split2.csv"), 2, -2},
		{"a split code, backwards", typed(t, "split2.csv") + "\n" + typed(t, "split1.csv"), 2, -2},
		{"a damaged code still reaches the parser", typed(t, "damaged.csv"), 1, -1},
	} {
		parts, err := NotebookParts(c.text)
		if err != nil || len(parts) != c.parts {
			t.Errorf("%s: %d parts, %v", c.name, len(parts), err)
			continue
		}
		nb, err := jahis.ParseParts(parts...)
		switch {
		case c.meds == -1 && err == nil:
			t.Errorf("%s: parsed", c.name)
		case c.meds >= 0 && (err != nil || countMeds(nb) != c.meds):
			t.Errorf("%s: %d medications, %v", c.name, countMeds(nb), err)
		case c.meds == -2 && err != nil:
			t.Errorf("%s: %v", c.name, err)
		}
	}
	for _, s := range []string{"", "hello\nworld", "1,加賀　花子"} {
		if _, err := NotebookParts(s); !errors.Is(err, ErrNoNotebook) {
			t.Errorf("%q: %v", s, err)
		}
	}
	if _, err := NotebookParts("JAHISTC08,1\n1,😀\n"); err == nil {
		t.Error("a character Shift_JIS cannot hold was encoded")
	}
}

func countMeds(nb jahis.Notebook) int {
	n := 0
	for _, d := range nb.Dispensings {
		for _, rp := range d.RPs {
			n += len(rp.Drugs)
		}
	}
	return n
}

func FuzzNotebookParts(f *testing.F) {
	f.Add("JAHISTC08,1\n1,加賀　花子,2,19551201\n")
	f.Add("x\nJAHISTC08\r\nJAHISTC07,1")
	f.Fuzz(func(t *testing.T, s string) {
		parts, err := NotebookParts(s)
		if err != nil {
			return
		}
		for _, p := range parts {
			if !strings.HasPrefix(string(p), "JAHISTC") || !strings.HasSuffix(string(p), "\r\n") {
				t.Fatalf("part %q", p)
			}
		}
		jahis.ParseParts(parts...) // must not panic
	})
}

func TestAnswerLines(t *testing.T) {
	a := appointment.Answers{Values: map[string]string{"symptoms": "cough,fever", "allergic": "true", "allergies": "卵", "weight": "18.2", "convulsion": "false"}}
	got := AnswerLines(appointment.Pediatrics, a)
	want := [][2]string{
		{"お子さんの今日の症状（あてはまるものすべて）", "発熱、せき"},
		{"体重（kg）", "18.2"},
		{"けいれんを起こしたことはありますか", "いいえ"},
		{"薬や食べ物のアレルギーはありますか", "はい"},
		{"アレルギーの内容", "卵"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("lines %q", got)
	}
}

func TestPoints(t *testing.T) {
	for _, c := range []struct {
		typed string
		want  int64
	}{
		{"1234", 1234}, {" １２３４ ", 1234}, {"1,234", 1234}, {"0", 0}, {"-5", 0}, {"12.5", 0}, {"", 0}, {"10000001", 0}, {"10000000", 10_000_000},
	} {
		n, err := Points(c.typed)
		if n != c.want || (c.want == 0) != errors.Is(err, ErrPoints) {
			t.Errorf("Points(%q) = %d, %v; want %d", c.typed, n, err, c.want)
		}
	}
}

func FuzzPoints(f *testing.F) {
	f.Add("1234")
	f.Add("１２３４")
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := Points(s); err == nil && (n < 1 || n > 10_000_000) {
			t.Fatalf("Points(%q) = %d", s, n)
		}
	})
}

func TestItems(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, appointment.JST)
	raw := func(v any) json.RawMessage {
		b, err := fhirjp.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	h := visit.History{Kinds: []string{medical.Allergies, medical.Medication}, Documents: map[string][]visit.Document{
		medical.Allergies: {
			{Hospital: "a", Visit: now.AddDate(0, -1, 0), Document: raw(fhirjp.AllergyOf("a1", "Patient/1", "卵", "food", "high"))},
			{Hospital: "b", Visit: now, Document: raw(fhirjp.AllergyOf("a2", "Patient/1", "そば", "food", "low"))},
		},
		medical.Medication: {
			{Hospital: "a", Visit: now, Document: raw(fhirjp.MedicationStatementOf("m1", "Patient/1", fhirjp.Medication{Name: "カルボシステイン", Start: now.AddDate(0, 0, -30), End: now.AddDate(0, 0, -20)}, now))},
		},
	}}
	var got []string
	for _, it := range Items(h, now) {
		got = append(got, it.Kind+":"+it.Name+"@"+it.Hospital)
	}
	want := []string{"medication:（終了）@a", "allergies:そば@b", "allergies:卵（重篤）@a"}
	if !slices.Equal(got, want) {
		t.Errorf("items %q, want %q", got, want)
	}
}
