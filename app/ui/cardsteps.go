package ui

import (
	"context"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/cardsession"
	"smartpass.city/smartpass/syncproto"
)

// Reader connects to a USB card reader with a card on it (wasm/webusb).
type Reader = cardsession.Reader

// CardChecker is the server's check of what a card proves: a nonce for
// the card to sign, then the verification of its certificate and
// signature.
type CardChecker interface {
	cardsession.Nonces
	CheckCard(ctx context.Context, p syncproto.CardProof) (syncproto.CardResult, error)
}

// cardTimeout bounds one step with the card (connect, or PIN and
// signature): a reader that stops answering gets a message, not a
// spinner for ever.
const cardTimeout = 30 * time.Second

// cardSteps is what the three card pages (card check, account, desk)
// share: the card session on the reader, the connect button and PIN
// form that drive it, and what went wrong, in words. The session
// decides; the pages draw it and say what it decided.
type cardSteps struct {
	live
	reader  Reader
	checker CardChecker
	card    *cardsession.Session
	busy    bool
	errMsg  string
	// families are the text families the page words its own parts in,
	// best first ("desk.", "family.", "card."): the same step says "the
	// PIN" on a card check and "the password" on an account.
	families []string
}

// own is the text key of the page's own part: the first of its
// families that has it, else the card check's.
func (c *cardSteps) own(part string) string {
	for _, f := range c.families {
		if _, ok := text[f+part]; ok {
			return f + part
		}
	}
	return "card." + part
}

// say words what the session decided for the person, in the page's
// language ("" for nothing to say).
func (c *cardSteps) say(w cardsession.Words) string {
	if w.Part != "" {
		return c.tr(c.own(w.Part), w.Args...)
	}
	return c.keyWords(w)
}

// keyWords words w's keys in the page's language: the first key the
// text table has, "" for nothing to say, and the card pages' "something
// else went wrong" for a trouble no key of ours names. The card pages
// and the card-face panel both say a card's troubles so.
func (l *live) keyWords(w cardsession.Words) string {
	for _, k := range w.Keys {
		if _, ok := text[k]; ok {
			return l.tr(k, w.Args...)
		}
	}
	if w.None() {
		return ""
	}
	return l.tr("card.err.other")
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

// connect reaches the reader and reads the PIN's tries left; it uses no
// try.
func (c *cardSteps) connect() {
	if c.busy {
		return
	}
	c.busy, c.errMsg = true, ""
	s := c.card
	c.withCard(func(ctx context.Context) func() {
		apply := s.Connect(ctx, c.reader)
		return func() {
			c.busy = false
			if err := apply(); err != nil {
				app.Log("card:", err)
				c.errMsg = c.say(cardsession.Explain(err))
			}
		}
	})
}

// take takes what the person typed from the session, once, and empties
// the fields on the page; false (with the reason on screen) when it
// cannot be right or the page is busy. On true the page is busy until
// proved.
func (c *cardSteps) take() (cardsession.Typed, bool) {
	if c.busy {
		return cardsession.Typed{}, false
	}
	t, err := c.card.Take()
	clearInput("pin")
	clearInput("auth-pin")
	if err != nil {
		c.errMsg = c.say(cardsession.Explain(err))
		return t, false
	}
	c.busy, c.errMsg = true, ""
	return t, true
}

// withCard runs work with the card off the UI goroutine, bounded by
// cardTimeout, then what it returns on the UI goroutine.
func (c *cardSteps) withCard(work func(ctx context.Context) func()) {
	c.later(func() func() {
		ctx, cancel := context.WithTimeout(c.page, cardTimeout)
		defer cancel()
		return work(ctx)
	})
}

// proved shows how a proof went: done on success, else what the
// session made of it (tries left, blocked, or why not).
func (c *cardSteps) proved(err error, done func()) {
	c.busy = false
	if err == nil {
		done()
		return
	}
	app.Log("card:", err)
	c.errMsg = c.say(c.card.Proved(err))
}

// act runs one request to the server off the UI goroutine, one at a
// time: done on success, else the error in words.
func (c *cardSteps) act(what string, work func() error, done func()) {
	if c.busy {
		return
	}
	c.busy, c.errMsg = true, ""
	c.later(func() func() {
		err := work()
		return func() {
			c.busy = false
			if err != nil {
				app.Log("card: "+what+":", err)
				c.errMsg = c.say(cardsession.Explain(err))
				return
			}
			done()
		}
	})
}

// pinInput is the PIN field: four digits, or the signature password's
// capital letters and digits.
func (c *cardSteps) pinInput() app.UI {
	in := app.Input().ID("pin").Type("password").Class("code").Value(c.card.PIN).AutoComplete(false).
		OnInput(func(ctx app.Context, e app.Event) { c.card.PIN = ctx.JSSrc().Get("value").String() })
	if c.card.Password() {
		return in.Attr("maxlength", 16).Attr("autocapitalize", "characters").Attr("spellcheck", "false")
	}
	return in.Attr("inputmode", "numeric").Attr("maxlength", 4)
}

// stepsView draws the card's steps. While flow (the page is taking a
// card through its PIN): the connect button, then, unless done, the PIN
// form with the page's extra fields, whose button (labelled verify)
// calls submit. Always: that the card is busy, its PIN blocked, or what
// went wrong.
func (c *cardSteps) stepsView(flow, done bool, verify string, extra app.UI, submit func()) []app.UI {
	s := c.card
	return []app.UI{
		app.If(flow && !s.Connected(), func() app.UI {
			return app.Button().ID("connect").Disabled(c.busy).Text(c.tr("card.connect")).
				OnClick(func(ctx app.Context, e app.Event) { c.connect() })
		}),
		app.If(flow && s.Connected() && !done && !s.Blocked, func() app.UI {
			return app.Form().ID("pin-form").Class("card").OnSubmit(func(ctx app.Context, e app.Event) {
				e.PreventDefault()
				submit()
			}).Body(
				app.Label().For("pin").Text(c.tr(c.own("pin"))),
				c.pinInput(),
				extra,
				app.P().ID("tries").Class("hint").Text(c.tr("card.tries", s.Tries)),
				app.If(s.Tries == 1, func() app.UI {
					return app.P().ID("last-try").Class("error").Attr("role", "alert").Text(c.tr(c.own("lasttry")))
				}),
				app.Div().Class("actions").Body(app.Button().ID("verify").Type("submit").Disabled(c.busy).Text(verify)),
			)
		}),
		app.If(c.busy && s.Connected(), func() app.UI {
			return app.P().ID("card-busy").Class("hint").Attr("role", "status").Text(c.tr("card.busy"))
		}),
		app.If(s.Blocked, func() app.UI {
			return app.P().ID("blocked").Class("banner").Attr("role", "alert").Text(c.tr(c.own("blocked")))
		}),
		app.If(c.errMsg != "", func() app.UI {
			return app.P().ID("card-error").Class("error").Attr("role", "alert").Text(c.errMsg)
		}),
	}
}

// factsView lists the four facts read from a card, for the person to
// check.
func (c *cardSteps) factsView(f card.Facts) app.UI {
	sex := map[string]string{"1": "account.sex.1", "2": "account.sex.2", "3": "account.sex.3", "9": "account.sex.9"}[f.Sex]
	row := func(label, value string) app.UI {
		return app.Div().Body(app.Dt().Text(c.tr(label)), app.Dd().Text(value))
	}
	birth := f.BirthDate
	if len(birth) == 8 {
		birth = birth[:4] + "-" + birth[4:6] + "-" + birth[6:]
	}
	return app.Dl().Class("facts").Body(
		row("account.name", f.Name),
		row("account.birth", birth),
		row("account.sex", c.tr(sex)),
		row("account.address", f.Address),
	)
}

// memberView shows the four facts read from a card-info application (a
// family member's, a resident's at the desk) and asks to confirm them.
func (c *cardSteps) memberView(f card.Facts, confirm, cancel func()) app.UI {
	return app.Section().ID("member-facts").Class("card").Body(
		app.P().Text(c.tr(c.own("confirm.lead"))),
		c.factsView(f),
		app.Div().Class("actions").Body(
			app.Button().ID("confirm-member").Disabled(c.busy).Text(c.tr(c.own("confirm"))).
				OnClick(func(ctx app.Context, e app.Event) { confirm() }),
			app.Button().ID("cancel-member").Class("secondary").Disabled(c.busy).Text(c.tr("family.cancel")).
				OnClick(func(ctx app.Context, e app.Event) { cancel() }),
		),
	)
}

// titled is a card page's heading and opening sentence.
func (c *cardSteps) titled(title, lead string, leadArgs ...any) []app.UI {
	return []app.UI{app.H1().Text(c.tr(title)), app.P().Text(c.tr(lead, leadArgs...))}
}
