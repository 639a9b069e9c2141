package ui

import (
	"context"
	"net/url"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/facility"
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
	// Facilities lists the facilities that recognise faces.
	Facilities(ctx context.Context) ([]facility.Facility, error)
}

// openAccount has the card sign the server's nonce bound to this
// device's account key, with the signature password, and opens the
// account; after the server said it exists, it recovers it instead.
func (p *cardPage) openAccount(ctx context.Context, password string, exists bool) (account.Account, error) {
	nonce, err := p.checker.CardNonce(ctx)
	if err != nil {
		return account.Account{}, errNoNonce{err}
	}
	key, err := p.accounts.AccountKey(ctx)
	if err != nil {
		return account.Account{}, err
	}
	cert, sig, err := p.jpki.Authenticate(ctx, card.SignKey, password, account.Challenge(nonce, key))
	if err != nil {
		return account.Account{}, err
	}
	req := account.Request{Nonce: nonce, Cert: cert, Sig: sig, Key: key}
	if exists {
		return p.accounts.RecoverAccount(ctx, req)
	}
	return p.accounts.OpenAccount(ctx, req)
}

// accountView is the opened (or recovered) account: its number and the
// four facts from the certificate, for the resident to check.
func (p *cardPage) accountView() app.UI {
	key := "account.ok"
	if p.recover {
		key = "account.recovered"
	}
	return app.Div().ID("account-ok").Class("notice").Attr("role", "status").Attr("data-id", p.acct.ID).Body(
		app.P().Text(p.tr(key, p.acct.ID)),
		p.factsView(p.acct.Facts),
	)
}

// factsView lists the four facts, for the person to check.
func (p *cardPage) factsView(f card.Facts) app.UI {
	sex := map[string]string{"1": "account.sex.1", "2": "account.sex.2", "9": "account.sex.9"}[f.Sex]
	row := func(label, value string) app.UI {
		return app.Div().Body(app.Dt().Text(p.tr(label)), app.Dd().Text(value))
	}
	birth := f.BirthDate
	if len(birth) == 8 {
		birth = birth[:4] + "-" + birth[4:6] + "-" + birth[6:]
	}
	return app.Dl().Class("facts").Body(
		row("account.name", f.Name),
		row("account.birth", birth),
		row("account.sex", p.tr(sex)),
		row("account.address", f.Address),
	)
}

// householdView lists the account's family members and offers to add
// one.
func (p *cardPage) householdView() app.UI {
	var members []account.Account
	if p.household != nil {
		members = p.household.Members
	}
	return app.Section().ID("household").Class("card").Attr("data-members", len(members)).Body(
		app.If(p.household != nil && p.acct == nil, func() app.UI {
			return app.Div().ID("holder").Body(
				app.H2().Text(p.tr("account.mine.facts")),
				p.factsView(p.household.Guardian.Facts),
				faceLink(p.household.Guardian.ID, p.tr("family.face")),
			)
		}),
		app.H2().Text(p.tr("family.household")),
		app.If(len(members) == 0, func() app.UI { return app.P().Class("hint").Text(p.tr("family.none")) }),
		app.Range(members).Slice(func(i int) app.UI {
			m := members[i]
			return app.Div().Class("member").Attr("data-id", m.ID).Body(
				app.H3().Text(m.Facts.Name),
				p.factsView(m.Facts),
				faceLink(m.ID, p.tr("family.face")),
			)
		}),
		app.Div().Class("actions").Body(
			app.Button().ID("add-member").Disabled(p.busy).Text(p.tr("family.add")).
				OnClick(func(ctx app.Context, e app.Event) { p.startFamily() }),
		),
	)
}

// faceLink opens face registration for the resident id.
func faceLink(id, label string) app.UI {
	return app.A().Class("button secondary face-link").Attr("data-id", id).
		Href(route.AccountFace + "?r=" + url.QueryEscape(id)).Text(label)
}

// memberView shows the four facts read from a family member's card and
// asks the guardian to confirm.
func (p *cardPage) memberView() app.UI {
	return app.Section().ID("member-facts").Class("card").Body(
		app.P().Text(p.tr("family.confirm.lead")),
		p.factsView(*p.member),
		app.Div().Class("actions").Body(
			app.Button().ID("confirm-member").Disabled(p.busy).Text(p.tr("family.confirm")).
				OnClick(func(ctx app.Context, e app.Event) { p.addMember() }),
			app.Button().ID("cancel-member").Class("secondary").Disabled(p.busy).Text(p.tr("family.cancel")).
				OnClick(func(ctx app.Context, e app.Event) { p.endFamily() }),
		),
	)
}

// loadHousehold reads the household of the account this device holds.
func (p *cardPage) loadHousehold() {
	p.later(func() func() {
		holder, err := p.accounts.Holder(p.page)
		var h account.Household
		if err == nil && holder != "" {
			h, err = p.accounts.Household(p.page)
		}
		return func() {
			if err != nil {
				app.Log("account: household:", err)
				p.errMsg = p.cardError(err)
			}
			if holder != "" {
				p.holder, p.household = holder, &h
			}
		}
	})
}

// startFamily takes the page to reading a family member's card.
func (p *cardPage) startFamily() {
	p.family, p.acct, p.errMsg = true, nil, ""
	p.resetCard()
}

// endFamily goes back to the household.
func (p *cardPage) endFamily() {
	p.family, p.member = false, nil
	p.resetCard()
}

// resetCard forgets the card on the reader, for the next one.
func (p *cardPage) resetCard() {
	p.jpki, p.ci, p.conn, p.apdus = nil, nil, nil, nil
	p.tries, p.blocked, p.pin = -1, false, ""
}

// readMember presents the family member's card-info PIN once and reads
// the four facts, and nothing else.
func (p *cardPage) readMember(ctx context.Context, pin string) (card.Facts, error) {
	if err := p.ci.Verify(ctx, pin); err != nil {
		return card.Facts{}, err
	}
	return p.ci.BasicFour(ctx)
}

// addMember adds the confirmed member to the household.
func (p *cardPage) addMember() {
	if p.busy || p.member == nil {
		return
	}
	m := account.Member{Facts: *p.member}
	p.busy, p.errMsg = true, ""
	p.later(func() func() {
		_, err := p.accounts.AddMember(p.page, m)
		var h account.Household
		if err == nil {
			h, err = p.accounts.Household(p.page)
		}
		return func() {
			p.busy = false
			if err != nil {
				app.Log("account: add member:", err)
				p.errMsg = p.cardError(err)
				return
			}
			p.household = &h
			p.endFamily()
		}
	})
}
