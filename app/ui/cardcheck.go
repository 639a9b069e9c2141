package ui

import (
	"context"
	"fmt"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/cardsession"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/app/route"
	"smartpass.city/smartpass/syncproto"
)

// cardCheckPage checks a My Number Card with its 4-digit PIN (the card
// path of the identify screen): it shows the tries left before asking,
// warns before the last one, sends the PIN only when the person presses
// the button, and tells a person with a blocked PIN where to have it
// reset. The card then signs a nonce of the server, which verifies
// certificate and signature; a terminal that cannot reach the server
// checks the card itself with the trust anchors the server published.
type cardCheckPage struct {
	app.Compo
	cardSteps
	// then is the page to go back to with the card checked (?then=):
	// route.Identify on a terminal.
	then    string
	result  *syncproto.CardResult
	offline bool // the card was checked on this device; the server checks again on sync
}

// newCardCheckPage is the card check over the reader r and the server's
// check c.
func newCardCheckPage(l live, r Reader, c CardChecker) *cardCheckPage {
	return &cardCheckPage{cardSteps: cardSteps{live: l, reader: r, checker: c, card: cardsession.New(cardsession.Auth), families: []string{"card."}}}
}

func (p *cardCheckPage) OnMount(ctx app.Context) {
	if then := ctx.Page().URL().Query().Get("then"); then == route.Identify {
		p.then = then
	}
	p.mount(ctx)
}

func (p *cardCheckPage) OnDismount() { p.dismount() }

func (p *cardCheckPage) Render() app.UI {
	content := p.titled("card.title", "card.lead")
	content = append(content, app.If(p.anchors() != nil, func() app.UI {
		return app.P().ID("card-anchors").Class("hint").Text(p.tr("card.anchors"))
	}))
	content = append(content, p.stepsView(true, p.result != nil, p.tr("card.verify"), nil, p.verify)...)
	content = append(content, app.If(p.result != nil, func() app.UI {
		n, usb := p.card.Counts()
		return app.Div().ID("card-ok").Class("notice").Attr("role", "status").
			Attr("data-apdus", n).Attr("data-transfers", usb).Body(
			app.P().Text(p.tr("card.ok", p.result.Serial)),
			app.If(p.offline, func() app.UI {
				return app.P().ID("card-offline").Text(p.tr("card.offline"))
			}),
			app.P().Class("hint").Text(p.tr("card.counts", n, usb)),
		)
	}))
	return p.frame(content...)
}

// verify has the card prove it holds its key, with the typed PIN sent
// once, and the server (or, offline, this terminal) check the proof.
func (p *cardCheckPage) verify() {
	p.check(p.enr.Facility, func(res syncproto.CardResult, proof cardsession.Proof, err error) {
		p.proved(err, func() {
			p.result, p.offline = &res, proof.Offline
			if p.then == route.Identify {
				// The identify screen says whose card it is, and what
				// follows, as for a face.
				handOff(jpki.Fingerprint(proof.Cert))
				p.page.Navigate(route.Identify)
			}
		})
	})
}

// anchors are the trust anchors the server published to this terminal,
// to check cards with while it cannot reach the server (nil for none).
func (c *cardSteps) anchors() *jpki.Anchors {
	if c.isEnr && c.st != nil {
		return c.st.Anchors
	}
	return nil
}

// check is every terminal's card check (the card page's, the shop
// till's second factor) at facility: it takes what the person typed,
// once, has the card prove it holds its key with the PIN (sent once,
// never again on its own) and the proof checked (checkCard), then calls
// done with the outcome on the UI goroutine. Nothing happens when the
// PIN cannot be right or the page is busy (take says why).
func (c *cardSteps) check(facility string, done func(syncproto.CardResult, cardsession.Proof, error)) {
	typed, ok := c.take()
	if !ok {
		return
	}
	anchors, s := c.anchors(), c.card
	c.withCard(func(ctx context.Context) func() {
		res, proof, err := c.checkCard(ctx, s, typed, anchors, facility)
		return func() { done(res, proof, err) }
	})
}

// checkCard is the check itself, off the UI goroutine: session s's card
// proves it holds its key, with the typed PIN, and the server checks the
// proof; a terminal that cannot reach the server checks it itself with
// the anchors the server published (read on the UI goroutine: nil for
// none), and records the check for the server to verify again. With
// neither a server nor anchors, the PIN is not sent: no try is used for
// nothing.
func (c *cardSteps) checkCard(ctx context.Context, s *cardsession.Session, typed cardsession.Typed, anchors *jpki.Anchors, facility string) (syncproto.CardResult, cardsession.Proof, error) {
	proof, err := s.Check(ctx, c.checker, typed, anchors != nil)
	if err != nil {
		return syncproto.CardResult{}, proof, err
	}
	if !proof.Offline {
		res, err := c.checker.CheckCard(ctx, syncproto.CardProof{Nonce: proof.Nonce, Cert: proof.Cert, Sig: proof.Sig})
		return res, proof, err
	}
	res, err := c.checkOffline(ctx, *anchors, facility, proof)
	return res, proof, err
}

// checkOffline verifies the card's proof on the device and records the
// check, accepted or refused, for the server to verify again.
func (c *cardSteps) checkOffline(ctx context.Context, anchors jpki.Anchors, facility string, proof cardsession.Proof) (syncproto.CardResult, error) {
	v, err := anchors.Verifier()
	if err != nil {
		return syncproto.CardResult{}, err
	}
	rec, cert, verr := v.Offline(facility, proof.Nonce, proof.Cert, proof.Sig)
	if _, err := c.sync.Record(ctx, jpki.OpChecked, rec); err != nil {
		return syncproto.CardResult{}, fmt.Errorf("card: record the offline check: %w", err)
	}
	if verr != nil {
		return syncproto.CardResult{}, verr
	}
	return syncproto.CardResult{Serial: rec.Serial, Issuer: cert.Issuer.String(), NotAfter: cert.NotAfter}, nil
}
