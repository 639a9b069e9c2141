package ui

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/apdu"
	"smartpass.city/smartpass/app/card/rcs380"
	"smartpass.city/smartpass/app/card/reader"
)

// Reader connects to a USB card reader with a card on it (wasm/webusb).
type Reader interface {
	Connect(ctx context.Context) (apdu.Transceiver, error)
}

// cardPage checks a My Number Card with its 4-digit PIN: the card path of
// the identify screen. It shows the tries left before asking, warns
// before the last one, sends each PIN only when the person presses the
// button, and tells a person with a blocked PIN where to have it reset.
type cardPage struct {
	app.Compo
	live
	reader Reader

	busy    bool
	jpki    *card.JPKI
	tries   int // -1: not read yet
	blocked bool
	pin     string
	errMsg  string
	serial  string
}

func (p *cardPage) OnMount(ctx app.Context) {
	p.tries = -1
	p.mount(ctx)
}

func (p *cardPage) OnDismount() { p.dismount() }

func (p *cardPage) Render() app.UI {
	return p.frame(
		app.H1().Text(p.tr("card.title")),
		app.P().Text(p.tr("card.lead")),
		app.If(p.jpki == nil, func() app.UI {
			return app.Button().ID("connect").Disabled(p.busy).Text(p.tr("card.connect")).
				OnClick(func(ctx app.Context, e app.Event) { p.connect() })
		}),
		app.If(p.jpki != nil && p.serial == "" && !p.blocked, func() app.UI {
			return app.Form().ID("pin-form").Class("card").OnSubmit(func(ctx app.Context, e app.Event) {
				e.PreventDefault()
				p.verify()
			}).Body(
				app.Label().For("pin").Text(p.tr("card.pin")),
				app.Input().ID("pin").Type("password").Class("code").Value(p.pin).
					Attr("inputmode", "numeric").Attr("maxlength", 4).AutoComplete(false).
					OnInput(func(ctx app.Context, e app.Event) { p.pin = ctx.JSSrc().Get("value").String() }),
				app.P().ID("tries").Class("hint").Text(p.tr("card.tries", p.tries)),
				app.If(p.tries == 1, func() app.UI {
					return app.P().ID("last-try").Class("error").Attr("role", "alert").Text(p.tr("card.lasttry"))
				}),
				app.Div().Class("actions").Body(app.Button().ID("verify").Type("submit").Disabled(p.busy).Text(p.tr("card.verify"))),
			)
		}),
		app.If(p.blocked, func() app.UI {
			return app.P().ID("blocked").Class("banner").Attr("role", "alert").Text(p.tr("card.blocked"))
		}),
		app.If(p.errMsg != "", func() app.UI {
			return app.P().ID("card-error").Class("error").Attr("role", "alert").Text(p.errMsg)
		}),
		app.If(p.serial != "", func() app.UI {
			return app.P().ID("card-ok").Class("notice").Attr("role", "status").Text(p.tr("card.ok", p.serial))
		}),
	)
}

// connect reaches the reader and reads the PIN's tries left; it uses no
// try.
func (p *cardPage) connect() {
	if p.busy {
		return
	}
	p.busy, p.errMsg = true, ""
	p.later(func() func() {
		j, tries, err := func() (*card.JPKI, int, error) {
			t, err := p.reader.Connect(p.page)
			if err != nil {
				return nil, 0, err
			}
			j, err := card.OpenJPKI(p.page, card.New(t))
			if err != nil {
				return nil, 0, err
			}
			n, err := j.TriesLeft(p.page, card.AuthKey)
			return j, n, err
		}()
		return func() {
			p.busy = false
			if errors.Is(err, apdu.ErrPINBlocked) {
				p.jpki, p.blocked = j, true
				return
			}
			if err != nil {
				app.Log("card: connect:", err)
				p.errMsg = p.cardError(err)
				return
			}
			p.jpki, p.tries = j, tries
		}
	})
}

// verify sends the typed PIN, once.
func (p *cardPage) verify() {
	if p.busy {
		return
	}
	pin := p.pin
	p.busy, p.errMsg, p.pin = true, "", ""
	p.later(func() func() {
		err := p.jpki.Verify(p.page, card.AuthKey, pin)
		var serial string
		if err == nil {
			var der []byte
			if der, err = p.jpki.Certificate(p.page, card.EFAuthCert); err == nil {
				sum := sha256.Sum256(der)
				serial = fmt.Sprintf("%X", sum[:4]) // a short fingerprint for the screen
			}
		}
		return func() {
			p.busy = false
			var wp *apdu.WrongPINError
			switch {
			case err == nil:
				p.serial = serial
			case errors.As(err, &wp) && wp.Remaining == 0, errors.Is(err, apdu.ErrPINBlocked):
				p.blocked = true
			case errors.As(err, &wp):
				p.tries, p.errMsg = wp.Remaining, p.tr("card.wrongpin")
			default:
				app.Log("card: verify:", err)
				p.errMsg = p.cardError(err)
			}
		}
	})
}

func (p *cardPage) cardError(err error) string {
	switch {
	case errors.Is(err, card.ErrPINFormat):
		return p.tr("card.err.format")
	case errors.Is(err, rcs380.ErrNoCard):
		return p.tr("card.err.nocard")
	case errors.Is(err, reader.ErrClassReserved), errors.Is(err, reader.ErrUnsupported):
		return p.tr("card.err.reader")
	}
	return p.tr("card.err.other")
}
