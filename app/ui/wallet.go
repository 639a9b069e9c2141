package ui

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/statement"
	"smartpass.city/smartpass/app/wallet"
	"smartpass.city/smartpass/syncproto"
)

// The account page's wallets: each household member's balance and
// statement, month by month (app/statement), and a card top-up
// (wallet.API.TopUpCard) by the household's holder.
//
// The card never reaches the server: the server is sent a PaymentMethod
// id the gateway made of it. In production the city serves the
// gateway's own script (Stripe.js from js.stripe.com, allowed by the
// page's CSP) and mounts its card field in this form, which turns the
// card into a pm_... id in the browser; the rest (the endpoint, the
// server's charge and confirmation) is what runs here. This build can
// load no script from the gateway, and Stripe's mock server has no
// browser side, so the form offers the gateway's own test payment
// methods by name instead of a card field: that is the one part that
// changes in production.

// Wallets is the household's wallets as the account page reaches them,
// asked as the account's holder. The browser's accounts (wasm) are
// Wallets too; an Accounts that is not shows no wallet section.
type Wallets interface {
	// Statement reads a household member's wallet: balance and lines.
	Statement(ctx context.Context, resident string) (wallet.Statement, error)
	// TopUpCard charges the card behind a PaymentMethod id and credits
	// a household member's wallet.
	TopUpCard(ctx context.Context, t wallet.CardTopUp) (wallet.CardResult, error)
	// SetLimits sets a household member's wallet limits and answers
	// with their statement, the new limits in force.
	SetLimits(ctx context.Context, s wallet.Settings) (wallet.Statement, error)
}

// testCards are the gateway's test payment methods the form offers in
// place of the gateway's card field (see above): one that pays, one the
// issuer declines.
var testCards = []string{"pm_card_visa", "pm_card_visa_chargeDeclinedInsufficientFunds"}

// topUpAmounts are the amounts offered, as large buttons.
var topUpAmounts = []int64{1_000, 3_000, 5_000, 10_000}

// walletSection is the account page's wallet part.
type walletSection struct {
	statements map[string]wallet.Statement
	months     map[string][]statement.Month
	names      map[string]string // facility id -> name, for a statement's lines
	loadErr    string

	// The top-up form: for whom, how much, which test card.
	who    string
	amount int64
	card   string
	// request is the browser's id for the top-up on the form: kept
	// while it is not posted and the form is unchanged, so pressing
	// again after a lost answer charges the card once.
	request string
	done    *wallet.CardResult // the last top-up, posted or waiting
	doneFor string
	err     string

	// limits is the limits form (walletlimits.go).
	limits limitsForm
}

// walletsOf is the page's Wallets, or nil.
func (p *accountPage) walletsOf() Wallets {
	w, _ := p.accounts.(Wallets)
	return w
}

// people are the household's members whose wallets the holder sees:
// the holder first.
func (p *accountPage) people() []account.Account {
	if p.household == nil {
		return nil
	}
	return append([]account.Account{p.household.Guardian}, p.household.Members...)
}

// loadWallets reads every household member's statement, and the
// facilities' names its lines are shown with.
func (p *accountPage) loadWallets() {
	w := p.walletsOf()
	people := p.people()
	if w == nil || len(people) == 0 {
		return
	}
	p.later(func() func() {
		got := make(map[string]wallet.Statement, len(people))
		names := map[string]string{}
		var err error
		for _, m := range people {
			var s wallet.Statement
			if s, err = w.Statement(p.page, m.ID); err != nil {
				break
			}
			got[m.ID] = s
		}
		if err == nil {
			fs, ferr := p.accounts.Facilities(p.page)
			if ferr != nil {
				app.Log("wallet: facility names:", ferr) // lines then name the facility's id
			}
			for _, f := range fs {
				names[f.ID] = f.Name(p.lang)
			}
		}
		return func() {
			ws := &p.wallet
			ws.loadErr = ""
			if err != nil {
				app.Log("wallet: statement:", err)
				ws.loadErr = p.tr("wallet.err.load") + " " + refusalText(err)
				return
			}
			ws.statements, ws.names, ws.months = got, names, map[string][]statement.Month{}
			for id, s := range got {
				ws.months[id] = p.monthsOf(s)
			}
		}
	})
}

// monthsOf is a statement month by month (nil, with the reason logged,
// when the server's lines do not add up: no statement rather than a
// wrong one).
func (p *accountPage) monthsOf(s wallet.Statement) []statement.Month {
	lines, opening, err := statement.FromWallet(s, p.withName)
	var months []statement.Month
	if err == nil {
		months, err = statement.Build(lines, opening, cityZone)
	}
	if err != nil {
		app.Log("wallet: statement of", s.Resident+":", err)
		return nil
	}
	return months
}

// withName names a line's other side: the city desk (cash), a card, a
// facility by its name.
func (p *accountPage) withName(with string) string {
	switch with {
	case "cash":
		return p.tr("wallet.with.cash")
	case "card":
		return p.tr("wallet.with.card")
	}
	if n := p.wallet.names[with]; n != "" {
		return n
	}
	return with
}

// refusalText is the server's own words in a refusal, else the error.
func refusalText(err error) string {
	var r *syncproto.Error
	if errors.As(err, &r) && r.Message != "" {
		return r.Message
	}
	return err.Error()
}

// setTopUp changes the form: a new top-up, with a new request id when
// next sent.
func (p *accountPage) setTopUp(who string, amount int64, card string) {
	ws := &p.wallet
	ws.who, ws.amount, ws.card, ws.request, ws.err = who, amount, card, "", ""
}

// topUp sends the form's top-up once per press, with the form's request
// id, and reads the wallets again when it posted.
func (p *accountPage) topUp() {
	ws := &p.wallet
	w := p.walletsOf()
	switch {
	case w == nil || p.busy:
		return
	case ws.who == "" || ws.amount <= 0 || ws.card == "":
		ws.err = p.tr("wallet.topup.choose")
		return
	}
	if ws.request == "" {
		var b [12]byte
		rand.Read(b[:])
		ws.request = hex.EncodeToString(b[:])
	}
	t := wallet.CardTopUp{Resident: ws.who, Amount: ws.amount, PaymentMethod: ws.card, Request: ws.request}
	p.busy, ws.err, ws.done = true, "", nil
	p.later(func() func() {
		res, err := w.TopUpCard(p.page, t)
		return func() {
			p.busy = false
			if err != nil {
				app.Log("wallet: top-up:", err)
				ws.err = refusalText(err)
				var refused *syncproto.Error
				if errors.As(err, &refused) {
					ws.request = "" // answered: a new press is a new top-up
				}
				return
			}
			ws.done, ws.doneFor = &res, t.Resident
			if res.Posted {
				ws.request = ""
			}
			p.loadWallets()
		}
	})
}

// walletView is the household's wallets and the top-up form.
func (p *accountPage) walletView() app.UI {
	if p.walletsOf() == nil {
		return nil
	}
	ws := &p.wallet
	people := p.people()
	return app.Section().ID("wallets").Class("card").Body(
		app.H2().Text(p.tr("wallet.title")),
		app.If(ws.loadErr != "", func() app.UI {
			return app.P().ID("wallet-error").Class("error").Attr("role", "alert").Text(ws.loadErr)
		}),
		app.Range(people).Slice(func(i int) app.UI { return p.walletOf(people[i]) }),
		p.topUpView(people),
	)
}

// walletOf is one person's balance and statement.
func (p *accountPage) walletOf(m account.Account) app.UI {
	s, ok := p.wallet.statements[m.ID]
	if !ok {
		return app.Div().ID("wallet-"+m.ID).Class("wallet").Attr("data-id", m.ID).Body(app.H3().Text(m.Facts.Name))
	}
	months := p.wallet.months[m.ID]
	return app.Div().ID("wallet-"+m.ID).Class("wallet").Attr("data-id", m.ID).Attr("data-balance", s.Balance).Attr("data-lines", len(s.Lines)).Body(
		app.H3().Text(m.Facts.Name),
		app.P().Class("amount balance").Text(p.tr("wallet.balance", yen(s.Balance))),
		app.If(s.Debt > 0, func() app.UI {
			return app.P().Class("error debt").Attr("role", "alert").Text(p.tr("wallet.debt", yen(s.Debt)))
		}),
		p.limitsView(m, s),
		app.If(len(s.Lines) == 0, func() app.UI { return app.P().Class("hint").Text(p.tr("wallet.none")) }),
		app.Range(months).Slice(func(i int) app.UI { return p.monthView(months[i]) }),
	)
}

// monthView is one month of a statement: its lines with the balance
// after each, and the month's totals.
func (p *accountPage) monthView(m statement.Month) app.UI {
	return app.Div().Class("month").Attr("data-month", m.Month).Body(
		app.H4().Text(m.Month),
		app.Table().Class("statement").Body(
			app.THead().Body(app.Tr().Body(
				app.Th().Text(p.tr("wallet.col.when")), app.Th().Text(p.tr("wallet.col.what")),
				app.Th().Text(p.tr("wallet.col.where")), app.Th().Text(p.tr("wallet.col.amount")),
				app.Th().Text(p.tr("wallet.col.balance")),
			)),
			app.TBody().Body(app.Range(m.Rows).Slice(func(i int) app.UI {
				r := m.Rows[i]
				ja, en := r.Kind.Words()
				sign := "−"
				if r.Kind == statement.TopUp || r.Kind == statement.Refund || r.Kind == statement.FamilyIn {
					sign = "+"
				}
				return app.Tr().Class("line").Attr("data-kind", string(r.Kind)).Attr("data-amount", r.Amount).Attr("data-op", r.Op).Body(
					app.Td().Text(r.At.In(cityZone).Format("01-02 15:04")),
					app.Td().Text(p.pickLang(ja, en)),
					app.Td().Text(r.Where),
					app.Td().Class("num").Text(sign+yen(r.Amount)),
					app.Td().Class("num").Text(yen(r.Balance)),
				)
			})),
		),
		app.P().Class("hint").Text(p.tr("wallet.month", yen(m.TopUps), yen(m.Payments), yen(m.Refunds), yen(m.Closing))),
	)
}

// pickLang is ja or en by the page's language.
func (p *accountPage) pickLang(ja, en string) string {
	if p.lang == langEN {
		return en
	}
	return ja
}

// topUpView is the card top-up form: whose wallet, how much, which
// (test) card, and the button.
func (p *accountPage) topUpView(people []account.Account) app.UI {
	ws := &p.wallet
	choice := p.choice
	return app.Div().ID("topup").Body(
		app.H3().Text(p.tr("wallet.topup")),
		app.P().Text(p.tr("wallet.topup.who")),
		app.Div().Class("actions").Body(app.Range(people).Slice(func(i int) app.UI {
			m := people[i]
			return choice("topup-who", "data-id", m.ID, m.Facts.Name, ws.who == m.ID, func() { p.setTopUp(m.ID, ws.amount, ws.card) })
		})),
		app.P().Text(p.tr("wallet.topup.amount")),
		app.Div().Class("actions").Body(app.Range(topUpAmounts).Slice(func(i int) app.UI {
			n := topUpAmounts[i]
			return choice("topup-amount", "data-amount", strconv.FormatInt(n, 10), yen(n), ws.amount == n, func() { p.setTopUp(ws.who, n, ws.card) })
		})),
		app.P().Text(p.tr("wallet.topup.card")),
		app.P().Class("hint").Text(p.tr("wallet.topup.test")),
		app.Div().Class("actions").Body(app.Range(testCards).Slice(func(i int) app.UI {
			c := testCards[i]
			return choice("topup-card", "data-card", c, p.tr("wallet.card."+c), ws.card == c, func() { p.setTopUp(ws.who, ws.amount, c) })
		})),
		app.Div().Class("actions").Body(
			app.Button().ID("topup-send").Class("big").Type("button").Disabled(p.busy).Text(p.tr("wallet.topup.send")).
				OnClick(func(ctx app.Context, e app.Event) { p.topUp() }),
		),
		app.If(ws.err != "", func() app.UI {
			return app.P().ID("topup-error").Class("error").Attr("role", "alert").Text(ws.err)
		}),
		app.If(ws.done != nil, func() app.UI {
			if !ws.done.Posted {
				return app.P().ID("topup-state").Class("notice").Attr("role", "status").Attr("data-state", "waiting").Text(p.tr("wallet.topup.waiting"))
			}
			return app.P().ID("topup-state").Class("notice ok").Attr("role", "status").Attr("data-state", "posted").Attr("data-balance", ws.done.Balance).
				Text(p.tr("wallet.topup.ok", yen(ws.done.Balance)))
		}),
	)
}

// choice is one of a form's large choice buttons: class names the group,
// attr=value the button (for tests and the e2e), on whether it is the
// one chosen, pick what pressing it does.
func (p *accountPage) choice(class, attr, value, label string, on bool, pick func()) app.UI {
	c := "secondary choice " + class
	if on {
		c = "choice chosen " + class
	}
	return app.Button().Type("button").Class(c).Attr(attr, value).Attr("aria-pressed", on).Disabled(p.busy).Text(label).
		OnClick(func(ctx app.Context, e app.Event) { pick() }, app.EventScope(class+value))
}

// walletText is the wallet section's words, Japanese first.
var walletText = map[string][2]string{
	"wallet.title":             {"ウォレット（残高と明細）", "Wallets (balance and statement)"},
	"wallet.balance":           {"残高 %s", "Balance %s"},
	"wallet.debt":              {"未精算 %s（オフラインの支払い）：次のチャージで精算されます。", "%s unsettled (an offline payment): settled by the next top-up."},
	"wallet.none":              {"まだ入出金はありません。", "No movements yet."},
	"wallet.err.load":          {"ウォレットを読めませんでした。", "The wallets could not be read."},
	"wallet.with.cash":         {"市役所窓口（現金）", "City desk (cash)"},
	"wallet.with.card":         {"クレジットカード", "Credit card"},
	"wallet.col.when":          {"日時", "When"},
	"wallet.col.what":          {"種別", "What"},
	"wallet.col.where":         {"内容", "Where"},
	"wallet.col.amount":        {"金額", "Amount"},
	"wallet.col.balance":       {"残高", "Balance"},
	"wallet.month":             {"入金 %s　支払い %s　返金 %s　月末残高 %s", "In %s · paid %s · refunds %s · closing %s"},
	"wallet.topup":             {"カードでチャージ", "Top up by card"},
	"wallet.topup.who":         {"だれのウォレットに", "Whose wallet"},
	"wallet.topup.amount":      {"金額", "Amount"},
	"wallet.topup.card":        {"カード", "Card"},
	"wallet.topup.test":        {"デモ用：決済会社のテスト用カードを名前で選びます（本番ではここにカード入力欄が出ます。カード番号はこのサーバーに送られません）。", "Demo: pick one of the gateway's test cards by name (in production the gateway's card field is here; the card number never reaches this server)."},
	"wallet.topup.send":        {"チャージする", "Top up"},
	"wallet.topup.choose":      {"だれに・いくら・どのカードかを選んでください。", "Choose whose wallet, the amount and the card."},
	"wallet.topup.waiting":     {"カード会社の確認を待っています。確認されると残高に入ります。", "Waiting for the card company's confirmation; the wallet is credited then."},
	"wallet.topup.ok":          {"チャージしました。残高 %s", "Topped up. Balance %s"},
	"wallet.card.pm_card_visa": {"テスト用 Visa（支払いできる）", "Test Visa (pays)"},
	"wallet.card.pm_card_visa_chargeDeclinedInsufficientFunds": {"テスト用 Visa（残高不足で断られる）", "Test Visa (declined: insufficient funds)"},
}

func init() { addText(walletText) }
