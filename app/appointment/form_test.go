package appointment

import (
	"maps"
	"slices"
	"testing"
	"time"
)

// TestOffer: the account page is offered the slots not begun within
// its window, each with its free places, a full one with none.
func TestOffer(t *testing.T) {
	l := &log{}
	now := jst("2026-12-02 20:00")
	l.add(now, OpSlots, day)
	l.add(now, OpBook, booking("son", "2026-12-10 09:00"))
	l.add(now, OpBook, booking("daughter", "2026-12-10 09:30"))
	b, _ := l.fold()
	for _, c := range []struct {
		name   string
		now    time.Time
		within time.Duration
		want   []int // free places of the slots offered, in order
	}{
		{"a week ahead sees both", now, 8 * 24 * time.Hour, []int{0, 1}},
		{"too short a window sees none", now, 24 * time.Hour, nil},
		{"the first slot begun", jst("2026-12-10 09:00"), time.Hour, []int{1}},
		{"both begun", jst("2026-12-10 09:30"), time.Hour, nil},
	} {
		var got []int
		for _, o := range b.Offer("hospA", "pediatrics", c.now, c.within) {
			got = append(got, o.Free)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: free %v, want %v", c.name, got, c.want)
		}
	}
	if got := b.Offer("hospB", "pediatrics", now, 30*24*time.Hour); len(got) != 0 {
		t.Errorf("another hospital's slots offered: %v", got)
	}
	if got := b.Departments("hospA", now); !slices.Equal(got, []string{"pediatrics"}) {
		t.Errorf("departments %v", got)
	}
	if got := b.Departments("hospA", jst("2026-12-11 09:00")); len(got) != 0 {
		t.Errorf("departments after the last day: %v", got)
	}
}

// TestAnswerScreen: the questions asked follow the yes-no answers, a
// multiple choice toggles in the options' order, what is sent leaves
// out what is not asked, and the first problem is named in words.
func TestAnswerScreen(t *testing.T) {
	today := jst("2026-12-02 10:00")
	q := Pediatrics
	ids := func(qs []Question) []string {
		var out []string
		for _, x := range qs {
			out = append(out, x.ID)
		}
		return out
	}
	if got := ids(q.Asked(map[string]string{"allergic": "false"})); slices.Contains(got, "allergies") || len(got) != len(q.Questions)-1 {
		t.Errorf("asked with no allergy: %v", got)
	}
	if got := ids(q.Asked(map[string]string{"allergic": "true"})); !slices.Contains(got, "allergies") {
		t.Errorf("asked with an allergy: %v", got)
	}
	sym, _ := q.question("symptoms")
	for _, c := range []struct {
		v, code string
		on      bool
		want    string
	}{
		{"", "cough", true, "cough"},
		{"cough", "fever", true, "fever,cough"},
		{"fever,cough", "fever", false, "cough"},
		{"fever", "fever", true, "fever"},
		{"fever", "nothing", true, "fever"},
	} {
		if got := sym.Toggle(c.v, c.code, c.on); got != c.want {
			t.Errorf("Toggle(%q, %q, %v) = %q, want %q", c.v, c.code, c.on, got, c.want)
		}
	}
	good := map[string]string{"symptoms": "fever", "since": "2026-12-01", "weight": "18.2", "convulsion": "false",
		"allergic": "false", "allergies": "卵", "vaccines": "yes", "nursery": "  "}
	sent := q.Sent(good)
	if _, ok := sent["allergies"]; ok || sent["nursery"] != "" || len(sent) != 6 {
		t.Errorf("sent %v", sent)
	}
	if id, _ := q.Problem(sent, today); id != "" {
		t.Errorf("good answers have a problem at %q", id)
	}
	for _, c := range []struct {
		name, set, value, want, words string
	}{
		{"an allergy not named", "allergic", "true", "allergies", "「アレルギーの内容」に答えてください。"},
		{"a weight out of range", "weight", "180", "weight", "「体重（kg）」の答えが正しくありません。"},
		{"a date in the future", "since", "2026-12-03", "since", "「いつからですか」の答えが正しくありません。"},
		{"no symptom", "symptoms", "", "symptoms", "「お子さんの今日の症状（あてはまるものすべて）」に答えてください。"},
		{"a question not asked", "pregnant", "no", "pregnant", "この問診票にない質問への回答があります。"},
	} {
		v := maps.Clone(sent)
		v[c.set] = c.value
		id, words := q.Problem(v, today)
		if id != c.want || words[0] != c.words || words[1] == "" {
			t.Errorf("%s: problem %q %q, want %q %q", c.name, id, words, c.want, c.words)
		}
	}
}
