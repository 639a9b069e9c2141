package ui

import (
	"bytes"
	"context"
	"encoding/base64"
	"image/png"
	"net/url"

	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/cardsession"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/qrcode"
	"smartpass.city/smartpass/app/route"
	"smartpass.city/smartpass/app/template"
)

// Accounts is the resident's account as the screens use it: the key
// pair this device holds it with, and the server's account endpoints.
type Accounts interface {
	// AccountKey returns this device's account public key, made on
	// first use.
	AccountKey(ctx context.Context) ([]byte, error)
	// Holder returns the id of the account this device holds ("" for
	// none).
	Holder(ctx context.Context) (string, error)
	OpenAccount(ctx context.Context, req account.Request) (account.Account, error)
	RecoverAccount(ctx context.Context, req account.Request) (account.Account, error)
	// AddMember, Household and RegisterFace ask as the account's holder.
	AddMember(ctx context.Context, m account.Member) (account.Account, error)
	Household(ctx context.Context) (account.Household, error)
	RegisterFace(ctx context.Context, t template.Template) error
	// DeleteFace deletes the face of the holder or a family member;
	// DeleteAccount the account, its family members and their faces,
	// and forgets it on this device.
	DeleteFace(ctx context.Context, resident string) error
	SetConsent(ctx context.Context, c account.Consent) error
	DeleteAccount(ctx context.Context) error
	// History lists when and where the household's faces were
	// recognised, newest first.
	History(ctx context.Context) ([]account.Visit, error)
	// Facilities lists the facilities that recognise faces.
	Facilities(ctx context.Context) ([]facility.Facility, error)
	// Pass asks the server for a QR pass for the holder or a family
	// member.
	Pass(ctx context.Context, resident string) (account.Pass, error)
}

// accountPage is the resident's own account on their phone: opened
// (or recovered onto this device) with the card's signature password,
// optionally linking the card with its 4-digit PIN; then the household,
// with family members added from their cards' card-info application,
// consents, faces, QR passes, the history of recognitions, and the
// account's deletion.
type accountPage struct {
	app.Compo
	cardSteps
	accounts Accounts

	acct    *account.Account
	exists  bool // the account exists already: the next proof recovers it
	recover bool // the account was recovered onto this device

	holder    string
	household *account.Household
	visits    []account.Visit
	pass      *shownPass // the QR pass on screen
	// family is set while a family member's card is read; member holds
	// its four facts to confirm, memberLink the card's proof made with
	// them.
	family     bool
	member     *card.Facts
	memberLink *account.CardLink

	faceDeleted   string // the person whose face was just deleted
	confirmDelete bool   // the holder pressed delete once
	deleted       bool   // the account was deleted

	wallet walletSection // the household's wallets (wallet.go)
}

// newAccountPage is the account page over the reader r, the server's
// nonces c and the account endpoints a.
func newAccountPage(l live, r Reader, c CardChecker, a Accounts) *accountPage {
	p := &accountPage{cardSteps: cardSteps{live: l, reader: r, checker: c}, accounts: a}
	p.useCard(false)
	return p
}

// useCard puts a fresh session on the page: the holder's own card's
// signature key, or a family member's card-info application.
func (p *accountPage) useCard(family bool) {
	p.family = family
	if family {
		p.card, p.families = cardsession.New(cardsession.Info), []string{"family.", "card."}
		return
	}
	p.card, p.families = cardsession.New(cardsession.Sign), []string{"account."}
}

func (p *accountPage) OnMount(ctx app.Context) {
	p.mount(ctx)
	p.loadHousehold()
}

func (p *accountPage) OnDismount() { p.dismount() }

func (p *accountPage) Render() app.UI {
	var leadArgs []any
	if p.text("lead") == "account.mine.lead" {
		leadArgs = []any{p.holder}
	}
	content := p.titled(p.text("title"), p.text("lead"), leadArgs...)
	authPIN := app.If(!p.family && p.card.AuthTries != 0, func() app.UI {
		return app.Div().Body(
			app.Label().For("auth-pin").Text(p.tr("account.authpin")),
			app.Input().ID("auth-pin").Type("password").Class("code").Value(p.card.AuthPIN).AutoComplete(false).
				Attr("inputmode", "numeric").Attr("maxlength", 4).
				OnInput(func(ctx app.Context, e app.Event) { p.card.AuthPIN = ctx.JSSrc().Get("value").String() }),
			app.P().ID("auth-tries").Class("hint").Text(p.tr("card.tries", p.card.AuthTries)),
			app.P().Class("hint").Text(p.tr("account.authpin.hint")),
		)
	})
	content = append(content, p.stepsView(p.cardFlow(), p.acct != nil, p.tr(p.text("verify")), authPIN, p.verify)...)
	return p.frame(append(content,
		app.If(p.deleted, func() app.UI {
			return app.P().ID("account-deleted").Class("notice ok").Attr("role", "status").Text(p.tr("account.deleted"))
		}),
		app.If(p.acct != nil, func() app.UI { return p.accountView() }),
		app.If(p.holder != "" && !p.family, func() app.UI { return p.householdView() }),
		app.If(p.family && p.member != nil, func() app.UI { return p.memberView(*p.member, p.addMember, p.endFamily) }),
	)...)
}

// cardFlow reports whether the page is taking a card through its PIN:
// to open the account, or to read a family member's card.
func (p *accountPage) cardFlow() bool {
	if p.family {
		return p.member == nil
	}
	return p.holder == "" || p.acct != nil
}

// text is the text key of a part of the page for what it is doing.
func (p *accountPage) text(part string) string {
	switch {
	case p.family:
	case part == "verify" && p.exists:
		return "account.recover"
	case (part == "title" || part == "lead") && p.holder != "" && p.acct == nil:
		return "account.mine." + part
	}
	return p.own(part)
}

// verify sends the typed password (and PIN) to the card, once: to open
// or recover the account, or to read a family member's card.
func (p *accountPage) verify() {
	typed, ok := p.take()
	if !ok {
		return
	}
	s, exists := p.card, p.exists
	if p.family {
		p.withCard(func(ctx context.Context) func() {
			f, link, err := s.Member(ctx, p.checker, typed, p.accounts.AccountKey)
			return func() { p.proved(err, func() { p.member, p.memberLink = &f, link }) }
		})
		return
	}
	p.withCard(func(ctx context.Context) func() {
		acct, err := p.openAccount(ctx, s, typed, exists)
		return func() {
			if cardsession.Refused(err, account.CodeExists) {
				p.exists = true
			}
			p.proved(err, func() { p.acct, p.recover, p.holder = &acct, exists, acct.ID })
		}
	})
}

// openAccount has the card sign the server's nonce bound to this
// device's account key and opens the account; after the server said it
// exists, it recovers it instead.
func (p *accountPage) openAccount(ctx context.Context, s *cardsession.Session, typed cardsession.Typed, exists bool) (account.Account, error) {
	key, err := p.accounts.AccountKey(ctx)
	if err != nil {
		return account.Account{}, err
	}
	req, err := s.Account(ctx, p.checker, typed, key)
	if err != nil {
		return account.Account{}, err
	}
	if exists {
		return p.accounts.RecoverAccount(ctx, req)
	}
	return p.accounts.OpenAccount(ctx, req)
}

// accountView is the opened (or recovered) account: its number and the
// four facts from the certificate, for the resident to check.
func (p *accountPage) accountView() app.UI {
	key := "account.ok"
	if p.recover {
		key = "account.recovered"
	}
	return app.Div().ID("account-ok").Class("notice").Attr("role", "status").Attr("data-id", p.acct.ID).Attr("data-cards", len(p.acct.Cards)).Body(
		app.P().Text(p.tr(key, p.acct.ID)),
		app.If(len(p.acct.Cards) > 0, func() app.UI { return app.P().ID("card-linked").Text(p.tr("account.linked")) }),
		p.factsView(p.acct.Facts),
	)
}

// householdView lists the account's family members and offers to add
// one.
func (p *accountPage) householdView() app.UI {
	var members []account.Account
	if p.household != nil {
		members = p.household.Members
	}
	return app.Section().ID("household").Class("card").Attr("data-members", len(members)).Body(
		app.If(p.household != nil && p.acct == nil, func() app.UI {
			return app.Div().ID("holder").Body(
				app.H2().Text(p.tr("account.mine.facts")),
				p.factsView(p.household.Guardian.Facts),
				p.personActions(p.household.Guardian),
			)
		}),
		app.H2().Text(p.tr("family.household")),
		app.If(len(members) == 0, func() app.UI { return app.P().Class("hint").Text(p.tr("family.none")) }),
		app.Range(members).Slice(func(i int) app.UI {
			m := members[i]
			return app.Div().Class("member").Attr("data-id", m.ID).Attr("data-source", m.Source).Body(
				app.H3().Text(m.Facts.Name),
				app.If(account.Declared(m.Source), func() app.UI {
					return app.P().Class("hint declared").Text(p.tr("family.declared"))
				}),
				p.factsView(m.Facts),
				p.personActions(m),
			)
		}),
		app.Div().Class("actions").Body(
			app.Button().ID("add-member").Disabled(p.busy).Text(p.tr("family.add")).
				OnClick(func(ctx app.Context, e app.Event) { p.startFamily() }),
			app.A().ID("to-hospital").Class("button secondary").Href(route.AccountHospital).Text(p.tr("visit.title")),
		),
		p.walletView(),
		p.historyView(),
		p.deleteView(),
	)
}

// historyView lists when and where the household's faces were
// recognised: the resident's view of the audit log.
func (p *accountPage) historyView() app.UI {
	names := map[string]string{}
	if p.household != nil {
		names[p.household.Guardian.ID] = p.household.Guardian.Facts.Name
		for _, m := range p.household.Members {
			names[m.ID] = m.Facts.Name
		}
	}
	visits := p.visits
	return app.Section().ID("history").Attr("data-count", len(visits)).Body(
		app.H2().Text(p.tr("account.history")),
		app.If(len(visits) == 0, func() app.UI { return app.P().Class("hint").Text(p.tr("account.history.none")) }),
		app.Ul().Body(app.Range(visits).Slice(func(i int) app.UI {
			v := visits[i]
			place := v.NameJA
			if p.lang == langEN && v.NameEN != "" {
				place = v.NameEN
			}
			return app.Li().Text(v.Time.Local().Format("2006-01-02 15:04") + "　" + place + "　" + names[v.Resident])
		})),
	)
}

// personActions are what the holder can do for a person: register (or
// renew) or delete their face, and grant or withdraw each purpose.
func (p *accountPage) personActions(a account.Account) app.UI {
	id := a.ID
	return app.Div().Body(
		app.FieldSet().Class("consents").Body(
			app.Legend().Text(p.tr("account.consents")),
			app.Range(account.Purposes).Slice(func(i int) app.UI {
				purpose := account.Purposes[i]
				return app.Label().Class("check").Body(
					app.Input().Type("checkbox").Class("consent").Attr("data-id", id).Attr("data-purpose", purpose).
						Attr("data-granted", a.Consents[purpose]). // as the server holds it
						Checked(a.Consents[purpose]).Disabled(p.busy).
						OnChange(func(ctx app.Context, e app.Event) {
							p.setConsent(account.Consent{Resident: id, Purpose: purpose, Granted: ctx.JSSrc().Get("checked").Bool()})
						}, app.EventScope(id+"/"+purpose)),
					app.Text(p.tr("account.purpose."+purpose)),
				)
			}),
		),
		p.faceStatus(a),
		app.Div().Class("actions").Body(
			app.A().Class("button secondary face-link").Attr("data-id", id).
				Href(route.AccountFace+"?r="+url.QueryEscape(id)).Text(p.tr("family.face")),
			app.Button().Class("secondary face-delete").Attr("data-id", id).Disabled(p.busy).Text(p.tr("family.face.delete")).
				OnClick(func(ctx app.Context, e app.Event) { p.deleteFace(id) }, app.EventScope(id)),
			app.Button().Class("secondary pass-show").Attr("data-id", id).Disabled(p.busy).Text(p.tr("pass.show")).
				OnClick(func(ctx app.Context, e app.Event) { p.showPass(id) }, app.EventScope(id)),
		),
		app.If(p.pass != nil && p.pass.resident == id, func() app.UI { return p.passView() }),
		app.If(p.faceDeleted == id, func() app.UI {
			return app.P().Class("notice ok face-deleted").Attr("role", "status").Text(p.tr("family.face.deleted"))
		}),
	)
}

// faceStatus says until when the person's face is registered, and
// reminds the holder to renew it from a month before.
func (p *accountPage) faceStatus(a account.Account) app.UI {
	exp := a.FaceExpires
	if exp.IsZero() {
		return app.P().Class("hint face-status").Text(p.tr("account.face.none"))
	}
	date := exp.Local().Format("2006-01-02")
	left := time.Until(exp)
	switch {
	case left <= 0:
		return app.P().Class("error face-status").Attr("role", "alert").Text(p.tr("account.face.expired", date))
	case left < account.RenewWithin:
		return app.P().Class("error face-status").Attr("role", "alert").Text(p.tr("account.face.renew", date))
	}
	return app.P().Class("hint face-status").Text(p.tr("account.face.until", date))
}

// setConsent grants or withdraws a purpose, and shows it as stored.
func (p *accountPage) setConsent(c account.Consent) {
	var h account.Household
	p.act("consent", func() error {
		if err := p.accounts.SetConsent(p.page, c); err != nil {
			return err
		}
		var err error
		h, err = p.accounts.Household(p.page)
		return err
	}, func() { p.household = &h })
}

// deleteFace deletes the person's face at every facility.
func (p *accountPage) deleteFace(id string) {
	p.faceDeleted = ""
	p.act("delete face", func() error { return p.accounts.DeleteFace(p.page, id) }, func() { p.faceDeleted = id })
}

// shownPass is a QR pass on the phone's screen.
type shownPass struct {
	resident string
	account.Pass
	png string // the QR code, as a data URL
}

// passQRSize is the QR code's side in pixels: large enough for a
// terminal's camera at arm's length, and for the phone's screen.
const passQRSize = 360

// showPass asks for a QR pass for the person and draws it.
func (p *accountPage) showPass(id string) {
	var shown shownPass
	p.act("pass", func() error {
		ps, err := p.accounts.Pass(p.page, id)
		if err != nil {
			return err
		}
		url, err := qrDataURL(ps.Text, passQRSize)
		shown = shownPass{resident: id, Pass: ps, png: url}
		return err
	}, func() { p.pass = &shown })
}

// qrDataURL draws text as a QR code of at least size pixels, as a PNG
// data URL for an img element.
func qrDataURL(text string, size int) (string, error) {
	img, err := qrcode.Encode(text, size)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// passView is the QR pass to show at the facility, with until when it
// is valid.
func (p *accountPage) passView() app.UI {
	return app.Div().ID("pass").Class("notice pass").Attr("data-id", p.pass.resident).Attr("data-text", p.pass.Text).Body(
		app.Img().ID("pass-qr").Class("pass-qr").Src(p.pass.png).Alt(p.tr("pass.alt")),
		app.P().Text(p.tr("pass.lead", p.pass.Expires.Local().Format("15:04"))),
		app.Button().ID("pass-close").Class("secondary").Text(p.tr("pass.close")).
			OnClick(func(ctx app.Context, e app.Event) { p.pass = nil }),
	)
}

// deleteView offers to delete the account, asking twice.
func (p *accountPage) deleteView() app.UI {
	return app.Section().ID("account-delete").Class("card").Body(
		app.H2().Text(p.tr("account.delete.title")),
		app.P().Class("hint").Text(p.tr("account.delete.lead")),
		app.If(!p.confirmDelete, func() app.UI {
			return app.Button().ID("delete-account").Class("secondary").Disabled(p.busy).Text(p.tr("account.delete")).
				OnClick(func(ctx app.Context, e app.Event) { p.confirmDelete = true })
		}).Else(func() app.UI {
			return app.Div().Class("actions").Body(
				app.Button().ID("delete-account-confirm").Class("danger").Disabled(p.busy).Text(p.tr("account.delete.confirm")).
					OnClick(func(ctx app.Context, e app.Event) { p.deleteAccount() }),
				app.Button().ID("delete-account-cancel").Class("secondary").Text(p.tr("family.cancel")).
					OnClick(func(ctx app.Context, e app.Event) { p.confirmDelete = false }),
			)
		}),
	)
}

// deleteAccount deletes the account, its family and their faces.
func (p *accountPage) deleteAccount() {
	p.act("delete", func() error { return p.accounts.DeleteAccount(p.page) }, func() {
		p.holder, p.household, p.acct, p.deleted, p.confirmDelete = "", nil, nil, true, false
		p.card.Reset()
	})
}

// loadHousehold reads the household of the account this device holds.
func (p *accountPage) loadHousehold() {
	p.later(func() func() {
		holder, err := p.accounts.Holder(p.page)
		var h account.Household
		var visits []account.Visit
		if err == nil && holder != "" {
			if h, err = p.accounts.Household(p.page); err == nil {
				visits, err = p.accounts.History(p.page)
			}
		}
		return func() {
			if err != nil {
				app.Log("account: household:", err)
				p.errMsg = p.say(cardsession.Explain(err))
			}
			if holder != "" {
				p.holder, p.household, p.visits = holder, &h, visits
				p.loadWallets()
			}
		}
	})
}

// startFamily takes the page to reading a family member's card.
func (p *accountPage) startFamily() {
	p.acct, p.errMsg = nil, ""
	p.useCard(true)
}

// endFamily goes back to the household.
func (p *accountPage) endFamily() {
	p.member = nil
	p.useCard(false)
}

// addMember adds the confirmed member to the household.
func (p *accountPage) addMember() {
	if p.member == nil {
		return
	}
	m := account.Member{Facts: *p.member, Link: p.memberLink}
	var h account.Household
	p.act("add member", func() error {
		if _, err := p.accounts.AddMember(p.page, m); err != nil {
			return err
		}
		var err error
		h, err = p.accounts.Household(p.page)
		return err
	}, func() {
		p.household = &h
		p.endFamily()
	})
}
