package ui

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/apdu"
	"smartpass.city/smartpass/app/card/reader"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/app/route"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/syncproto"
)

// Reader connects to a USB card reader with a card on it (wasm/webusb).
type Reader interface {
	Connect(ctx context.Context) (apdu.Transceiver, error)
}

// CardChecker is the server's check of what a card proves: a nonce for
// the card to sign, then the verification of its certificate and
// signature.
type CardChecker interface {
	CardNonce(ctx context.Context) ([]byte, error)
	CheckCard(ctx context.Context, p syncproto.CardProof) (syncproto.CardResult, error)
}

// transfers is what a WebUSB connection reports about itself.
type transfers interface{ Transfers() int }

// cardTimeout bounds one step with the card (connect, or PIN and
// signature): a reader that stops answering gets a message, not a
// spinner for ever.
const cardTimeout = 30 * time.Second

// cardPage takes a My Number Card through a PIN to a proof the server
// verifies: with the 4-digit PIN, a card check (the card path of the
// identify screen); with the signature password, a resident opening
// their account. It shows the tries left before asking, warns before
// the last one, sends each PIN only when the person presses the button,
// and tells a person with a blocked PIN where to have it reset. The card
// then signs a nonce of the server, which verifies certificate and
// signature.
type cardPage struct {
	app.Compo
	live
	reader   Reader
	checker  CardChecker
	accounts Accounts
	// key is what the page does with the card: AuthKey checks it with
	// the 4-digit PIN; SignKey opens the resident's account with the
	// signature password.
	key card.Key
	// then is the page to go back to with the card checked (?then=):
	// route.Identify on a terminal.
	then string

	busy    bool
	conn    apdu.Transceiver
	apdus   *apdu.Counter
	jpki    *card.JPKI
	tries   int // -1: not read yet
	blocked bool
	pin     string
	authPIN string // opening an account: the 4-digit PIN that links the card
	// authTries are that PIN's tries left, read at connect (0: blocked,
	// so the card cannot be linked now; -1: not read).
	authTries int
	errMsg    string
	result    *syncproto.CardResult
	offline   bool // the card was checked on this device; the server checks again on sync
	acct      *account.Account
	exists    bool // the account exists already: the next proof recovers it
	recover   bool // the account was recovered onto this device

	// A device holding an account shows its household and adds family
	// members from their cards' card-info application (family).
	holder    string
	household *account.Household
	visits    []account.Visit
	pass      *shownPass // the QR pass on screen
	family    bool
	ci        *card.CardInfo
	member    *card.Facts // read from the member's card, to confirm
	// memberLink is the member's card's proof, made with the facts.
	memberLink *account.CardLink

	// desk is set on a city desk's registration page (route.Desk): the
	// card-info read of a resident without a signature certificate,
	// supervised by the named staff member.
	desk     Desk
	staff    string
	enrolled *account.Account

	faceDeleted   string // the person whose face was just deleted
	confirmDelete bool   // the holder pressed delete once
	deleted       bool   // the account was deleted
}

func (p *cardPage) OnMount(ctx app.Context) {
	p.tries, p.authTries = -1, -1
	if then := ctx.Page().URL().Query().Get("then"); then == route.Identify && p.key == card.AuthKey && p.accounts == nil {
		p.then = then
	}
	p.mount(ctx)
	if p.accounts != nil {
		p.loadHousehold()
	}
}

func (p *cardPage) OnDismount() { p.dismount() }

func (p *cardPage) Render() app.UI {
	if p.desk != nil && !(p.isEnr && p.enr.Role == scope.Registrar) {
		return p.wrongDevice(p.tr("desk.title"), string(scope.Registrar))
	}
	return p.frame(
		app.H1().Text(p.tr(p.text("title"))),
		app.P().Text(p.lead()),
		app.If(p.key == card.AuthKey && !p.family && p.isEnr && p.st != nil && p.st.Anchors != nil, func() app.UI {
			return app.P().ID("card-anchors").Class("hint").Text(p.tr("card.anchors"))
		}),
		app.If(p.desk != nil && p.cardFlow(), func() app.UI {
			return app.Div().Class("card").Body(
				app.Label().For("staff").Text(p.tr("desk.staff")),
				app.Input().ID("staff").Type("text").Value(p.staff).AutoComplete(false).
					OnInput(func(ctx app.Context, e app.Event) { p.staff = ctx.JSSrc().Get("value").String() }),
			)
		}),
		app.If(p.cardFlow() && !p.connected(), func() app.UI {
			return app.Button().ID("connect").Disabled(p.busy).Text(p.tr("card.connect")).
				OnClick(func(ctx app.Context, e app.Event) { p.connect() })
		}),
		app.If(p.cardFlow() && p.connected() && p.result == nil && p.acct == nil && !p.blocked, func() app.UI {
			return app.Form().ID("pin-form").Class("card").OnSubmit(func(ctx app.Context, e app.Event) {
				e.PreventDefault()
				p.verify()
			}).Body(
				app.Label().For("pin").Text(p.tr(p.text("pin"))),
				p.pinInput(),
				app.If(p.key == card.SignKey && !p.family && p.authTries != 0, func() app.UI {
					return app.Div().Body(
						app.Label().For("auth-pin").Text(p.tr("account.authpin")),
						app.Input().ID("auth-pin").Type("password").Class("code").Value(p.authPIN).AutoComplete(false).
							Attr("inputmode", "numeric").Attr("maxlength", 4).
							OnInput(func(ctx app.Context, e app.Event) { p.authPIN = ctx.JSSrc().Get("value").String() }),
						app.P().ID("auth-tries").Class("hint").Text(p.tr("card.tries", p.authTries)),
						app.P().Class("hint").Text(p.tr("account.authpin.hint")),
					)
				}),
				app.P().ID("tries").Class("hint").Text(p.tr("card.tries", p.tries)),
				app.If(p.tries == 1, func() app.UI {
					return app.P().ID("last-try").Class("error").Attr("role", "alert").Text(p.tr(p.text("lasttry")))
				}),
				app.Div().Class("actions").Body(app.Button().ID("verify").Type("submit").Disabled(p.busy).Text(p.tr(p.text("verify")))),
			)
		}),
		app.If(p.busy && p.connected(), func() app.UI {
			return app.P().ID("card-busy").Class("hint").Attr("role", "status").Text(p.tr("card.busy"))
		}),
		app.If(p.blocked, func() app.UI {
			return app.P().ID("blocked").Class("banner").Attr("role", "alert").Text(p.tr(p.text("blocked")))
		}),
		app.If(p.errMsg != "", func() app.UI {
			return app.P().ID("card-error").Class("error").Attr("role", "alert").Text(p.errMsg)
		}),
		app.If(p.result != nil, func() app.UI {
			n, usb := p.counts()
			return app.Div().ID("card-ok").Class("notice").Attr("role", "status").
				Attr("data-apdus", n).Attr("data-transfers", usb).Body(
				app.P().Text(p.tr("card.ok", p.result.Serial)),
				app.If(p.offline, func() app.UI {
					return app.P().ID("card-offline").Text(p.tr("card.offline"))
				}),
				app.P().Class("hint").Text(p.tr("card.counts", n, usb)),
			)
		}),
		app.If(p.deleted, func() app.UI {
			return app.P().ID("account-deleted").Class("notice ok").Attr("role", "status").Text(p.tr("account.deleted"))
		}),
		app.If(p.acct != nil, func() app.UI { return p.accountView() }),
		app.If(p.holder != "" && !p.family, func() app.UI { return p.householdView() }),
		app.If(p.family && p.member != nil, func() app.UI { return p.memberView() }),
		app.If(p.enrolled != nil, func() app.UI { return p.deskView() }),
	)
}

// connected reports whether a card's application is open on the page.
func (p *cardPage) connected() bool { return p.jpki != nil || p.ci != nil }

// cardFlow reports whether the page is taking a card through its PIN:
// always for a card check; for accounts, to open one, or to read a
// family member's card.
func (p *cardPage) cardFlow() bool {
	switch {
	case p.family:
		return p.member == nil && p.enrolled == nil
	case p.key == card.AuthKey:
		return true
	}
	return p.holder == "" || p.acct != nil
}

// text is the text key of a part of the page for its purpose.
func (p *cardPage) text(part string) string {
	if _, ok := text["desk."+part]; ok && p.desk != nil {
		return "desk." + part
	}
	if p.family {
		if _, ok := text["family."+part]; ok {
			return "family." + part
		}
		return "card." + part
	}
	if p.key == card.SignKey {
		switch {
		case part == "verify" && p.exists:
			return "account.recover"
		case (part == "title" || part == "lead") && p.holder != "" && p.acct == nil:
			return "account.mine." + part
		}
		return "account." + part
	}
	return "card." + part
}

// lead is the page's opening sentence.
func (p *cardPage) lead() string {
	if k := p.text("lead"); k == "account.mine.lead" {
		return p.tr(k, p.holder)
	}
	return p.tr(p.text("lead"))
}

// clearInput empties the input element id on the page itself. go-app
// writes a value only when it differs from the one it last rendered, so
// a PIN typed and submitted before the next render (a fast Enter) would
// otherwise stay in the field after the model forgot it.
func clearInput(id string) {
	if !app.IsClient {
		return
	}
	if el := app.Window().GetElementByID(id); el.Truthy() {
		el.Set("value", "")
	}
}

// pinInput is the PIN field: four digits, or the signature password's
// capital letters and digits.
func (p *cardPage) pinInput() app.UI {
	in := app.Input().ID("pin").Type("password").Class("code").Value(p.pin).AutoComplete(false).
		OnInput(func(ctx app.Context, e app.Event) { p.pin = ctx.JSSrc().Get("value").String() })
	if p.key == card.SignKey && !p.family {
		return in.Attr("maxlength", 16).Attr("autocapitalize", "characters").Attr("spellcheck", "false")
	}
	return in.Attr("inputmode", "numeric").Attr("maxlength", 4)
}

// counts are the APDUs and USB transfers since the reader was connected.
func (p *cardPage) counts() (apdus, usb int) {
	if p.apdus != nil {
		apdus = p.apdus.N
	}
	if t, ok := p.conn.(transfers); ok {
		usb = t.Transfers()
	}
	return apdus, usb
}

// connect reaches the reader and reads the PIN's tries left; it uses no
// try.
func (p *cardPage) connect() {
	if p.busy {
		return
	}
	p.busy, p.errMsg = true, ""
	family, linking := p.family, p.key == card.SignKey && !p.family
	p.later(func() func() {
		ctx, cancel := context.WithTimeout(p.page, cardTimeout)
		defer cancel()
		var conn apdu.Transceiver
		var counter *apdu.Counter
		var ci *card.CardInfo
		authTries := -1
		j, tries, err := func() (*card.JPKI, int, error) {
			var err error
			if conn, err = p.reader.Connect(ctx); err != nil {
				return nil, 0, err
			}
			counter = &apdu.Counter{T: conn}
			if family {
				if ci, err = card.OpenCardInfo(ctx, card.New(counter)); err != nil {
					return nil, 0, err
				}
				n, err := ci.TriesLeft(ctx)
				return nil, n, err
			}
			j, err := card.OpenJPKI(ctx, card.New(counter))
			if err != nil {
				return nil, 0, err
			}
			if linking { // the 4-digit PIN that links the card, shown too
				if authTries, err = j.TriesLeft(ctx, card.AuthKey); errors.Is(err, apdu.ErrPINBlocked) {
					authTries = 0
				} else if err != nil {
					return nil, 0, err
				}
			}
			n, err := j.TriesLeft(ctx, p.key)
			return j, n, err
		}()
		return func() {
			p.busy = false
			p.conn, p.apdus = conn, counter
			if errors.Is(err, apdu.ErrPINBlocked) {
				p.jpki, p.ci, p.blocked = j, ci, true
				return
			}
			if err != nil {
				app.Log("card: connect:", err)
				p.errMsg = p.cardError(err)
				return
			}
			p.jpki, p.ci, p.tries, p.authTries = j, ci, tries, authTries
		}
	})
}

// verify asks the server for a nonce, then sends the typed PIN to the
// card, once, has the card sign the nonce and the server verify it. A
// terminal that cannot reach the server checks the card itself, with the
// trust anchors the server published, and records the check for the
// server to verify again when it syncs. With neither (a device never
// synced), the PIN is not sent: no try is used for nothing.
func (p *cardPage) verify() {
	if p.busy {
		return
	}
	key := p.key
	if p.family {
		key = card.AuthKey // the card-info application's PIN is 4 digits too
	}
	pin, authPIN := p.pin, p.authPIN
	p.pin, p.authPIN = "", ""
	clearInput("pin")
	clearInput("auth-pin")
	if err := card.CheckPINFormat(key, pin); err != nil {
		p.errMsg = p.cardError(err)
		return
	}
	if authPIN != "" {
		if err := card.CheckPINFormat(card.AuthKey, authPIN); err != nil {
			p.errMsg = p.cardError(authPINError{err})
			return
		}
	}
	var anchors *jpki.Anchors
	if p.isEnr && p.st != nil {
		anchors = p.st.Anchors
	}
	facility, exists, family := p.enr.Facility, p.exists, p.family
	p.busy, p.errMsg = true, ""
	p.later(func() func() {
		ctx, cancel := context.WithTimeout(p.page, cardTimeout)
		defer cancel()
		if family {
			f, link, err := p.readMember(ctx, pin)
			return func() { p.proved(err, func() { p.member, p.memberLink = &f, link }) }
		}
		if p.key == card.SignKey {
			acct, err := p.openAccount(ctx, pin, authPIN, exists)
			return func() { p.proved(err, func() { p.acct, p.recover, p.holder = &acct, exists, acct.ID }) }
		}
		offline := false
		var checked []byte // the certificate, once the card proved it holds its key
		res, err := func() (syncproto.CardResult, error) {
			nonce, err := p.checker.CardNonce(ctx)
			var refusal *syncproto.Error
			if err != nil && (anchors == nil || errors.As(err, &refusal)) {
				return syncproto.CardResult{}, errNoNonce{err}
			}
			if err != nil {
				offline, nonce = true, make([]byte, jpki.NonceLen)
				rand.Read(nonce)
			}
			cert, sig, err := p.jpki.Authenticate(ctx, card.AuthKey, pin, nonce)
			if err != nil {
				return syncproto.CardResult{}, err
			}
			checked = cert
			if !offline {
				return p.checker.CheckCard(ctx, syncproto.CardProof{Nonce: nonce, Cert: cert, Sig: sig})
			}
			return p.checkOffline(ctx, *anchors, facility, nonce, cert, sig)
		}()
		return func() {
			p.proved(err, func() {
				p.result, p.offline = &res, offline
				if p.then == route.Identify {
					// The identify screen says whose card it is, and what
					// follows, as for a face.
					handOff(jpki.Fingerprint(checked))
					p.page.Navigate(route.Identify)
				}
			})
		}
	})
}

// proved shows how a proof went: done on success, else why not.
func (p *cardPage) proved(err error, done func()) {
	p.busy = false
	var wp *apdu.WrongPINError
	var refusal *syncproto.Error
	var authErr authPINError
	switch {
	case err == nil:
		done()
	case errors.As(err, &authErr) && (errors.As(err, &wp) && wp.Remaining == 0 || errors.Is(err, apdu.ErrPINBlocked)):
		p.errMsg, p.authTries = p.tr("card.blocked"), 0 // the 4-digit PIN's; the password still works
	case errors.As(err, &authErr) && errors.As(err, &wp):
		p.errMsg, p.authTries = p.tr("account.authpin.wrong", wp.Remaining), wp.Remaining
	case errors.As(err, &authErr) && errors.Is(err, card.ErrPINFormat):
		p.errMsg = p.tr("card.err.format")
	case errors.As(err, &wp) && wp.Remaining == 0, errors.Is(err, apdu.ErrPINBlocked):
		p.blocked = true
	case errors.As(err, &wp):
		p.tries, p.errMsg = wp.Remaining, p.tr(p.text("wrongpin"))
	default:
		app.Log("card: verify:", err)
		if errors.As(err, &refusal) && refusal.Code == account.CodeExists {
			p.exists = true
		}
		p.errMsg = p.cardError(err)
	}
}

// checkOffline verifies the card's proof on the device and records the
// check, accepted or refused, for the server to verify again.
func (p *cardPage) checkOffline(ctx context.Context, anchors jpki.Anchors, facility string, nonce, cert, sig []byte) (syncproto.CardResult, error) {
	v, err := anchors.Verifier()
	if err != nil {
		return syncproto.CardResult{}, err
	}
	rec, c, verr := v.Offline(facility, nonce, cert, sig)
	if _, err := p.sync.Record(ctx, jpki.OpChecked, rec); err != nil {
		return syncproto.CardResult{}, fmt.Errorf("card: record the offline check: %w", err)
	}
	if verr != nil {
		return syncproto.CardResult{}, verr
	}
	return syncproto.CardResult{Serial: rec.Serial, Issuer: c.Issuer.String(), NotAfter: c.NotAfter}, nil
}

// errNoNonce: the server gave no nonce, so the PIN was not sent.
type errNoNonce struct{ err error }

func (e errNoNonce) Error() string { return "card: no nonce from the server: " + e.err.Error() }
func (e errNoNonce) Unwrap() error { return e.err }

// cardError says what went wrong in words for the person at the reader.
func (p *cardPage) cardError(err error) string {
	var refusal *syncproto.Error
	var noNonce errNoNonce
	switch {
	case errors.As(err, &refusal):
		for _, k := range []string{"card.refused." + refusal.Code, "account.refused." + refusal.Code} {
			if _, ok := text[k]; ok {
				return p.tr(k)
			}
		}
		return p.tr("card.err.other")
	case errors.As(err, &noNonce):
		return p.tr("card.err.server")
	case errors.Is(err, jpki.ErrUntrusted), errors.Is(err, jpki.ErrExpired), errors.Is(err, jpki.ErrRevoked),
		errors.Is(err, jpki.ErrSignature), errors.Is(err, jpki.ErrNoStatus), errors.Is(err, jpki.ErrAnchors):
		return p.tr("card.refused." + jpki.Code(err)) // checked offline, on this device
	case errors.Is(err, card.ErrPINFormat):
		return p.tr(p.text("err.format"))
	case errors.Is(err, reader.ErrNoCard):
		return p.tr("card.err.nocard")
	case errors.Is(err, reader.ErrGarbled), errors.Is(err, context.DeadlineExceeded):
		return p.tr("card.err.readerfail")
	case errors.Is(err, reader.ErrClassReserved), errors.Is(err, reader.ErrUnsupported):
		return p.tr("card.err.reader")
	}
	return p.tr("card.err.other")
}
