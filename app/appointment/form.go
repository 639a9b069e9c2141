package appointment

import (
	"errors"
	"slices"
	"strings"
	"time"
)

// The answer screen's decisions: which questions are asked given the
// answers so far, a multiple choice ticked or unticked, the answers as
// they are sent, and the first problem in words.

// Asked lists the questions of q asked given values: every question
// without a condition, and those whose condition is answered yes.
func (q Questionnaire) Asked(values map[string]string) []Question {
	var out []Question
	for _, x := range q.Questions {
		if x.When == "" || values[x.When] == "true" {
			out = append(out, x)
		}
	}
	return out
}

// Toggle ticks (on) or unticks option code of multiple-choice question
// x in the answer v ("a,b"), keeping the options' order.
func (x Question) Toggle(v, code string, on bool) string {
	chosen := splitCodes(v)
	var out []string
	for _, o := range x.Options {
		if o.Code == code && on || o.Code != code && slices.Contains(chosen, o.Code) {
			out = append(out, o.Code)
		}
	}
	return strings.Join(out, ",")
}

// Sent is values as the screen sends them: the answers of questions
// asked, trimmed, empty ones left out (a question answered yes then no
// leaves no answer behind to be refused).
func (q Questionnaire) Sent(values map[string]string) map[string]string {
	out := map[string]string{}
	for _, x := range q.Asked(values) {
		if v := strings.TrimSpace(values[x.ID]); v != "" {
			out[x.ID] = v
		}
	}
	return out
}

// Problem says which question of q the values break on day today, and
// why in Japanese and English, for the answer screen to show before
// anything is sent; id is "" when every answer keeps its rule.
func (q Questionnaire) Problem(values map[string]string, today time.Time) (id string, words [2]string) {
	ae, ok := errors.AsType[*AnswerError](q.Check(values, today))
	if !ok {
		return "", [2]string{}
	}
	x, known := q.question(ae.Question)
	switch {
	case !known:
		return ae.Question, [2]string{"この問診票にない質問への回答があります。", "An answer to a question this form does not ask."}
	case ae.Missing:
		return x.ID, [2]string{"「" + x.Text + "」に答えてください。", "Please answer: " + x.Text}
	}
	return x.ID, [2]string{"「" + x.Text + "」の答えが正しくありません。", "This answer is not valid: " + x.Text}
}
