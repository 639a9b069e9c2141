package appointment

import (
	"strings"
	"time"
	"unicode/utf8"

	"smartpass.city/smartpass/app/medical"
)

// prefills say which questions a patient's own record answers: a yes-no
// question and the text question asked when it is yes, from one kind.
var prefills = []struct{ yes, text, kind string }{
	{"allergic", "allergies", medical.Allergies},
	{"medicating", "medicines", medical.Medication},
}

// Prefill is the answers a patient's own record gives before they start
// (their phone shows them, theirs to change): allergies and current
// medication from every summary and imported notebook of theirs folded
// by now. Nothing leaves the pass by it; sending the answers is the
// consent (ConsentNotice).
func Prefill(q Questionnaire, rec *medical.Record, resident string, now time.Time) map[string]string {
	out := map[string]string{}
	for _, p := range prefills {
		yes, okY := q.question(p.yes)
		text, okT := q.question(p.text)
		if !okY || !okT || yes.Type != TypeBoolean || text.When != yes.ID {
			continue
		}
		names := rec.Names(resident, p.kind, now)
		if len(names) == 0 {
			continue
		}
		v := strings.Join(names, "、")
		for text.MaxLen > 0 && utf8.RuneCountInString(v) > text.MaxLen && len(names) > 1 {
			names = names[:len(names)-1]
			v = strings.Join(names, "、")
		}
		if utf8.RuneCountInString(v) > text.MaxLen {
			continue
		}
		out[yes.ID], out[text.ID] = "true", v
	}
	return out
}

func (q Questionnaire) question(id string) (Question, bool) {
	for _, x := range q.Questions {
		if x.ID == id {
			return x, true
		}
	}
	return Question{}, false
}
