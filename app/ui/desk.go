package ui

import (
	"context"
	"net/url"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/cardphoto"
	"smartpass.city/smartpass/app/cardsession"
	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/route"
	"smartpass.city/smartpass/app/scope"
)

// Desk is a city desk's registration of residents as the screens use
// it: a request signed with the desk device's key.
type Desk interface {
	EnrollAtDesk(ctx context.Context, s account.Supervised) (account.Account, error)
}

// deskPage is a city desk's registration of a resident whose card has
// no signature certificate (a child's, a card with only a photo): the
// resident's card-info PIN, the four facts read, the card-face check of
// the person against the card's photo (deskface.go; by sight when it
// refuses or cannot run), and the named staff member who confirmed.
// Then the way to the resident's face registration, and the next person.
type deskPage struct {
	app.Compo
	cardSteps
	desk     Desk
	staff    string
	member   *card.Facts // read from the card, to confirm
	enrolled *account.Account

	// faces is the camera and the face model, for the card-face check.
	faces Faces
	scan  scanner
	turner
	// cf is the card-face check under way; decided is the last outcome
	// it decided for the person read (zero: none), which the
	// registration records.
	cf      cardFaceDesk
	decided identify.Identification
}

// newDeskPage is the desk's registration over the reader r, the
// server's nonces c, the desk's signed requests k and the camera f.
func newDeskPage(l live, r Reader, c CardChecker, k Desk, f Faces) *deskPage {
	return &deskPage{
		cardSteps: cardSteps{live: l, reader: r, checker: c, card: cardsession.New(cardsession.Info), families: []string{"desk.", "family.", "card."}},
		desk:      k,
		faces:     f,
	}
}

func (p *deskPage) OnMount(ctx app.Context) { p.mount(ctx) }

func (p *deskPage) OnDismount() {
	p.deskFaceEnd() // the card's photo goes with the page
	p.dismount()
}

func (p *deskPage) Render() app.UI {
	if !(p.isEnr && p.enr.Role == scope.Registrar) {
		return p.wrongDevice(p.tr("desk.title"), string(scope.Registrar))
	}
	flow := p.member == nil && p.enrolled == nil
	content := p.titled(p.own("title"), p.own("lead"))
	content = append(content, app.If(flow, func() app.UI {
		return app.Div().Class("card").Body(
			app.Label().For("staff").Text(p.tr("desk.staff")),
			app.Input().ID("staff").Type("text").Value(p.staff).AutoComplete(false).
				OnInput(func(ctx app.Context, e app.Event) { p.staff = ctx.JSSrc().Get("value").String() }),
		)
	}))
	content = append(content, p.stepsView(flow, false, p.tr(p.own("verify")), nil, p.verify)...)
	return p.frame(append(content,
		app.If(p.member != nil, func() app.UI { return p.deskFaceView() }),
		app.If(p.member != nil, func() app.UI { return p.memberView(*p.member, p.enroll, p.next) }),
		app.If(p.enrolled != nil, func() app.UI { return p.enrolledView() }),
	)...)
}

// verify presents the resident's card-info PIN once and reads the four
// facts, and nothing else: staff check the person, so no card link.
func (p *deskPage) verify() {
	typed, ok := p.take()
	if !ok {
		return
	}
	s := p.card
	p.withCard(func(ctx context.Context) func() {
		f, _, err := s.Member(ctx, p.checker, typed, nil)
		return func() {
			p.proved(err, func() {
				p.deskFaceEnd()
				p.member = &f
			})
		}
	})
}

// enroll registers the person read, supervised by the named staff
// member, with how they checked the person: the card-face check's
// outcome and score, or by sight.
func (p *deskPage) enroll() {
	if p.member == nil {
		return
	}
	check := cardphoto.ForDesk(p.decided)
	s := account.Supervised{Facts: *p.member, Staff: strings.TrimSpace(p.staff), Check: &check}
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
		p.card.Reset()
		p.deskFaceEnd()
	})
}

// next forgets the card read, for the next person.
func (p *deskPage) next() {
	p.deskFaceEnd()
	p.member = nil
	p.card.Reset()
}

// enrolledView is the resident just registered: their number, the way
// to their face registration, and the next person.
func (p *deskPage) enrolledView() app.UI {
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
