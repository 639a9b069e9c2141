package ui

import (
	"context"
	"fmt"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/furusato"
)

// The donation counter (ふるさと納税の窓口) is the identify screen of a
// device enrolled as role counter at a donation shop: staff pick the
// gift from the shop's catalogue on large buttons (or a donation
// without one), the donor looks at the camera or shows their QR pass,
// the server's offer says whether the gift can be given (a resident of
// the city: no, in words), staff take the card or the cash, the
// donation is recorded, the gift handed over and the receipt printed.
// Every decision of the flow is app/furusato's Turn; the server decides
// the gift from the donor's certificate address and takes the payment
// (server/furusato, through server/cardpay).

// CounterAPI is the donation counter's requests, signed with the
// counter device's key (furusato.CounterAPI).
type CounterAPI interface {
	Quote(ctx context.Context, s furusato.CounterSale) (furusato.Offer, error)
	Pay(ctx context.Context, s furusato.CounterSale) (furusato.CounterPaid, error)
	Receipt(ctx context.Context, r furusato.CounterReceipt) (furusato.Receipts, error)
}

// counterAPI is the counter's requests (UseCounter); nil: the counter
// says it cannot take donations on this device.
var counterAPI CounterAPI

// UseCounter sets the donation counter's requests; the wasm main calls
// it before Register.
func UseCounter(c CounterAPI) { counterAPI = c }

// DemoCards are Stripe's test cards the demo counter offers in place of
// the card terminal (whose PaymentMethod id a real counter reads from
// the gateway's reader): one that pays, one the gateway declines.
var DemoCards = []string{"pm_card_visa", "pm_card_chargeDeclined"}

// counterDesk is the counter's state on the identify screen.
type counterDesk struct {
	turn  furusato.Turn
	card  string // the PaymentMethod id chosen
	staff string // who takes the cash
	busy  bool   // a request is with the server
	// receipt is the saved receipt's link, for a second try.
	receipt string
}

// counterDonor gives the turn the donor the camera or the pass found,
// and asks the server's offer.
func (p *identifyPage) counterDonor(resident string) {
	c := &p.counter
	if !c.turn.Identified(resident) || counterAPI == nil {
		return
	}
	p.until = time.Now().Add(2 * time.Minute) // hold the screen while the donor decides
	q := c.turn.Quoting()
	c.busy = true
	p.later(func() func() {
		o, err := counterAPI.Quote(p.page, q)
		return func() { c.busy = false; c.turn.Offered(o, err) }
	})
}

// counterPay sends the payment by method.
func (p *identifyPage) counterPay(method string) {
	c := &p.counter
	s, err := c.turn.Pay(method, c.card, c.staff, time.Now())
	if err != nil || counterAPI == nil {
		return
	}
	c.busy = true
	p.later(func() func() {
		paid, err := counterAPI.Pay(p.page, s)
		return func() {
			c.busy = false
			c.turn.Answered(paid, err)
			p.counterRecord()
		}
	})
}

// counterRecord records the paid donation in the device's log; its
// record id is what the handover and the receipt name.
func (p *identifyPage) counterRecord() {
	c := &p.counter
	d, ok := c.turn.Record()
	if !ok {
		return
	}
	c.turn.Recorded = "…" // recording: a second call records nothing
	p.later(func() func() {
		op, err := p.sync.Record(p.page, furusato.OpDonation, d)
		return func() {
			if err != nil {
				c.turn.Recorded, c.turn.Err = "", err
				p.status.Err = err.Error()
				return
			}
			c.turn.Kept(op)
		}
	})
}

// counterHand records the gift handed over.
func (p *identifyPage) counterHand() {
	c := &p.counter
	h, ok := c.turn.Handover()
	if !ok || c.turn.Recorded == "…" {
		return
	}
	c.turn.Handed = true
	p.keep(furusato.OpGift, []any{h}, func(err error) {
		if err != nil {
			c.turn.Handed, c.turn.Err = false, err
		}
	})
}

// counterReceipt fetches the donation's receipt and hands it to the
// browser to save or print.
func (p *identifyPage) counterReceipt() {
	c := &p.counter
	id := c.turn.Recorded
	if id == "" || id == "…" || counterAPI == nil {
		return
	}
	c.busy = true
	p.later(func() func() {
		r, err := counterAPI.Receipt(p.page, furusato.CounterReceipt{Donation: id})
		return func() {
			c.busy = false
			if err != nil {
				c.turn.Err = err
				return
			}
			url, err := p.browser.Save("receipt-"+id+".pdf", "application/pdf", r.PDF, c.receipt)
			c.receipt = url
			if err != nil {
				c.turn.Err = err
			}
		}
	})
}

// counterNext clears the counter for the next donor.
func (p *identifyPage) counterNext() {
	p.counter = counterDesk{card: p.counter.card, staff: p.counter.staff}
	p.setQR(false)
	p.until = time.Time{}
}

func (p *identifyPage) counterView() app.UI {
	c := &p.counter
	t := &c.turn
	if c.card == "" {
		c.card = DemoCards[0]
	}
	var body []app.UI
	if counterAPI == nil {
		body = append(body, app.P().ID("counter-off").Class("error").Text(p.tr("counter.off")))
	}
	switch t.Step {
	case furusato.Pick:
		body = append(body, p.catalogueView()...)
	case furusato.Identify:
		body = append(body,
			p.saleLine(),
			app.P().ID("counter-look").Class("guide").Attr("role", "status").Text(p.tr("counter.look")))
	case furusato.Quoted, furusato.Paying:
		body = append(body, p.saleLine(), app.P().ID("counter-donor").Class("payer").Text(t.Offer.Donor), p.offerLine())
		body = append(body, p.payView()...)
	case furusato.Paid:
		body = append(body, p.paidView()...)
	}
	if ja, en := furusato.Words(t.Err); ja != "" {
		body = append(body, app.P().ID("counter-error").Class("error").Attr("role", "alert").Text(p.pick(ja, en)))
	}
	if t.Step == furusato.Paid {
		body = append(body, app.Button().ID("counter-next").Class("big").Type("button").Text(p.tr("counter.next")).
			OnClick(func(ctx app.Context, e app.Event) { p.counterNext() }))
	} else if t.Step != furusato.Pick {
		body = append(body, app.Button().ID("counter-cancel").Class("secondary").Type("button").Text(p.tr("action.cancel")).
			Disabled(t.Step == furusato.Paying).
			OnClick(func(ctx app.Context, e app.Event) { t.Cancel(); p.setQR(false); p.until = time.Time{} }))
	}
	return app.Section().ID("counter").Class("card till").Attr("data-step", int(t.Step)).Attr("aria-busy", c.busy).Body(body...)
}

// catalogueView is the shop's gifts as large buttons, and donations
// without a gift.
func (p *identifyPage) catalogueView() []app.UI {
	var items []furusato.Item
	if p.st != nil {
		items = furusato.Catalogue(*furusato.Counter.In(p.st.Parts()), p.enr.Facility)
	}
	amounts := furusato.Amounts
	return []app.UI{
		app.H2().Text(p.tr("counter.pick")),
		app.If(len(items) == 0, func() app.UI { return app.P().ID("counter-empty").Class("hint").Text(p.tr("counter.empty")) }),
		app.Div().ID("counter-items").Class("keypad items").Body(
			app.Range(items).Slice(func(i int) app.UI {
				it := items[i]
				return app.Button().Class("big item").Type("button").Attr("data-item", it.ID).Attr("data-stock", it.Stock).
					Disabled(it.Stock <= 0).
					Body(
						app.Strong().Text(it.NameJA),
						app.Span().Text(yen(it.Donation)),
						app.Span().Class("hint").Text(p.tr("counter.stock", it.Stock)),
					).
					OnClick(func(ctx app.Context, e app.Event) { p.counter.turn.Choose(it) }, app.EventScope(it.ID))
			}),
		),
		app.H2().Text(p.tr("counter.nogift")),
		app.Div().Class("actions").Body(
			app.Range(amounts).Slice(func(i int) app.UI {
				n := amounts[i]
				return app.Button().Class("big secondary").Type("button").Attr("data-amount", n).Text(yen(n)).
					OnClick(func(ctx app.Context, e app.Event) { p.counter.turn.Without(n) }, app.EventScope(fmt.Sprint(n)))
			}),
		),
	}
}

// saleLine is what was picked: the gift and its donation, or the amount.
func (p *identifyPage) saleLine() app.UI {
	t := &p.counter.turn
	if t.Item.ID == "" {
		return app.P().ID("counter-sale").Class("amount").Attr("data-amount", t.Amount).Text(p.tr("counter.sale.nogift", yen(t.Amount)))
	}
	return app.P().ID("counter-sale").Class("amount").Attr("data-amount", t.Item.Donation).Attr("data-item", t.Item.ID).
		Text(p.tr("counter.sale", t.Item.NameJA, yen(t.Item.Donation)))
}

// offerLine says whether the gift is given: a resident of the city is
// told in words that they get none.
func (p *identifyPage) offerLine() app.UI {
	t := &p.counter.turn
	switch {
	case t.Refused():
		return app.P().ID("counter-resident").Class("notice").Attr("role", "alert").Text(p.pick(furusato.OwnResidentJA, furusato.OwnResidentEN))
	case t.Offer != nil && t.Offer.Gift:
		return app.P().ID("counter-gift").Class("result ok").Text(p.tr("counter.gift.ok", t.Item.NameJA))
	}
	return app.P().ID("counter-nogift").Class("hint").Text(p.tr("counter.gift.none"))
}

// payView is the payment: a card (the demo's test cards in place of the
// card terminal) or cash with the staff member's name.
func (p *identifyPage) payView() []app.UI {
	c := &p.counter
	busy := c.turn.Step == furusato.Paying
	cards := DemoCards
	return []app.UI{
		app.FieldSet().Body(
			app.Legend().Text(p.tr("counter.card")),
			app.Range(cards).Slice(func(i int) app.UI {
				pm := cards[i]
				return app.Label().Class("choice").Body(
					app.Input().Type("radio").Name("counter-card").Value(pm).Checked(c.card == pm).
						OnChange(func(ctx app.Context, e app.Event) { c.card = pm }, app.EventScope(pm)),
					app.Span().Text(p.tr("counter.card."+fmt.Sprint(i))),
				)
			}),
			app.Button().ID("counter-pay-card").Class("big").Type("button").Disabled(busy).Text(p.tr("counter.pay.card")).
				OnClick(func(ctx app.Context, e app.Event) { p.counterPay(furusato.PayCard) }),
		),
		app.FieldSet().Body(
			app.Legend().Text(p.tr("counter.cash")),
			app.Label().For("counter-staff").Text(p.tr("counter.staff")),
			app.Input().ID("counter-staff").Type("text").Value(c.staff).AutoComplete(false).
				OnInput(func(ctx app.Context, e app.Event) { c.staff = ctx.JSSrc().Get("value").String() }),
			app.Button().ID("counter-pay-cash").Class("big secondary").Type("button").Disabled(busy).Text(p.tr("counter.pay.cash")).
				OnClick(func(ctx app.Context, e app.Event) { p.counterPay(furusato.PayCash) }),
		),
		app.If(busy, func() app.UI {
			return app.P().ID("counter-paying").Class("guide").Attr("role", "status").Text(p.tr("counter.paying"))
		}),
	}
}

// paidView is the donation paid: the gift to hand over (or the words
// for a resident), and the receipt.
func (p *identifyPage) paidView() []app.UI {
	c := &p.counter
	t := &c.turn
	d := t.Paid.Donation
	out := []app.UI{
		app.P().ID("counter-paid").Class("result ok").Attr("data-amount", d.Amount).Attr("data-payment", d.Payment).Text(p.tr("counter.paid", yen(d.Amount))),
	}
	switch {
	case t.Refused():
		out = append(out, app.P().ID("counter-resident").Class("notice").Text(p.pick(furusato.OwnResidentJA, furusato.OwnResidentEN)))
	case d.Gift && t.Handed:
		out = append(out, app.P().ID("counter-handed").Class("result ok").Text(p.tr("counter.handed", t.Item.NameJA)))
	case d.Gift:
		out = append(out, app.Button().ID("counter-hand").Class("big").Type("button").Disabled(t.Recorded == "" || t.Recorded == "…").
			Text(p.tr("counter.hand", t.Item.NameJA)).OnClick(func(ctx app.Context, e app.Event) { p.counterHand() }))
	}
	out = append(out,
		app.Button().ID("counter-receipt").Class("big secondary").Type("button").Disabled(t.Recorded == "" || t.Recorded == "…" || c.busy).
			Attr("data-donation", t.Recorded).Text(p.tr("counter.receipt")).OnClick(func(ctx app.Context, e app.Event) { p.counterReceipt() }),
		app.If(c.receipt != "", func() app.UI {
			return app.A().ID("counter-receipt-link").Href(c.receipt).Attr("download", "receipt-"+t.Recorded+".pdf").Text(p.tr("counter.receipt.link"))
		}),
	)
	return out
}

var counterText = map[string][2]string{
	"role.counter":         {"ふるさと納税の窓口", "hometown-tax counter"},
	"mode.counter":         {"ふるさと納税の窓口", "Hometown-tax counter"},
	"mode.counter.d":       {"返礼品を選び、顔かQRパスで寄附者を確認、カードか現金で受付", "Pick the gift, recognise the donor by face or QR pass, take card or cash"},
	"kind.donation":        {"ふるさと納税の店舗", "hometown-tax shop"},
	"face.id.ok.counter":   {"確認できました", "Recognised"},
	"counter.off":          {"この端末では寄附を受け付けられません。", "This device cannot take donations."},
	"counter.pick":         {"返礼品を選んでください", "Pick the gift"},
	"counter.empty":        {"この店舗の返礼品はまだ登録されていません。", "No gifts are listed for this shop yet."},
	"counter.stock":        {"在庫 %d", "%d in stock"},
	"counter.nogift":       {"返礼品なしの寄附", "A donation without a gift"},
	"counter.look":         {"寄附される方はカメラを見るか、QRパスを見せてください。", "Donor: look at the camera, or show your QR pass."},
	"counter.sale":         {"%s（寄附 %s）", "%s (donation %s)"},
	"counter.sale.nogift":  {"寄附 %s（返礼品なし）", "Donation %s (no gift)"},
	"counter.gift.ok":      {"返礼品「%s」をお渡しできます。", "The gift “%s” can be given."},
	"counter.gift.none":    {"返礼品なしの寄附です。", "A donation without a gift."},
	"counter.card":         {"クレジットカード", "Credit card"},
	"counter.card.0":       {"テスト用カード（支払える）", "Test card (pays)"},
	"counter.card.1":       {"テスト用カード（断られる）", "Test card (declined)"},
	"counter.pay.card":     {"カードで支払う", "Pay by card"},
	"counter.cash":         {"現金", "Cash"},
	"counter.staff":        {"現金を受け取った職員の名前", "Name of the staff member taking the cash"},
	"counter.pay.cash":     {"現金で受け取った", "Cash received"},
	"counter.paying":       {"お支払いを確認しています…", "Checking the payment…"},
	"counter.paid":         {"%s の寄附を受け付けました。ありがとうございます。", "Your donation of %s is received. Thank you."},
	"counter.hand":         {"「%s」を手渡しました", "“%s” handed over"},
	"counter.handed":       {"返礼品「%s」をお渡ししました。", "The gift “%s” was handed over."},
	"counter.receipt":      {"寄附金受領証明書（PDF）", "Donation receipt (PDF)"},
	"counter.receipt.link": {"受領証明書をもう一度保存する", "Save the receipt again"},
	"counter.next":         {"次の方へ", "Next donor"},
}

func init() {
	for k, v := range counterText {
		text[k] = v
	}
}
