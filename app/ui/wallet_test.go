package ui

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/enroll"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/wallet"
	"smartpass.city/smartpass/syncproto"
)

// household is a father and his daughter, his account held on the
// phone, with wallets the server keeps: a card top-up is charged once
// per request id, the declining test card refused as the server does.
type household struct {
	Accounts // the endpoints the wallet section does not reach
	mu       sync.Mutex
	balance  map[string]int64
	lines    map[string][]wallet.Line
	charged  map[string]bool // request ids charged
	sent     []wallet.CardTopUp
	lose     bool // the next top-up's answer is lost on the way back
	limits   map[string]wallet.InForce
	settings []wallet.Settings // the limits sent
}

func (*household) Holder(context.Context) (string, error) { return "R-1", nil }
func (*household) Household(context.Context) (account.Household, error) {
	return account.Household{
		Guardian: account.Account{ID: "R-1", Facts: card.Facts{Name: "加賀　太郎"}},
		Members:  []account.Account{{ID: "R-2", Facts: card.Facts{Name: "加賀　花子"}}},
	}, nil
}
func (*household) History(context.Context) ([]account.Visit, error) { return nil, nil }
func (*household) Facilities(context.Context) ([]facility.Facility, error) {
	return []facility.Facility{{ID: "kaga-shop", Kind: "shop", NameJA: "加賀の店", NameEN: "Kaga shop"}}, nil
}
func (h *household) Statement(_ context.Context, r string) (wallet.Statement, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.statement(r), nil
}

// statement is r's statement with the limits in force (the city's
// default ¥3,000, its bound ¥5,000 here); h.mu held.
func (h *household) statement(r string) wallet.Statement {
	in := h.limits[r]
	in.FaceOnlyDefault, in.FaceOnlyMax = 3_000, 5_000
	return wallet.Statement{Resident: r, Balance: h.balance[r], Lines: append([]wallet.Line{}, h.lines[r]...), Limits: in}
}

// SetLimits keeps s as the server does, refusing in its words a
// per-payment limit above the daily one.
func (h *household) SetLimits(_ context.Context, s wallet.Settings) (wallet.Statement, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.settings = append(h.settings, s)
	if s.Daily > 0 && s.PerPay > s.Daily {
		return wallet.Statement{}, &syncproto.Error{Code: wallet.CodeLimits, Message: "上限の金額が正しくありません（1回の上限は1日の上限以下に）。 / The limits are not valid."}
	}
	if h.limits == nil {
		h.limits = map[string]wallet.InForce{}
	}
	h.limits[s.Resident] = wallet.InForce{FaceOnly: s.FaceOnly, Daily: s.Daily, PerPay: s.PerPay, Guardian: "R-1"}
	return h.statement(s.Resident), nil
}
func (h *household) TopUpCard(_ context.Context, t wallet.CardTopUp) (wallet.CardResult, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sent = append(h.sent, t)
	if t.PaymentMethod != "pm_card_visa" {
		return wallet.CardResult{}, &syncproto.Error{Code: "card-declined", Message: "カードが使えませんでした。別のカードをお試しください。 / The card was declined; try another card."}
	}
	if !h.charged[t.Request] {
		h.charged[t.Request] = true
		h.balance[t.Resident] += t.Amount
		h.lines[t.Resident] = append(h.lines[t.Resident], wallet.Line{Cause: "card:" + t.Request, At: time.Now(), Kind: "topup", Amount: t.Amount, With: "card"})
	}
	if h.lose {
		h.lose = false
		return wallet.CardResult{}, errors.New("fetch: network error")
	}
	return wallet.CardResult{Intent: "pi_" + t.Request, Posted: true, Balance: h.balance[t.Resident]}, nil
}

// TestWalletSection: the account page lists each household member's
// balance and statement; a top-up whose answer was lost is sent again
// with the same request id and charged once; the declining card is
// said in the gateway's words and nothing is credited.
func TestWalletSection(t *testing.T) {
	at := time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)
	h := &household{
		balance: map[string]int64{"R-1": 5_500},
		lines: map[string][]wallet.Line{"R-1": {
			{Cause: "desk.1", At: at, Kind: "topup", Amount: 6_000, With: "cash"},
			{Cause: "till.1", At: at.Add(time.Hour), Kind: "payment", Amount: -800, With: "kaga-shop"},
			{Cause: "till.2", At: at.Add(2 * time.Hour), Kind: "refund", Amount: 300, With: "kaga-shop", Of: "till.1"},
		}},
		charged: map[string]bool{},
	}
	p := newAccountPage(liveAs(t, enroll.Enrollment{}), nil, &checker{t: t}, h)
	e := load(t, &acctMounted{p}, &p.live)
	until(t, e, "the wallets read", func() bool { return len(p.wallet.statements) == 2 })
	e.ConsumeAll()
	html := app.HTMLString(p)
	shows(t, p, "wallet-R-1", "残高 ¥5,500")
	shows(t, p, "wallet-R-2", "残高 ¥0")
	shows(t, p, "wallet-R-2", "まだ入出金はありません。")
	for _, want := range []string{"加賀の店", "市役所窓口（現金）", "−¥800", "+¥300", "¥5,500"} {
		if got, _ := textOf(html, "wallet-R-1"); !strings.Contains(got, want) {
			t.Errorf("his wallet lacks %q: %s", want, got)
		}
	}
	if n := strings.Count(html, `class="line"`); n != 3 {
		t.Errorf("%d statement lines, want 3", n)
	}

	press(e, &p.live, p.topUp)
	shows(t, p, "topup-error", "選んでください")
	if len(h.sent) != 0 {
		t.Fatal("an incomplete form was sent")
	}

	// The daughter's wallet, ¥3,000, the paying card; the answer is lost.
	h.lose = true
	press(e, &p.live, func() { p.setTopUp("R-2", 3_000, "pm_card_visa") })
	press(e, &p.live, p.topUp)
	until(t, e, "the lost answer", func() bool { return !p.busy })
	shows(t, p, "topup-error", "network error")
	press(e, &p.live, p.topUp)
	until(t, e, "topped up", func() bool { return !p.busy && p.wallet.done != nil })
	shows(t, p, "topup-state", "チャージしました。残高 ¥3,000")
	if len(h.sent) != 2 || h.sent[0].Request != h.sent[1].Request || h.balance["R-2"] != 3_000 {
		t.Fatalf("sent %+v; her wallet ¥%d: want one request id sent twice, charged once", h.sent, h.balance["R-2"])
	}
	until(t, e, "her statement read again", func() bool { return p.wallet.statements["R-2"].Balance == 3_000 })
	e.ConsumeAll()
	shows(t, p, "wallet-R-2", "+¥3,000")
	shows(t, p, "wallet-R-2", "残高 ¥3,000")

	// The same form pressed again is a new top-up: a new request id.
	press(e, &p.live, p.topUp)
	until(t, e, "topped up again", func() bool { return !p.busy && len(h.sent) == 3 })
	if h.sent[2].Request == h.sent[1].Request || h.balance["R-2"] != 6_000 {
		t.Fatalf("a second top-up reused request %s; her wallet ¥%d", h.sent[2].Request, h.balance["R-2"])
	}

	// The declining card: the gateway's words, nothing credited.
	press(e, &p.live, func() { p.setTopUp("R-1", 1_000, testCards[1]) })
	press(e, &p.live, p.topUp)
	until(t, e, "declined", func() bool { return !p.busy })
	shows(t, p, "topup-error", "カードが使えませんでした")
	if h.balance["R-1"] != 5_500 {
		t.Fatalf("a declined card credited: ¥%d", h.balance["R-1"])
	}
}

// TestWalletLimitsForm: beside each statement the limits in force; the
// holder sets his own face-only limit (no guardian's limits offered for
// his own wallet, no amount above the city's bound), and his daughter's
// face-only, daily and per-payment limits; a refusal is said in the
// server's words and the form stays open.
func TestWalletLimitsForm(t *testing.T) {
	h := &household{balance: map[string]int64{}, charged: map[string]bool{}}
	p := newAccountPage(liveAs(t, enroll.Enrollment{}), nil, &checker{t: t}, h)
	e := load(t, &acctMounted{p}, &p.live)
	until(t, e, "the wallets read", func() bool { return len(p.wallet.statements) == 2 })
	e.ConsumeAll()
	shows(t, p, "limits-R-1", "顔だけで払える金額：市の標準（¥3,000） まで")
	shows(t, p, "limits-R-2", "1日の上限：なし　1回の上限：なし")
	if got, _ := textOf(app.HTMLString(p), "limits-R-1"); strings.Contains(got, "1日の上限") {
		t.Errorf("the holder's own wallet shows a guardian's limits: %s", got)
	}
	people := p.people()

	// His own: the form offers no guardian's limits, nothing above ¥5,000.
	press(e, &p.live, func() { p.openLimits(people[0]) })
	html := app.HTMLString(p)
	form, _ := textOf(html, "limits-form")
	if strings.Contains(form, "1日に使える金額") || strings.Contains(html, `class="secondary choice limit-daily"`) {
		t.Errorf("his own form offers a guardian's limits: %s", form)
	}
	if strings.Contains(form, "¥10,000") || !strings.Contains(form, "¥5,000") {
		t.Errorf("the face-only choices are not bounded by the city's ¥5,000: %s", form)
	}
	five := int64(5_000)
	press(e, &p.live, func() { p.wallet.limits.set.FaceOnly = &five })
	press(e, &p.live, p.saveLimits)
	until(t, e, "his limits saved", func() bool { return !p.busy && p.wallet.limits.saved == "R-1" })
	shows(t, p, "limits-R-1", "顔だけで払える金額：¥5,000 まで")
	shows(t, p, "limits-saved", "次の同期")

	// His daughter's: a per-payment limit above the daily one is refused
	// in the server's words; then a valid one is kept and shown.
	press(e, &p.live, func() { p.openLimits(people[1]) })
	shows(t, p, "limits-form", "1日に使える金額")
	zero := int64(0)
	press(e, &p.live, func() {
		p.wallet.limits.set.FaceOnly, p.wallet.limits.set.Daily, p.wallet.limits.set.PerPay = &zero, 1_000, 2_000
	})
	press(e, &p.live, p.saveLimits)
	until(t, e, "refused", func() bool { return !p.busy && p.wallet.limits.err != "" })
	shows(t, p, "limits-error", "1回の上限は1日の上限以下に")
	press(e, &p.live, func() { p.wallet.limits.set.PerPay = 500 })
	press(e, &p.live, p.saveLimits)
	until(t, e, "her limits saved", func() bool { return !p.busy && p.wallet.limits.saved == "R-2" })
	shows(t, p, "limits-R-2", "毎回カードかQRで確認")
	shows(t, p, "limits-R-2", "1日の上限：¥1,000　1回の上限：¥500")
	want := []wallet.Settings{
		{Resident: "R-1", FaceOnly: &five},
		{Resident: "R-2", FaceOnly: &zero, Daily: 1_000, PerPay: 2_000},
		{Resident: "R-2", FaceOnly: &zero, Daily: 1_000, PerPay: 500},
	}
	if len(h.settings) != len(want) {
		t.Fatalf("sent %+v, want %+v", h.settings, want)
	}
	for i, s := range h.settings {
		w := want[i]
		if s.Resident != w.Resident || *s.FaceOnly != *w.FaceOnly || s.Daily != w.Daily || s.PerPay != w.PerPay {
			t.Errorf("sent %d: %+v, want %+v", i, s, w)
		}
	}

	// In English, the same limits in its words.
	press(e, &p.live, func() { p.lang = langEN })
	shows(t, p, "limits-R-2", "Always confirm with the card or QR pass")
}
