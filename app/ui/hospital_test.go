package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/appointment"
	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/enroll"
	"smartpass.city/smartpass/app/medical"
	"smartpass.city/smartpass/app/visit"
	"smartpass.city/smartpass/syncproto"
)

type hospMounted struct{ *hospitalPage }

func (m *hospMounted) OnPreRender(ctx app.Context) { m.OnMount(ctx) }

// motherAndSon is a mother's account with her son.
type motherAndSon struct{ Accounts }

func (motherAndSon) Holder(context.Context) (string, error) { return "mother", nil }
func (motherAndSon) Household(context.Context) (account.Household, error) {
	return account.Household{
		Guardian: account.Account{ID: "mother", Facts: card.Facts{Name: "加賀　花子"}},
		Members:  []account.Account{{ID: "son", Facts: card.Facts{Name: "加賀　ゆうと"}}},
	}, nil
}

// visitServer is the hospital visit's endpoints for one household, by
// the rules the server keeps: a slot's places, the questionnaire's
// rules, consents only to kinds the hospital exchanges. It records each
// request by path.
type visitServer struct {
	mu       sync.Mutex
	calls    []string
	slot     time.Time
	free     int
	bookings []visit.Booked
	answers  map[string]string
	granted  []visit.Granted
}

func (s *visitServer) Call(_ context.Context, path string, by account.Signer, req, resp any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if by != account.Holder {
		return fmt.Errorf("%s signed by %v", path, by)
	}
	s.calls = append(s.calls, path)
	body, _ := json.Marshal(req)
	var out any
	switch path {
	case visit.PlacesPath:
		out = []visit.Place{
			{ID: "hosp-a", NameJA: "加賀市医療センター", NameEN: "Kaga", Departments: []string{"pediatrics", "internal"}, Kinds: medical.Kinds},
			{ID: "hosp-b", NameJA: "山中温泉医療センター", NameEN: "Yamanaka", Departments: []string{"internal"}, Kinds: []string{medical.Medication, medical.Allergies}},
		}
	case visit.SlotsPath:
		out = []appointment.Open{{Department: "pediatrics", Start: s.slot, Minutes: 30, Free: s.free}, {Department: "pediatrics", Start: s.slot.Add(time.Hour), Minutes: 30}}
	case visit.BookPath:
		var b visit.Book
		json.Unmarshal(body, &b)
		if !b.Start.Equal(s.slot) || s.free == 0 {
			return &syncproto.Error{Code: visit.CodeFull, Message: "この枠は満員です。別の時間を選んでください。 / This slot is full: choose another time."}
		}
		s.free--
		bk := visit.Booked{ID: fmt.Sprintf("bk-%d", len(s.bookings)+1), Hospital: b.Hospital, Department: b.Department, Start: b.Start, Resident: b.Resident, Status: appointment.Booked}
		s.bookings = append(s.bookings, bk)
		out = bk
	case visit.MovePath:
		var m visit.Move
		json.Unmarshal(body, &m)
		s.bookings[0].Start = m.Start
		out = account.None{}
	case visit.CancelPath:
		s.bookings[0].Status = appointment.Cancelled
		out = account.None{}
	case visit.BookingsPath:
		out = s.bookings
	case visit.FormPath:
		out = visit.Questionnaire{Questionnaire: appointment.Pediatrics, Prefill: map[string]string{"allergic": "true"}, Notice: appointment.ConsentNotice}
	case visit.AnswerPath:
		var a visit.Answer
		json.Unmarshal(body, &a)
		if err := appointment.Pediatrics.Check(a.Values, time.Now()); err != nil {
			return &syncproto.Error{Code: visit.CodeAnswer, Message: "問診票の回答に足りないところか、正しくないところがあります。 / An answer is missing."}
		}
		s.answers = a.Values
		s.bookings[0].Answered = true
		out = account.None{}
	case visit.ConsentPath:
		var c visit.Consent
		json.Unmarshal(body, &c)
		if c.Hospital == "hosp-b" && c.Kind == medical.Checkups {
			return &syncproto.Error{Code: visit.CodeNotPublished, Message: "この病院はその種類の情報を扱っていません。 / No."}
		}
		s.granted = append(s.granted, visit.Granted{Resident: c.Resident, Hospital: c.Hospital, Kind: c.Kind, Given: time.Now(), Until: time.Now().AddDate(0, 0, c.Days), InForce: true})
		out = account.None{}
	case visit.WithdrawPath:
		var w visit.Withdraw
		json.Unmarshal(body, &w)
		for i := range s.granted {
			if s.granted[i].Resident == w.Resident && s.granted[i].Hospital == w.Hospital && (w.Kind == "" || w.Kind == s.granted[i].Kind) {
				s.granted[i].InForce = false
			}
		}
		out = account.None{}
	case visit.ConsentsPath:
		out = s.granted
	case visit.AccessesPath:
		var acc []visit.Access
		for _, g := range s.granted {
			acc = append(acc, visit.Access{Time: g.Given, Resident: g.Resident, Hospital: g.Hospital, Kinds: []string{g.Kind}, Staff: "reception-b"})
		}
		out = acc
	case visit.ReceiptsPath:
		out = []visit.Receipt{}
	case visit.NoticesPath:
		out = []visit.Notice{}
	default:
		return fmt.Errorf("no endpoint %s", path)
	}
	b, _ := json.Marshal(out)
	return json.Unmarshal(b, resp)
}

func (s *visitServer) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if c == path {
			n++
		}
	}
	return n
}

// TestHospitalPage: a mother books her son's paediatrics visit on her
// phone; the full slot cannot be pressed; the questionnaire opens
// pre-filled, and an answer that breaks its rule is named in words
// before anything is sent; sent, the booking shows answered. A full slot
// pressed anyway is the server's refusal in its words. She moves the
// visit an hour later and cancels it (on the second press). She gives
// hospital B her son's allergies for 30 days (check-ups, which B does
// not exchange, are never offered), sees B's access, and withdraws.
func TestHospitalPage(t *testing.T) {
	slot := time.Now().Add(24 * time.Hour).Truncate(time.Hour)
	srv := &visitServer{slot: slot, free: 1}
	p := &hospitalPage{live: liveAs(t, enroll.Enrollment{}), accounts: motherAndSon{}, api: srv}
	e := load(t, &hospMounted{p}, &p.live)
	until(t, e, "the page read", func() bool { return p.loaded && !p.busy && len(p.slots) == 2 })
	html := app.HTMLString(p)
	if !strings.Contains(html, "残り1人") || !strings.Contains(html, "満員") || strings.Count(html, `disabled`) < 1 {
		t.Fatalf("slots not drawn with their places: %s", html)
	}

	press(e, &p.live, func() { p.who = "son"; p.book(slot) })
	until(t, e, "booked and the form open", func() bool { return !p.busy && p.form != nil })
	if len(p.lists.bookings) != 1 || p.lists.bookings[0].Resident != "son" || p.formFor != "bk-1" {
		t.Fatalf("bookings %+v, form for %q", p.lists.bookings, p.formFor)
	}
	shows(t, p, "form-notice", "送信すると、この回答をこの病院が受け取り")
	if p.values["allergic"] != "true" {
		t.Errorf("not pre-filled: %v", p.values)
	}
	// Everything but the allergy's name: refused here, nothing sent.
	for k, v := range map[string]string{"symptoms": "fever", "since": time.Now().In(appointment.JST).Format(time.DateOnly), "weight": "18.2", "convulsion": "false", "vaccines": "yes"} {
		p.values[k] = v
	}
	press(e, &p.live, p.sendForm)
	shows(t, p, "form-error", "「アレルギーの内容」に答えてください。")
	if n := srv.count(visit.AnswerPath); n != 0 {
		t.Fatalf("a broken answer was sent %d times", n)
	}
	p.values["allergies"] = "卵"
	press(e, &p.live, p.sendForm)
	until(t, e, "sent", func() bool { return !p.busy && p.form == nil })
	shows(t, p, "visit-done", "問診票を送りました")
	if srv.answers["allergies"] != "卵" || !p.lists.bookings[0].Answered {
		t.Fatalf("answers %v, bookings %+v", srv.answers, p.lists.bookings)
	}
	// The slot is full now; pressing it anyway is the server's refusal
	// in its words.
	press(e, &p.live, func() { p.book(slot.Add(time.Hour)) })
	until(t, e, "refused", func() bool { return !p.busy })
	shows(t, p, "visit-error", "この枠は満員です。")

	// He moves it an hour later, then cancels it on the second press.
	press(e, &p.live, func() { p.request.err = [2]string{}; b := p.lists.bookings[0]; p.moving = &b; p.readSlots() })
	until(t, e, "the booking's slots", func() bool { return len(p.slots) == 2 })
	shows(t, p, "moving", "の予約の変更先を選んでください。")
	press(e, &p.live, func() { p.book(slot.Add(time.Hour)) })
	until(t, e, "moved", func() bool { return !p.busy && p.moving == nil })
	if got := p.lists.bookings[0].Start; !got.Equal(slot.Add(time.Hour)) || srv.count(visit.MovePath) != 1 {
		t.Fatalf("moved to %v (%d moves)", got, srv.count(visit.MovePath))
	}
	press(e, &p.live, func() { p.cancel(p.lists.bookings[0]) })
	if srv.count(visit.CancelPath) != 0 || !strings.Contains(app.HTMLString(p), "本当に取り消す") {
		t.Fatal("cancelled on the first press")
	}
	press(e, &p.live, func() { p.cancel(p.lists.bookings[0]) })
	until(t, e, "cancelled", func() bool { return !p.busy && srv.count(visit.CancelPath) == 1 })
	shows(t, p, "visit-done", "予約を取り消しました。")

	// Consent: B offers what it exchanges only.
	press(e, &p.live, func() { p.grantWho, p.grantHosp = "son", "hosp-b" })
	html = app.HTMLString(p)
	kinds := html[strings.Index(html, `id="grant-kind"`):]
	kinds = kinds[:strings.Index(kinds, "</select>")]
	if strings.Contains(kinds, "健診結果") || !strings.Contains(kinds, "アレルギー") {
		t.Fatalf("B's kinds offered: %s", kinds)
	}
	press(e, &p.live, func() { p.grantKind, p.grantDays = medical.Allergies, 30; p.grant() })
	until(t, e, "granted", func() bool { return !p.busy && len(p.lists.granted) == 1 })
	g := p.lists.granted[0]
	if g.Resident != "son" || g.Hospital != "hosp-b" || g.Kind != medical.Allergies || g.Until.Sub(g.Given) < 29*24*time.Hour {
		t.Fatalf("granted %+v", g)
	}
	if got := app.HTMLString(p); !strings.Contains(got, `class="access"`) || !strings.Contains(got, "reception-b") {
		t.Errorf("the access is not listed")
	}
	press(e, &p.live, func() { p.withdraw(g) })
	until(t, e, "withdrawn", func() bool { return !p.busy && !p.lists.granted[0].InForce })
	shows(t, p, "visit-done", "共有をやめました")
	if !slices.Equal(srv.calls[:3], []string{visit.PlacesPath, visit.BookingsPath, visit.ConsentsPath}) {
		t.Errorf("first calls %v", srv.calls[:3])
	}
}

// TestHospitalPageNoAccount: a phone that holds no account is sent to
// open one first, and asks nothing of the hospital endpoints.
func TestHospitalPageNoAccount(t *testing.T) {
	srv := &visitServer{}
	p := &hospitalPage{live: liveAs(t, enroll.Enrollment{}), accounts: &accounts{}, api: srv}
	e := load(t, &hospMounted{p}, &p.live)
	until(t, e, "the page read", func() bool { return p.loaded })
	shows(t, p, "visit-no-account", "まずアカウントを開いてください。")
	if len(srv.calls) != 0 {
		t.Errorf("calls without an account: %v", srv.calls)
	}
}
