package ui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/card/onestop"
	"smartpass.city/smartpass/app/cardsession"
	"smartpass.city/smartpass/app/furusato"
)

// DonorAPI is the hometown-tax donor's requests, signed as the account's
// holder (furusato.API).
type DonorAPI interface {
	Donations(ctx context.Context, y furusato.Year) (furusato.Statement, error)
	Receipts(ctx context.Context, y furusato.Year) (furusato.Receipts, error)
	Ceiling(ctx context.Context, f furusato.CeilingFigures) (furusato.CeilingEstimate, error)
	OneStop(ctx context.Context, a furusato.Application) (furusato.Applied, error)
}

// donorAPI is the donor's requests (UseDonor); nil: the page says the
// donations cannot be shown on this device.
var donorAPI DonorAPI

// UseDonor sets the donor's requests; the wasm main calls it before
// Register.
func UseDonor(d DonorAPI) { donorAPI = d }

// donorPage is the hometown-tax donor's page on their phone: this
// year's donations with their receipts (PDF), the count of
// municipalities toward the one-stop exception's five and its deadline,
// the ceiling estimator (nothing typed is kept), and the one-stop
// application of a donation: the donor adds the reading of their name,
// their phone, the other municipalities and the two declarations; the
// card-info application, with its 4-digit PIN in this flow only, gives
// the four facts and the individual number (app/card/onestop through
// the card session), and the signature key signs the application with
// the signature password. The number goes from the card into the one
// request and is shown only masked.
type donorPage struct {
	app.Compo
	cardSteps
	api DonorAPI

	st      *furusato.Statement
	loadErr string
	receipt string // the saved receipts' link

	// The ceiling estimator's figures, as typed.
	tax, rate string
	ceiling   string

	// The application being filled (donation "" for none).
	donation   string
	reading    string
	phone      string
	others     string // one municipality a line
	salaried   bool
	fiveOrLess bool
	applied    *furusato.Applied
}

// newDonorPage is the donor's page over the reader r, the server's
// nonces c and the donor's requests a.
func newDonorPage(l live, r Reader, c CardChecker, a DonorAPI) *donorPage {
	return &donorPage{
		cardSteps: cardSteps{live: l, reader: r, checker: c, card: cardsession.New(cardsession.OneStop), families: []string{"onestop.", "card."}},
		api:       a, rate: "10",
	}
}

func (p *donorPage) OnMount(ctx app.Context) {
	p.mount(ctx)
	p.load()
}

func (p *donorPage) OnDismount() { p.dismount() }

// load asks for this year's donations.
func (p *donorPage) load() {
	if p.api == nil {
		return
	}
	p.later(func() func() {
		st, err := p.api.Donations(p.page, furusato.Year{})
		return func() {
			if err != nil {
				ja, en := furusato.Words(err)
				p.loadErr = p.pickText(ja, en)
				return
			}
			p.st, p.loadErr = &st, ""
		}
	})
}

// pickText is ja or en by the page's language.
func (p *donorPage) pickText(ja, en string) string {
	if p.lang == langEN {
		return en
	}
	return ja
}

// saveReceipts fetches the year's receipts and hands the PDF to the
// browser.
func (p *donorPage) saveReceipts() {
	p.act("receipts", func() error {
		r, err := p.api.Receipts(p.page, furusato.Year{Year: p.st.Year})
		if err != nil {
			return err
		}
		url, err := p.browser.Save(fmt.Sprintf("furusato-receipts-%d.pdf", p.st.Year), "application/pdf", r.PDF, p.receipt)
		p.receipt = url
		return err
	}, func() {})
}

// estimate asks for the ceiling from the figures typed (kept nowhere).
func (p *donorPage) estimate() {
	tax, err1 := strconv.ParseInt(strings.TrimSpace(p.tax), 10, 64)
	rate, err2 := strconv.Atoi(p.rate)
	if err1 != nil || err2 != nil {
		p.ceiling = p.tr("donor.ceiling.bad")
		return
	}
	p.later(func() func() {
		c, err := p.api.Ceiling(p.page, furusato.CeilingFigures{ResidentTax: tax, Rate: rate})
		return func() {
			if err != nil {
				ja, en := furusato.Words(err)
				p.ceiling = p.pickText(ja, en)
				return
			}
			p.ceiling = p.tr("donor.ceiling.is", yen(c.Ceiling))
		}
	})
}

// given is the donation being applied for.
func (p *donorPage) given() (furusato.Given, bool) {
	if p.st == nil {
		return furusato.Given{}, false
	}
	for _, g := range p.st.Donations {
		if g.ID == p.donation {
			return g, true
		}
	}
	return furusato.Given{}, false
}

// apply reads the card and signs the application, then sends it once.
func (p *donorPage) apply() {
	g, ok := p.given()
	if !ok {
		return
	}
	if !p.salaried || !p.fiveOrLess || strings.TrimSpace(p.reading) == "" || strings.TrimSpace(p.phone) == "" {
		p.errMsg = p.tr("donor.apply.missing")
		return
	}
	typed, ok := p.take()
	if !ok {
		clearInput("sign-password")
		return
	}
	clearInput("sign-password")
	city, s := p.st.City, p.card
	reading, phone := strings.TrimSpace(p.reading), strings.TrimSpace(p.phone)
	var others []string
	for _, o := range strings.Split(p.others, "\n") {
		if o = strings.TrimSpace(o); o != "" {
			others = append(others, o)
		}
	}
	p.withCard(func(ctx context.Context) func() {
		signed, err := s.Application(ctx, p.checker, typed, func(nonce []byte, r onestop.Read) ([]byte, error) {
			form := furusato.Form{City: city, Facts: r.Facts, Reading: reading, Phone: phone, Donated: g.At, Amount: g.Amount, Salaried: true, FiveOrFewer: true}
			return furusato.Message(nonce, form, r.Number)
		})
		if err != nil {
			return func() { p.proved(err, nil) }
		}
		applied, err := p.api.OneStop(ctx, furusato.Application{Donation: g.ID, Reading: reading, Phone: phone, Others: others,
			Salaried: true, FiveOrFewer: true, Number: signed.Read.Number.Reveal(), Nonce: signed.Nonce, Cert: signed.Cert, Sig: signed.Sig})
		return func() {
			p.busy = false
			if err != nil {
				ja, en := furusato.Words(err)
				p.errMsg = p.pickText(ja, en)
				return
			}
			p.applied, p.donation = &applied, ""
			p.card.Reset()
			p.load()
		}
	})
}

// filed says whether donation has a one-stop application.
func (p *donorPage) filed(donation string) bool {
	for _, f := range p.st.Applications {
		if f.Donation == donation {
			return true
		}
	}
	return false
}

func (p *donorPage) Render() app.UI {
	content := p.titled("donor.title", "donor.lead")
	switch {
	case p.api == nil:
		content = append(content, app.P().ID("donor-off").Class("error").Text(p.tr("donor.off")))
	case p.loadErr != "":
		content = append(content, app.P().ID("donor-error").Class("error").Attr("role", "alert").Text(p.loadErr))
	case p.st == nil:
		content = append(content, app.P().Class("hint").Text(p.tr("donor.loading")))
	default:
		content = append(content, p.donationsView(), p.ceilingView())
		content = append(content, p.applyView()...)
	}
	return p.frame(content...)
}

// donationsView lists the year's donations, the count toward five and
// the deadline, and the receipts.
func (p *donorPage) donationsView() app.UI {
	st := p.st
	ds := st.Donations
	return app.Section().ID("donations").Class("card").Body(
		app.H2().Text(p.tr("donor.year", st.Year)),
		app.If(len(ds) == 0, func() app.UI { return app.P().ID("donor-none").Text(p.tr("donor.none")) }),
		app.Ul().Class("list").Body(app.Range(ds).Slice(func(i int) app.UI {
			g := ds[i]
			gift := p.tr("donor.nogift")
			if g.Gift != "" {
				gift = g.Gift
			}
			return app.Li().Attr("data-donation", g.ID).Body(
				app.Strong().Text(yen(g.Amount)),
				app.Span().Text(" "+g.At.In(cityZone).Format("2006-01-02")+" "+g.Shop+" — "+gift),
				app.If(p.filed(g.ID), func() app.UI { return app.Span().Class("badge").Text(p.tr("donor.filed")) }).
					Else(func() app.UI {
						return app.Button().Class("big").Type("button").Attr("data-apply", g.ID).Text(p.tr("donor.apply")).
							OnClick(func(ctx app.Context, e app.Event) { p.donation, p.applied, p.errMsg = g.ID, nil, "" }, app.EventScope(g.ID))
					}),
			)
		})),
		app.P().ID("donor-count").Attr("data-count", st.Municipalities).Text(p.tr("donor.count", st.Municipalities)),
		app.P().ID("donor-deadline").Class("notice").Text(p.tr("donor.deadline", st.Deadline.In(cityZone).Format("2006-01-02"))),
		app.If(deadlineNear(st.Deadline, time.Now()), func() app.UI {
			return app.P().ID("donor-remind").Class("banner").Attr("role", "alert").Text(p.tr("donor.remind"))
		}),
		app.If(len(ds) > 0, func() app.UI {
			return app.Button().ID("donor-receipts").Class("big secondary").Type("button").Disabled(p.busy).Text(p.tr("donor.receipts")).
				OnClick(func(ctx app.Context, e app.Event) { p.saveReceipts() })
		}),
		app.If(p.receipt != "", func() app.UI {
			return app.A().ID("donor-receipts-link").Href(p.receipt).Attr("download", "").Text(p.tr("donor.receipts.link"))
		}),
	)
}

// deadlineNear is the reminder's rule: within 30 days of the one-stop
// deadline, and not past it.
func deadlineNear(deadline, now time.Time) bool {
	return !deadline.IsZero() && now.Before(deadline) && deadline.Sub(now) <= 30*24*time.Hour
}

// ceilingView is the estimator: what is typed goes into one request and
// is kept nowhere.
func (p *donorPage) ceilingView() app.UI {
	rates := furusato.IncomeTaxRates
	return app.Section().ID("ceiling").Class("card").Body(
		app.H2().Text(p.tr("donor.ceiling")),
		app.Label().For("resident-tax").Text(p.tr("donor.ceiling.tax")),
		app.Input().ID("resident-tax").Type("text").Attr("inputmode", "numeric").Value(p.tax).AutoComplete(false).
			OnInput(func(ctx app.Context, e app.Event) { p.tax = ctx.JSSrc().Get("value").String() }),
		app.Label().For("tax-rate").Text(p.tr("donor.ceiling.rate")),
		app.Select().ID("tax-rate").OnChange(func(ctx app.Context, e app.Event) { p.rate = ctx.JSSrc().Get("value").String() }).Body(
			app.Range(rates).Slice(func(i int) app.UI {
				r := strconv.Itoa(rates[i])
				return app.Option().Value(r).Selected(r == p.rate).Text(r + "%")
			}),
		),
		app.Button().ID("ceiling-go").Class("big secondary").Type("button").Text(p.tr("donor.ceiling.go")).
			OnClick(func(ctx app.Context, e app.Event) { p.estimate() }),
		app.If(p.ceiling != "", func() app.UI { return app.P().ID("ceiling-result").Attr("role", "status").Text(p.ceiling) }),
	)
}

// applyView is the one-stop application of the donation picked, or what
// the last one filed answered.
func (p *donorPage) applyView() []app.UI {
	if p.applied != nil {
		a := p.applied
		return []app.UI{app.P().ID("onestop-applied").Class("result ok").Attr("role", "status").
			Text(p.tr("donor.applied", a.Municipality, "************"))}
	}
	g, ok := p.given()
	if !ok {
		return nil
	}
	check := func(id, key string, on *bool) app.UI {
		return app.Label().Class("choice").Body(
			app.Input().ID(id).Type("checkbox").Checked(*on).OnChange(func(ctx app.Context, e app.Event) { *on = ctx.JSSrc().Get("checked").Bool() }),
			app.Span().Text(p.tr(key)),
		)
	}
	extra := app.Div().Body(
		app.Label().For("sign-password").Text(p.tr("onestop.password")),
		app.Input().ID("sign-password").Type("password").Class("code").Value(p.card.SignPassword).AutoComplete(false).
			Attr("maxlength", 16).Attr("autocapitalize", "characters").Attr("spellcheck", "false").
			OnInput(func(ctx app.Context, e app.Event) { p.card.SignPassword = ctx.JSSrc().Get("value").String() }),
		app.If(p.card.SignTries >= 0, func() app.UI {
			return app.P().ID("sign-tries").Class("hint").Text(p.tr("card.tries", p.card.SignTries))
		}),
	)
	out := []app.UI{app.Section().ID("onestop").Class("card").Body(
		app.H2().Text(p.tr("donor.apply.title", yen(g.Amount), g.At.In(cityZone).Format("2006-01-02"))),
		app.P().Class("hint").Text(p.tr("donor.apply.lead")),
		app.Label().For("reading").Text(p.tr("donor.reading")),
		app.Input().ID("reading").Type("text").Value(p.reading).OnInput(func(ctx app.Context, e app.Event) { p.reading = ctx.JSSrc().Get("value").String() }),
		app.Label().For("phone").Text(p.tr("donor.phone")),
		app.Input().ID("phone").Type("tel").Value(p.phone).OnInput(func(ctx app.Context, e app.Event) { p.phone = ctx.JSSrc().Get("value").String() }),
		app.Label().For("others").Text(p.tr("donor.others")),
		app.Textarea().ID("others").Text(p.others).OnInput(func(ctx app.Context, e app.Event) { p.others = ctx.JSSrc().Get("value").String() }),
		check("decl-salaried", "donor.decl.salaried", &p.salaried),
		check("decl-five", "donor.decl.five", &p.fiveOrLess),
	)}
	return append(out, p.stepsView(true, false, p.tr("donor.apply.send"), extra, p.apply)...)
}

var donorText = map[string][2]string{
	"mode.donor":          {"ふるさと納税（寄附の記録）", "Hometown tax (my donations)"},
	"mode.donor.d":        {"寄附の記録、受領証明書、ワンストップ特例の申請", "Your donations, receipts and the one-stop application"},
	"donor.title":         {"ふるさと納税", "Hometown tax"},
	"donor.lead":          {"今年の寄附と受領証明書、ワンストップ特例の申請です。", "This year's donations, their receipts, and the one-stop application."},
	"donor.off":           {"この端末では表示できません。", "This device cannot show your donations."},
	"donor.loading":       {"読み込み中…", "Loading…"},
	"donor.year":          {"%d年の寄附", "Donations in %d"},
	"donor.none":          {"今年の寄附はまだありません。", "No donations this year yet."},
	"donor.nogift":        {"返礼品なし", "no gift"},
	"donor.filed":         {"申請済み", "Applied"},
	"donor.apply":         {"ワンストップ特例を申請する", "Apply for the one-stop exception"},
	"donor.count":         {"今年の寄附先: %d団体（ワンストップ特例は5団体まで）", "Municipalities this year: %d (the one-stop exception allows five)"},
	"donor.deadline":      {"ワンストップ特例の申請期限: %s", "One-stop application deadline: %s"},
	"donor.remind":        {"申請期限が近づいています。お早めに申請してください。", "The deadline is near: please apply soon."},
	"donor.receipts":      {"寄附金受領証明書（PDF）を保存", "Save the donation receipts (PDF)"},
	"donor.receipts.link": {"受領証明書をもう一度保存する", "Save the receipts again"},
	"donor.ceiling":       {"控除の上限の目安", "Estimate of your deduction ceiling"},
	"donor.ceiling.tax":   {"住民税の所得割額（円・決定通知書に記載）", "Income-based resident tax (yen, on your tax notice)"},
	"donor.ceiling.rate":  {"所得税の税率", "Income-tax rate"},
	"donor.ceiling.go":    {"目安を計算する（入力した数字は保存されません）", "Estimate (what you type is not kept)"},
	"donor.ceiling.bad":   {"住民税の額を数字で入れてください。", "Enter the resident tax as a number."},
	"donor.ceiling.is":    {"自己負担2,000円で寄附できる目安: %s", "Estimated amount with only ¥2,000 to pay yourself: %s"},
	"donor.apply.title":   {"ワンストップ特例の申請（%s・%s の寄附）", "One-stop application (donation of %s on %s)"},
	"donor.apply.lead":    {"氏名・住所・生年月日・性別と個人番号はカードから読み取ります。個人番号はこの申請でだけ読み取り、市の専用の保管庫に送られます。", "Your name, address, birth date, sex and individual number are read from the card. The number is read for this application only and goes to the city's separate vault."},
	"donor.reading":       {"フリガナ", "Reading of your name (katakana)"},
	"donor.phone":         {"電話番号", "Phone number"},
	"donor.others":        {"今年寄附したほかの自治体（1行に1つ）", "Other municipalities you gave to this year (one a line)"},
	"donor.decl.salaried": {"確定申告の必要がない給与所得者等です", "I need not file a tax return (salaried, etc.)"},
	"donor.decl.five":     {"今年の寄附先は5団体以内です", "I give to at most five municipalities this year"},
	"donor.apply.missing": {"フリガナ・電話番号を入れ、二つの申告に印をつけてください。", "Enter the reading and phone, and tick both declarations."},
	"donor.apply.send":    {"カードで署名して申請する", "Sign with the card and apply"},
	"donor.applied":       {"申請しました。%s へ送付します（個人番号 %s）。", "Applied: it goes to %s (individual number %s)."},
	"onestop.pin":         {"券面事項入力補助用の暗証番号（数字4桁）", "Card-info PIN (4 digits)"},
	"onestop.password":    {"署名用電子証明書のパスワード（英大文字と数字の6〜16文字）", "Signature certificate password (6 to 16 capital letters and digits)"},
}

func init() {
	for k, v := range donorText {
		text[k] = v
	}
}
