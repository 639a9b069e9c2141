package ui

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/card/cardtest"
	"smartpass.city/smartpass/app/enroll"
	"smartpass.city/smartpass/app/furusato"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/app/mynumber"
	"smartpass.city/smartpass/syncproto"
)

type donorMounted struct{ *donorPage }

func (m *donorMounted) OnPreRender(ctx app.Context) { m.OnMount(ctx) }

// fakeDonor is the donor's endpoints as the server answers them: the
// application's signature is verified over the form the server would
// fill from the certificate, as the server does.
type fakeDonor struct {
	t       *testing.T
	mu      sync.Mutex
	st      furusato.Statement
	applied []furusato.Application
}

func (f *fakeDonor) Donations(context.Context, furusato.Year) (furusato.Statement, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st, nil
}

func (f *fakeDonor) Receipts(context.Context, furusato.Year) (furusato.Receipts, error) {
	return furusato.Receipts{PDF: []byte("%PDF-1.4")}, nil
}

func (f *fakeDonor) Ceiling(_ context.Context, c furusato.CeilingFigures) (furusato.CeilingEstimate, error) {
	n, err := furusato.Ceiling(c.ResidentTax, c.Rate)
	return furusato.CeilingEstimate{Ceiling: n}, err
}

func (f *fakeDonor) OneStop(_ context.Context, a furusato.Application) (furusato.Applied, error) {
	cert, err := cardtest.Verifier(f.t, cardtest.PKI(f.t)).Certificate(a.Cert)
	if err != nil {
		return furusato.Applied{}, err
	}
	facts, err := jpki.Facts(cert)
	if err != nil {
		return furusato.Applied{}, err
	}
	n, err := mynumber.Parse(a.Number)
	if err != nil {
		return furusato.Applied{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.st.Donations[0]
	msg, _ := furusato.Message(a.Nonce, furusato.Form{City: f.st.City, Facts: facts, Reading: a.Reading, Phone: a.Phone, Donated: g.At, Amount: g.Amount, Salaried: true, FiveOrFewer: true}, n)
	if err := jpki.Signature(cert, msg, a.Sig); err != nil {
		return furusato.Applied{}, &syncproto.Error{Code: furusato.CodeCardSignature, Message: "カードの署名が申請内容と一致しません。 / The card's signature does not match the application."}
	}
	f.applied = append(f.applied, a)
	f.st.Applications = append(f.st.Applications, furusato.Filing{ID: "onestop." + a.Donation, Donation: a.Donation})
	return furusato.Applied{ID: "onestop." + a.Donation, Municipality: "東京都世田谷区"}, nil
}

// TestDonorPage: the donor's page lists the year's donation and the
// count toward five, estimates the ceiling, refuses an application
// without the declarations before the card sees a PIN, says a wrong
// card-info PIN with its tries and sends nothing again, then reads the
// number and signs the application once with the right PIN and
// password; the number is sent once and shown only masked.
func TestDonorPage(t *testing.T) {
	at := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	api := &fakeDonor{t: t, st: furusato.Statement{City: "石川県加賀市", Year: 2026, Municipalities: 1, Deadline: furusato.OneStopDeadline(at),
		Donations: []furusato.Given{{ID: "counter-1.1", Shop: "kaga-michinoeki", At: at, Amount: 10000, Gift: "加能ガニ", Handed: true}}}}
	sc := cardtest.Card(t, cardtest.Taro)
	sc.AllowNumber = true
	p := newDonorPage(liveAs(t, enroll.Enrollment{}), cardOn{sc}, &checker{t: t}, api)
	e := load(t, &donorMounted{p}, &p.live)
	until(t, e, "the donations", func() bool { return p.st != nil })
	shows(t, p, "donor-count", "1団体")
	shows(t, p, "donations", "加能ガニ")
	shows(t, p, "donor-deadline", "2027-01-10")

	press(e, &p.live, func() { p.tax, p.rate = "300000", "10" })
	press(e, &p.live, p.estimate)
	until(t, e, "the estimate", func() bool { return p.ceiling != "" })
	want, _ := furusato.Ceiling(300000, 10)
	shows(t, p, "ceiling-result", yen(want))

	press(e, &p.live, func() { p.donation = "counter-1.1" })
	press(e, &p.live, p.connect)
	until(t, e, "connected", func() bool { return !p.busy && p.card.Connected() })
	shows(t, p, "tries", "残り3回")
	shows(t, p, "sign-tries", "残り5回")
	press(e, &p.live, func() {
		p.reading, p.phone = "カガ タロウ", "0761-00-0000"
		p.card.PIN, p.card.SignPassword = cardtest.Taro.AuthPIN, cardtest.Taro.SignPassword
	})
	press(e, &p.live, p.apply)
	shows(t, p, "card-error", "二つの申告")
	if cardtest.Verifies(sc) != 0 {
		t.Fatal("a PIN was sent without the declarations")
	}
	press(e, &p.live, func() {
		p.salaried, p.fiveOrLess = true, true
		p.card.PIN, p.card.SignPassword = "9999", cardtest.Taro.SignPassword
	})
	press(e, &p.live, p.apply)
	until(t, e, "the wrong PIN", func() bool { return !p.busy })
	shows(t, p, "card-error", "暗証番号が違います")
	shows(t, p, "tries", "残り2回")
	if cardtest.Verifies(sc) != 1 || len(api.applied) != 0 || sc.NumberReads != 0 {
		t.Fatalf("after a wrong PIN: %d PINs sent, %d applied, %d number reads", cardtest.Verifies(sc), len(api.applied), sc.NumberReads)
	}
	press(e, &p.live, func() { p.card.PIN, p.card.SignPassword = cardtest.Taro.AuthPIN, cardtest.Taro.SignPassword })
	press(e, &p.live, p.apply)
	until(t, e, "applied", func() bool { return p.applied != nil || (!p.busy && p.errMsg != "") })
	shows(t, p, "onestop-applied", "東京都世田谷区")
	html := app.HTMLString(p)
	if len(api.applied) != 1 || api.applied[0].Number != cardtest.Taro.Number || sc.NumberReads != 1 {
		t.Fatalf("applied %d times, number read %d times", len(api.applied), sc.NumberReads)
	}
	if strings.Contains(html, cardtest.Taro.Number) || !strings.Contains(html, "************") {
		t.Fatal("the page shows the individual number, or not masked")
	}
	until(t, e, "listed as applied", func() bool { return len(p.st.Applications) == 1 })
	shows(t, p, "donations", "申請済み")
}
