package ui

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/wallet"
)

// The account page's wallet limits: beside each member's statement, the
// limits in force (the face-only limit, and a guardian's daily and
// per-payment limits), and a form for the holder to change them
// (wallet.API.Settings). The amounts are offered as large buttons, not
// typed: fewer mistakes for an elderly holder, and the server still
// checks each against the city's bound.

// limitsForm is the form's state: whose limits, what is chosen.
type limitsForm struct {
	who   string // "" while closed
	set   wallet.Settings
	err   string
	saved string // whose limits were saved last
}

// The amounts the form offers. 0 is "always the card" for the face-only
// limit, "no limit" for a guardian's; the face-only ones above the
// city's bound are not offered.
var (
	faceOnlyChoices = []int64{0, 1_000, 3_000, 5_000, 10_000}
	dailyChoices    = []int64{0, 1_000, 2_000, 3_000, 5_000}
	perPayChoices   = []int64{0, 500, 1_000, 2_000, 3_000}
)

// guards reports whether the holder guards m's wallet: a member they
// added (a child, an elderly parent), not the holder.
func (p *accountPage) guards(m account.Account) bool {
	return p.household != nil && m.ID != p.household.Guardian.ID
}

// openLimits opens the form for m, filled with the limits in force.
func (p *accountPage) openLimits(m account.Account) {
	in := p.wallet.statements[m.ID].Limits
	p.wallet.limits = limitsForm{who: m.ID, set: wallet.Settings{Resident: m.ID, FaceOnly: in.FaceOnly, Daily: in.Daily, PerPay: in.PerPay}}
}

// saveLimits sends the form; the answer is the member's statement with
// the limits now in force.
func (p *accountPage) saveLimits() {
	lf := &p.wallet.limits
	w := p.walletsOf()
	if w == nil || p.busy || lf.who == "" {
		return
	}
	s := lf.set
	p.busy, lf.err = true, ""
	p.later(func() func() {
		st, err := w.SetLimits(p.page, s)
		return func() {
			p.busy = false
			if err != nil {
				app.Log("wallet: limits:", err)
				lf.err = refusalText(err)
				return
			}
			p.wallet.statements[s.Resident] = st
			p.wallet.months[s.Resident] = p.monthsOf(st)
			p.wallet.limits = limitsForm{saved: s.Resident}
		}
	})
}

// faceOnlyWords is a face-only limit as the page says it.
func (p *accountPage) faceOnlyWords(in wallet.InForce) string {
	switch {
	case in.FaceOnly == nil:
		return p.tr("limits.face.default", yen(in.FaceOnlyDefault))
	case *in.FaceOnly == 0:
		return p.tr("limits.face.never")
	}
	return yen(*in.FaceOnly)
}

// capWords is a guardian's limit as the page says it.
func (p *accountPage) capWords(n int64) string {
	if n == 0 {
		return p.tr("limits.none")
	}
	return yen(n)
}

// limitsView is m's limits in force, and the form when it is open for m.
func (p *accountPage) limitsView(m account.Account, s wallet.Statement) app.UI {
	in := s.Limits
	lf := &p.wallet.limits
	return app.Div().ID("limits-"+m.ID).Class("limits").Attr("data-face-only", faceOnlyAttr(in.FaceOnly)).Attr("data-daily", in.Daily).Attr("data-per-payment", in.PerPay).Body(
		app.H4().Text(p.tr("limits.title")),
		app.P().Class("limit").Text(p.tr("limits.face", p.faceOnlyWords(in))),
		app.If(p.guards(m) || in.Daily > 0 || in.PerPay > 0, func() app.UI {
			return app.P().Class("limit").Text(p.tr("limits.caps", p.capWords(in.Daily), p.capWords(in.PerPay)))
		}),
		app.If(lf.saved == m.ID, func() app.UI {
			return app.P().ID("limits-saved").Class("notice ok").Attr("role", "status").Text(p.tr("limits.saved"))
		}),
		app.If(lf.who != m.ID, func() app.UI {
			return app.Button().ID("limits-edit-"+m.ID).Class("secondary big").Type("button").Disabled(p.busy).Text(p.tr("limits.edit")).
				OnClick(func(ctx app.Context, e app.Event) { p.openLimits(m) }, app.EventScope(m.ID))
		}).Else(func() app.UI { return p.limitsFormView(m, in) }),
	)
}

// faceOnlyAttr is a face-only limit as a data attribute ("" for the
// city's default).
func faceOnlyAttr(n *int64) string {
	if n == nil {
		return ""
	}
	return strconv.FormatInt(*n, 10)
}

// limitsFormView is the form: the face-only limit for anyone, a
// guardian's limits for a member the holder guards.
func (p *accountPage) limitsFormView(m account.Account, in wallet.InForce) app.UI {
	lf := &p.wallet.limits
	choice := func(class string, value int64, label string, on bool, pick func()) app.UI {
		return p.choice(class, "data-amount", strconv.FormatInt(value, 10), label, on, func() { pick(); lf.err = "" })
	}
	var faces []int64
	for _, n := range faceOnlyChoices {
		if n <= in.FaceOnlyMax {
			faces = append(faces, n)
		}
	}
	const cityDefault = -1 // the button for "the city's default" (nil)
	return app.Div().ID("limits-form").Body(
		app.P().Text(p.tr("limits.form.face")),
		app.P().Class("hint").Text(p.tr("limits.form.face.hint", yen(in.FaceOnlyMax))),
		app.Div().Class("actions").Body(
			choice("limit-face", cityDefault, p.tr("limits.face.default", yen(in.FaceOnlyDefault)), lf.set.FaceOnly == nil, func() { lf.set.FaceOnly = nil }),
			app.Range(faces).Slice(func(i int) app.UI {
				n := faces[i]
				label := yen(n)
				if n == 0 {
					label = p.tr("limits.face.never")
				}
				return choice("limit-face", n, label, lf.set.FaceOnly != nil && *lf.set.FaceOnly == n, func() { lf.set.FaceOnly = &n })
			}),
		),
		app.If(p.guards(m), func() app.UI {
			return app.Div().Body(
				app.P().Text(p.tr("limits.form.daily")),
				app.Div().Class("actions").Body(app.Range(dailyChoices).Slice(func(i int) app.UI {
					n := dailyChoices[i]
					return choice("limit-daily", n, p.capWords(n), lf.set.Daily == n, func() { lf.set.Daily = n })
				})),
				app.P().Text(p.tr("limits.form.perpay")),
				app.Div().Class("actions").Body(app.Range(perPayChoices).Slice(func(i int) app.UI {
					n := perPayChoices[i]
					return choice("limit-perpay", n, p.capWords(n), lf.set.PerPay == n, func() { lf.set.PerPay = n })
				})),
			)
		}),
		app.Div().Class("actions").Body(
			app.Button().ID("limits-send").Class("big").Type("button").Disabled(p.busy).Text(p.tr("limits.send")).
				OnClick(func(ctx app.Context, e app.Event) { p.saveLimits() }),
			app.Button().ID("limits-cancel").Class("secondary big").Type("button").Disabled(p.busy).Text(p.tr("limits.cancel")).
				OnClick(func(ctx app.Context, e app.Event) { p.wallet.limits = limitsForm{} }),
		),
		app.If(lf.err != "", func() app.UI {
			return app.P().ID("limits-error").Class("error").Attr("role", "alert").Text(lf.err)
		}),
	)
}

// limitsText is the limits' words, Japanese first.
var limitsText = map[string][2]string{
	"limits.title":          {"支払いの上限", "Payment limits"},
	"limits.face":           {"顔だけで払える金額：%s まで", "Face alone pays up to: %s"},
	"limits.face.default":   {"市の標準（%s）", "The city's default (%s)"},
	"limits.face.never":     {"毎回カードかQRで確認", "Always confirm with the card or QR pass"},
	"limits.caps":           {"1日の上限：%s　1回の上限：%s", "Daily limit: %s · per payment: %s"},
	"limits.none":           {"なし", "none"},
	"limits.edit":           {"上限を変える", "Change the limits"},
	"limits.form.face":      {"顔だけで払える金額（これをこえるとマイナンバーカードかQRの確認が必要です）", "Up to what amount the face alone pays (above it, the My Number Card or the QR pass confirms)"},
	"limits.form.face.hint": {"市の上限は %s です。", "The city's maximum is %s."},
	"limits.form.daily":     {"1日に使える金額", "How much a day"},
	"limits.form.perpay":    {"1回に使える金額", "How much a payment"},
	"limits.send":           {"この上限にする", "Set these limits"},
	"limits.cancel":         {"やめる", "Cancel"},
	"limits.saved":          {"上限を変えました。お店の端末には次の同期で届きます。", "The limits are set; the shops' terminals get them at their next sync."},
}

func init() { addText(limitsText) }
