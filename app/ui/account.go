package ui

import (
	"bytes"
	"context"
	"encoding/base64"
	"image/png"
	"net/url"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/card"
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

// openAccount has the card sign the server's nonce bound to this
// device's account key, with the signature password, and opens the
// account; after the server said it exists, it recovers it instead. With
// the 4-digit PIN (authPIN, optional) the card's user-authentication key
// first signs a second nonce, so the server links the card to the
// account: terminals then recognise the resident by card.
func (p *cardPage) openAccount(ctx context.Context, password, authPIN string, exists bool) (account.Account, error) {
	key, err := p.accounts.AccountKey(ctx)
	if err != nil {
		return account.Account{}, err
	}
	var link *account.CardLink
	if authPIN != "" {
		if link, err = p.cardLink(ctx, p.jpki, authPIN, key); err != nil {
			return account.Account{}, authPINError{err}
		}
	}
	nonce, err := p.checker.CardNonce(ctx)
	if err != nil {
		return account.Account{}, errNoNonce{err}
	}
	cert, sig, err := p.jpki.Authenticate(ctx, card.SignKey, password, account.Challenge(nonce, key))
	if err != nil {
		return account.Account{}, err
	}
	req := account.Request{Nonce: nonce, Cert: cert, Sig: sig, Key: key, Link: link}
	if exists {
		return p.accounts.RecoverAccount(ctx, req)
	}
	return p.accounts.OpenAccount(ctx, req)
}

// cardLink has the card's user-authentication key sign, after the
// 4-digit pin (sent once), a fresh server nonce bound to the account's
// device key: the proof the server links the card by.
func (p *cardPage) cardLink(ctx context.Context, j *card.JPKI, pin string, key []byte) (*account.CardLink, error) {
	nonce, err := p.checker.CardNonce(ctx)
	if err != nil {
		return nil, errNoNonce{err}
	}
	cert, sig, err := j.Authenticate(ctx, card.AuthKey, pin, account.LinkChallenge(nonce, key))
	if err != nil {
		return nil, err
	}
	return &account.CardLink{Nonce: nonce, Cert: cert, Sig: sig}, nil
}

// authPINError is a failure of the 4-digit PIN's step while opening an
// account: its tries are not the signature password's on screen.
type authPINError struct{ err error }

func (e authPINError) Error() string { return "card: the card link: " + e.err.Error() }
func (e authPINError) Unwrap() error { return e.err }

// accountView is the opened (or recovered) account: its number and the
// four facts from the certificate, for the resident to check.
func (p *cardPage) accountView() app.UI {
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

// factsView lists the four facts, for the person to check.
func (p *cardPage) factsView(f card.Facts) app.UI {
	sex := map[string]string{"1": "account.sex.1", "2": "account.sex.2", "3": "account.sex.3", "9": "account.sex.9"}[f.Sex]
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
		),
		p.historyView(),
		p.deleteView(),
	)
}

// historyView lists when and where the household's faces were
// recognised: the resident's view of the audit log.
func (p *cardPage) historyView() app.UI {
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
func (p *cardPage) personActions(a account.Account) app.UI {
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
func (p *cardPage) faceStatus(a account.Account) app.UI {
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
func (p *cardPage) setConsent(c account.Consent) {
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
func (p *cardPage) deleteFace(id string) {
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
func (p *cardPage) showPass(id string) {
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
func (p *cardPage) passView() app.UI {
	return app.Div().ID("pass").Class("notice pass").Attr("data-id", p.pass.resident).Attr("data-text", p.pass.Text).Body(
		app.Img().ID("pass-qr").Class("pass-qr").Src(p.pass.png).Alt(p.tr("pass.alt")),
		app.P().Text(p.tr("pass.lead", p.pass.Expires.Local().Format("15:04"))),
		app.Button().ID("pass-close").Class("secondary").Text(p.tr("pass.close")).
			OnClick(func(ctx app.Context, e app.Event) { p.pass = nil }),
	)
}

// act runs one request of the account's holder off the UI goroutine,
// one at a time: done on success, else the error in words.
func (p *cardPage) act(what string, work func() error, done func()) {
	if p.busy {
		return
	}
	p.busy, p.errMsg = true, ""
	p.later(func() func() {
		err := work()
		return func() {
			p.busy = false
			if err != nil {
				app.Log("account: "+what+":", err)
				p.errMsg = p.cardError(err)
				return
			}
			done()
		}
	})
}

// deleteView offers to delete the account, asking twice.
func (p *cardPage) deleteView() app.UI {
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
func (p *cardPage) deleteAccount() {
	p.act("delete", func() error { return p.accounts.DeleteAccount(p.page) }, func() {
		p.holder, p.household, p.acct, p.deleted, p.confirmDelete = "", nil, nil, true, false
		p.resetCard()
	})
}

// memberView shows the four facts read from a family member's card and
// asks the guardian to confirm.
func (p *cardPage) memberView() app.UI {
	return app.Section().ID("member-facts").Class("card").Body(
		app.P().Text(p.tr(p.text("confirm.lead"))),
		p.factsView(*p.member),
		app.Div().Class("actions").Body(
			app.Button().ID("confirm-member").Disabled(p.busy).Text(p.tr(p.text("confirm"))).
				OnClick(func(ctx app.Context, e app.Event) { p.confirmMember() }),
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
		var visits []account.Visit
		if err == nil && holder != "" {
			if h, err = p.accounts.Household(p.page); err == nil {
				visits, err = p.accounts.History(p.page)
			}
		}
		return func() {
			if err != nil {
				app.Log("account: household:", err)
				p.errMsg = p.cardError(err)
			}
			if holder != "" {
				p.holder, p.household, p.visits = holder, &h, visits
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
	p.tries, p.authTries, p.blocked, p.pin, p.authPIN = -1, -1, false, "", ""
}

// readMember presents the family member's 4-digit PIN once to the
// card-info application and reads the four facts, and nothing else. For
// a guardian's household (not at a desk, where staff check the person),
// the same PIN, typed once by the member, then goes once to the card's
// user-authentication key, which signs a fresh server nonce: the proof
// that the card and its holder were there, which records the facts as
// read from the card and links the card to the member. (Most cards
// carry the same number for both; a card whose PINs differ says "wrong
// PIN" with its tries, and nothing is retried.)
func (p *cardPage) readMember(ctx context.Context, pin string) (card.Facts, *account.CardLink, error) {
	if err := p.ci.Verify(ctx, pin); err != nil {
		return card.Facts{}, nil, err
	}
	f, err := p.ci.BasicFour(ctx)
	if err != nil || p.desk != nil {
		return f, nil, err
	}
	key, err := p.accounts.AccountKey(ctx)
	if err != nil {
		return f, nil, err
	}
	j, err := card.OpenJPKI(ctx, card.New(p.apdus))
	if err != nil {
		return f, nil, err
	}
	link, err := p.cardLink(ctx, j, pin, key)
	return f, link, err
}

// Desk is a city desk's registration of residents as the screens use
// it: a request signed with the desk device's key.
type Desk interface {
	EnrollAtDesk(ctx context.Context, s account.Supervised) (account.Account, error)
}

// confirmMember records the person read from the card: a family member
// on an account's page, a supervised resident at a desk.
func (p *cardPage) confirmMember() {
	if p.desk != nil {
		p.deskEnroll()
		return
	}
	p.addMember()
}

// deskEnroll registers the person read at the desk, supervised by the
// named staff member.
func (p *cardPage) deskEnroll() {
	if p.member == nil {
		return
	}
	s := account.Supervised{Facts: *p.member, Staff: strings.TrimSpace(p.staff)}
	if s.Staff == "" {
		p.errMsg = p.tr("account.refused." + account.CodeStaff)
		return
	}
	var acc account.Account
	p.act("desk", func() error {
		var err error
		acc, err = p.desk.EnrollAtDesk(p.page, s)
		return err
	}, func() {
		p.enrolled, p.member = &acc, nil
		p.resetCard()
	})
}

// deskView is the resident just registered at the desk: their number,
// the way to their face registration, and the next person.
func (p *cardPage) deskView() app.UI {
	return app.Div().ID("desk-ok").Class("notice").Attr("role", "status").Attr("data-id", p.enrolled.ID).Body(
		app.P().Text(p.tr("desk.ok", p.enrolled.ID)),
		p.factsView(p.enrolled.Facts),
		app.Div().Class("actions").Body(
			app.A().ID("desk-face").Class("button").Href(route.FaceRegister+"?r="+url.QueryEscape(p.enrolled.ID)).Text(p.tr("family.face")),
			app.Button().ID("desk-next").Class("secondary").Text(p.tr("desk.next")).
				OnClick(func(ctx app.Context, e app.Event) { p.enrolled = nil }),
		),
	)
}

// addMember adds the confirmed member to the household.
func (p *cardPage) addMember() {
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
