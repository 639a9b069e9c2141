// Package visitpage is what the hospital screens decide, kept here so it
// is tested natively and the screens only draw and dispatch: a refusal
// in the page's words, a slot and a time as an elderly reader reads
// them, the kinds a consent may still name, a pasted medication
// notebook as the bytes a QR reader gives, the answers of a 問診票 as
// reception reads them, the points staff type for a bill, and a shared
// history as the names of what it holds.
package visitpage

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/width"

	"smartpass.city/smartpass/app/appointment"
	"smartpass.city/smartpass/app/copay"
	"smartpass.city/smartpass/app/medical"
	"smartpass.city/smartpass/app/visit"
	"smartpass.city/smartpass/syncproto"
)

// Words is a failed request in words, Japanese and English: the
// server's own refusal (its message is "日本語 / English"), else that
// the server could not be reached.
func Words(err error) [2]string {
	if e, ok := errors.AsType[*syncproto.Error](err); ok {
		if ja, en, ok := strings.Cut(e.Message, " / "); ok {
			return [2]string{ja, en}
		}
		return [2]string{"受け付けられませんでした（" + e.Code + "）。", "Refused (" + e.Code + ")."}
	}
	return [2]string{"サーバーにつながりません。しばらくしてからもう一度お試しください。", "The server cannot be reached. Please try again in a moment."}
}

var weekdaysJA = [...]string{"日", "月", "火", "水", "木", "金", "土"}

// When is t as the pages say a visit's time, in JST: 12月4日（金）10:00.
func When(t time.Time) [2]string {
	t = t.In(appointment.JST)
	return [2]string{
		fmt.Sprintf("%d月%d日（%s）%s", t.Month(), t.Day(), weekdaysJA[t.Weekday()], t.Format("15:04")),
		t.Format("Mon 2 Jan 15:04"),
	}
}

// SlotLabel is a slot on its button: its time and the places left, or
// that it is full.
func SlotLabel(o appointment.Open) [2]string {
	w := When(o.Start)
	if o.Free == 0 {
		return [2]string{w[0] + "　満員", w[1] + " — full"}
	}
	return [2]string{fmt.Sprintf("%s　残り%d人", w[0], o.Free), fmt.Sprintf("%s — %d left", w[1], o.Free)}
}

// Terms are the consent terms the page offers, in days: a month, the
// default, a year.
var Terms = []int{30, visit.DefaultDays, 365}

// Grantable lists the kinds place exchanges that resident has no
// consent in force for: the only ones the consent form offers (a kind
// the hospital does not exchange is never offered, and the server
// refuses it anyway).
func Grantable(place visit.Place, granted []visit.Granted, resident string) []string {
	var out []string
	for _, k := range medical.Kinds {
		held := slices.ContainsFunc(granted, func(g visit.Granted) bool {
			return g.InForce && g.Resident == resident && g.Hospital == place.ID && g.Kind == k
		})
		if slices.Contains(place.Kinds, k) && !held {
			out = append(out, k)
		}
	}
	return out
}

// ErrNoNotebook is pasted text with no JAHIS code in it.
var ErrNoNotebook = errors.New("visitpage: no JAHIS medication notebook in the text")

// NotebookParts is text a QR reader typed (or a person pasted) as the
// bytes the codes hold: each code starts with its version record
// (JAHISTC…), so a line starting so begins the next part; lines end in
// CR LF, the text in Shift_JIS. A character Shift_JIS cannot hold is an
// error: the server would refuse the notebook anyway.
func NotebookParts(typed string) ([][]byte, error) {
	typed = strings.ReplaceAll(strings.ReplaceAll(typed, "\r\n", "\n"), "\r", "\n")
	var parts []string
	for _, line := range strings.Split(typed, "\n") {
		line = strings.TrimRight(line, " \t")
		switch {
		case strings.HasPrefix(line, "JAHISTC"):
			parts = append(parts, line+"\r\n")
		case len(parts) > 0 && line != "":
			parts[len(parts)-1] += line + "\r\n"
		}
	}
	if len(parts) == 0 {
		return nil, ErrNoNotebook
	}
	out := make([][]byte, len(parts))
	for i, p := range parts {
		b, err := japanese.ShiftJIS.NewEncoder().Bytes([]byte(p))
		if err != nil {
			return nil, fmt.Errorf("visitpage: part %d in Shift_JIS: %w", i+1, err)
		}
		out[i] = b
	}
	return out, nil
}

// AnswerLines are a questionnaire's answers as reception reads them:
// each question answered, in the questionnaire's order, with its answer
// in words (はい/いいえ, the options' names).
func AnswerLines(q appointment.Questionnaire, a appointment.Answers) [][2]string {
	var out [][2]string
	for _, x := range q.Questions {
		v, ok := a.Values[x.ID]
		if !ok || v == "" {
			continue
		}
		switch x.Type {
		case appointment.TypeBoolean:
			v = map[string]string{"true": "はい", "false": "いいえ"}[v]
		case appointment.TypeChoice, appointment.TypeMulti:
			var names []string
			for _, o := range x.Options {
				if slices.Contains(strings.Split(v, ","), o.Code) {
					names = append(names, o.Text)
				}
			}
			v = strings.Join(names, "、")
		}
		out = append(out, [2]string{x.Text, v})
	}
	return out
}

// ErrPoints is a number of points that is not one.
var ErrPoints = errors.New("visitpage: points are whole numbers from 1")

// Points reads the points staff typed for a bill: digits (full-width
// ones too, as a Japanese keyboard types them), 1 to copay.MaxPoints.
func Points(typed string) (int64, error) {
	s := strings.ReplaceAll(width.Narrow.String(strings.TrimSpace(typed)), ",", "")
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 || n > copay.MaxPoints {
		return 0, fmt.Errorf("%w: %q", ErrPoints, typed)
	}
	return n, nil
}

// Incomes are the income classes staff choose from, as the
// qualification check shows them.
var Incomes = []copay.Income{copay.General, copay.Upper, copay.Active}

// Item is one thing a shared history holds, by kind.
type Item struct {
	Kind     string
	Name     string
	Hospital string
	Visit    time.Time
}

// Items are a shared history's documents by name, in medical.Kinds'
// order then newest visit first; a medication no longer taken at now is
// named as ended.
func Items(h visit.History, now time.Time) []Item {
	var out []Item
	for _, k := range medical.Kinds {
		for _, d := range h.Documents[k] {
			name := cmp.Or(medical.NameOf(k, d.Document, now), "（終了）")
			out = append(out, Item{Kind: k, Name: name, Hospital: d.Hospital, Visit: d.Visit})
		}
	}
	slices.SortStableFunc(out, func(a, b Item) int {
		return cmp.Or(cmp.Compare(slices.Index(medical.Kinds, a.Kind), slices.Index(medical.Kinds, b.Kind)), b.Visit.Compare(a.Visit))
	})
	return out
}
