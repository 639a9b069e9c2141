package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/cardsession"
	"smartpass.city/smartpass/app/checkout"
	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/app/terminal"
	"smartpass.city/smartpass/app/wallet"
	"smartpass.city/smartpass/syncproto"
)

// The shop's till is the identify screen of a device enrolled as a shop
// terminal: staff key in the amount, the payer looks at the camera (the
// same loop, head turn and all, as every terminal), sees a masked name
// and the amount and taps 支払う; above their face-only limit the signed
// QR pass is the second factor. Every step's decision is app/checkout's;
// the payment is a wallet.payment op through the device's sync engine,
// which the hub posts (online) or posts at sync (offline, within the
// allowance the shop's profiles carry, kept across reloads in tillStore).

// tillStore keeps each payer's offline spending at this terminal
// (checkout.Store): IndexedDB in the browser (UseTill). Without one the
// till takes no offline payment, since it could not keep the allowance.
var tillStore checkout.Store

// UseTill sets the store the shop's till keeps offline spending in; the
// wasm main calls it before Register.
func UseTill(s checkout.Store) { tillStore = s }

// cityZone is where the till cuts days for the offline allowance.
var cityZone = time.FixedZone("JST", 9*60*60)

// maxKeyed bounds the digits staff may key (¥9,999,999).
const maxKeyed = 7

// till is a shop terminal's state on the identify screen.
type till struct {
	keyed string // the digits staff keyed
	pay   *checkout.Payment
	// note is a refusal the payment survives (a face not recognised, a
	// pass refused once), shown until the next step.
	note *checkout.Refusal
	// always: the face rule at this gallery's size never lets a face
	// pay alone (risk.Always): every payment asks the second factor.
	always bool
	// sent is the payment op recorded, followed to the server's answer.
	sent   syncproto.Op
	masked string
	// The refund form: staff name, the amount typed per sale, and the
	// last refund's op and local refusal.
	staff      string
	refundAmt  map[string]string
	refundSent syncproto.Op
	refundErr  string
	// The card as the second factor: the reader and the server's card
	// check (Register gives them), and the card's steps while the payer
	// uses it (nil: the camera reads a QR pass).
	reader  Reader
	checker CardChecker
	card    *cardSteps
}

// shopStart begins a payment at the till, online or offline as the
// device is now.
func (p *identifyPage) shopStart() {
	p.till.pay = checkout.Start(checkout.Policy{}, !p.status.Online, checkout.Allowance{Store: tillStore, Loc: cityZone})
	p.till.keyed, p.till.note, p.till.sent, p.till.masked, p.till.card = "", nil, syncproto.Op{}, "", nil
}

// shopKey takes a key of the keypad: a digit, "00", "C" (clear) or "⌫".
func (p *identifyPage) shopKey(k string) {
	t := &p.till
	switch k {
	case "C":
		t.keyed = ""
	case "⌫":
		t.keyed = t.keyed[:max(0, len(t.keyed)-1)]
	default:
		if next := strings.TrimLeft(t.keyed+k, "0"); len(next) <= maxKeyed {
			t.keyed = next
		}
	}
}

// shopAmount moves the payment on from the keyed amount to the camera.
// The payment starts again here, online or offline as the device is
// now: the till may have drawn its keypad before the sync connected.
func (p *identifyPage) shopAmount() {
	keyed := p.till.keyed
	p.shopStart()
	p.till.keyed = keyed
	n, _ := strconv.ParseInt(keyed, 10, 64)
	p.till.note = refusalOf(p.till.pay.Keyed(n))
}

// refusalOf is err as a refusal to show, or nil.
func refusalOf(err error) *checkout.Refusal {
	r, _ := err.(*checkout.Refusal)
	return r
}

// shopFace gives the payment the resident a face (or a pass, as the
// first factor) matched, when it waits for one.
func (p *identifyPage) shopFace(resident string) {
	t := &p.till
	if t.pay == nil || t.pay.Step != checkout.LookAtCamera {
		return
	}
	payer, ok := terminal.Payer(p.st, resident, !p.status.Online)
	if t.always {
		none := int64(0)
		payer.FaceOnly = &none
	}
	t.note = refusalOf(t.pay.Face(payer, ok, time.Now()))
	if t.pay.Step == checkout.Confirm {
		t.masked = t.pay.Masked()
		p.until = time.Now().Add(time.Minute) // hold the camera while the payer decides
	}
}

// shopTap is the payer's tap on 支払う.
func (p *identifyPage) shopTap() {
	t := &p.till
	t.note = refusalOf(t.pay.Tap(time.Now()))
	if t.pay.Step == checkout.Second {
		p.setQR(true)
	}
	p.shopTaken()
}

// shopSecond is a QR pass shown at the second-factor step; it reports
// whether the till took the pass (false: not at that step).
func (p *identifyPage) shopSecond(text string) bool {
	t := &p.till
	if t.pay == nil || t.pay.Step != checkout.Second {
		return false
	}
	c := terminal.CheckPass(p.st, p.enr.Facility, p.enr.Role, text, time.Now())
	if c.Outcome == identify.Used {
		// A pass this till took already (the last payer's screen still
		// in view) is not a try: it can pay nothing again, and counting
		// it would end the next payer's payment before they show theirs.
		return true
	}
	p.record(c.Identification)
	f := checkout.Factor{Kind: "pass", Resident: c.Resident, Verified: c.Outcome == identify.Accepted}
	t.note = refusalOf(t.pay.SecondFactor(f, time.Now()))
	if t.pay.Step != checkout.Second {
		p.setQR(false)
	}
	p.shopTaken()
	return true
}

// cardHold is how long the camera stops matching faces while the payer
// uses the card: two of the card's steps.
const cardHold = 2 * cardTimeout

// shopUseCard turns the second-factor step to the My Number Card: the
// camera stops reading passes (a pass shown while a PIN is typed must
// not pay instead) and stops matching faces until the card is done.
func (p *identifyPage) shopUseCard() {
	t := &p.till
	if t.pay == nil || t.pay.Step != checkout.Second || t.reader == nil {
		return
	}
	p.setQR(false)
	p.until = time.Now().Add(cardHold)
	t.card = &cardSteps{live: p.live, reader: t.reader, checker: t.checker, card: cardsession.New(cardsession.Auth), families: []string{"shop.", "card."}}
}

// shopCardVerify sends the typed PIN to the card once (never again on
// its own) and gives the payment what the card proved: the resident
// whose profile here lists the card, or a failed factor when the card
// or the person failed the check (a wrong PIN: its words and the tries
// left on screen). A reader or network fault is not a try.
func (p *identifyPage) shopCardVerify() {
	t := &p.till
	c := t.card
	if c == nil || t.pay == nil || t.pay.Step != checkout.Second {
		return
	}
	c.live = p.live
	facility := p.enr.Facility
	c.check(facility, func(_ syncproto.CardResult, proof cardsession.Proof, err error) {
		c.proved(err, func() {})
		if t.card != c || t.pay.Step != checkout.Second {
			return // the payment moved on while the card worked
		}
		var f checkout.Factor
		switch {
		case err == nil:
			resident := terminal.CardHolder(p.st, facility, jpki.Fingerprint(proof.Cert))
			outcome := map[bool]string{true: identify.Accepted, false: identify.Unknown}[resident != ""]
			p.record(identify.Identification{Resident: resident, Method: identify.MethodCard, Outcome: outcome})
			f = checkout.Factor{Kind: "card", Resident: resident, Verified: resident != ""}
		case cardsession.Failed(err):
			f = checkout.Factor{Kind: "card"}
		default:
			return // the reader or the network: the payer tries again
		}
		t.note = refusalOf(t.pay.SecondFactor(f, time.Now()))
		p.until = time.Now().Add(cardHold)
		p.shopTaken()
	})
}

// shopCardView is the card's steps at the second-factor step, and what
// the card last said (a wrong PIN stays on screen after a refusal).
func (p *identifyPage) shopCardView() []app.UI {
	t := &p.till
	c := t.card
	if c == nil {
		return nil
	}
	c.live = p.live // the page's language and state, as of this render
	if t.pay.Step != checkout.Second {
		return []app.UI{app.If(c.errMsg != "", func() app.UI {
			return app.P().ID("card-error").Class("error").Attr("role", "alert").Text(c.errMsg)
		})}
	}
	return c.stepsView(true, false, p.tr("shop.card.verify"), nil, p.shopCardVerify)
}

// shopTaken records the payment once checkout took it: the op goes
// through the sync engine (at once online; at sync offline).
func (p *identifyPage) shopTaken() {
	t := &p.till
	if t.pay.Step != checkout.Done || t.sent.Device != "" {
		return
	}
	r := t.pay.Receipt
	body := wallet.Payment{Facility: p.enr.Facility, Resident: t.pay.Payer.Resident, Amount: r.Amount, Offline: r.Offline}
	t.sent.Device = "…" // recording: a second call records nothing
	p.later(func() func() {
		op, err := p.sync.Record(p.page, wallet.OpPayment, body)
		return func() {
			if err != nil {
				app.Log("record payment:", err)
				p.status.Err = err.Error() // the status bar says the record failed
			}
			t.sent = op
		}
	})
}

// shopRefund records a refund of amount of sale s, after the till's own
// check that it fits what is left of it (the ledger has the last word).
func (p *identifyPage) shopRefund(s terminal.Sale) {
	t := &p.till
	n, err := strconv.ParseInt(strings.TrimSpace(t.refundAmt[s.ID]), 10, 64)
	switch {
	case err != nil || n < 1:
		t.refundErr = p.tr("shop.refund.amount")
		return
	case n > s.Left():
		t.refundErr = p.tr("shop.refund.toolarge")
		return
	case strings.TrimSpace(t.staff) == "":
		t.refundErr = p.tr("shop.refund.staff")
		return
	}
	t.refundErr = ""
	body := wallet.Refund{Facility: p.enr.Facility, Payment: s.ID, Amount: n, Staff: strings.TrimSpace(t.staff)}
	p.later(func() func() {
		op, err := p.sync.Record(p.page, wallet.OpRefund, body)
		return func() {
			if err != nil {
				t.refundErr = err.Error()
				return
			}
			t.refundSent = op
			delete(t.refundAmt, s.ID)
		}
	})
}

// yen formats an amount as the till shows it: ¥1,234.
func yen(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return "¥" + s
}

// shopView is the till's panel beside the camera.
func (p *identifyPage) shopView() app.UI {
	t := &p.till
	if t.pay == nil {
		p.shopStart()
	}
	var body []app.UI
	switch t.pay.Step {
	case checkout.EnterAmount:
		body = p.keypadView()
	case checkout.LookAtCamera:
		body = []app.UI{
			app.P().ID("shop-amount").Class("amount").Attr("data-amount", t.pay.Amount).Text(yen(t.pay.Amount)),
			app.P().ID("shop-look").Class("guide").Text(p.tr("shop.look")),
		}
	case checkout.Confirm:
		body = []app.UI{
			app.P().ID("shop-payer").Class("payer").Text(p.tr("shop.payer", t.masked)),
			app.P().ID("shop-amount").Class("amount").Attr("data-amount", t.pay.Amount).Text(yen(t.pay.Amount)),
			app.Button().ID("shop-pay").Class("big").Type("button").Text(p.tr("shop.pay")).
				OnClick(func(ctx app.Context, e app.Event) { p.shopTap() }),
		}
	case checkout.Second:
		guide := "shop.second"
		if t.card != nil {
			guide = "shop.second.card"
		}
		body = []app.UI{
			app.P().ID("shop-amount").Class("amount").Attr("data-amount", t.pay.Amount).Text(yen(t.pay.Amount)),
			app.P().ID("shop-second").Class("guide").Attr("role", "status").Attr("data-by", map[bool]string{false: "pass", true: "card"}[t.card != nil]).Text(p.tr(guide)),
			app.If(t.card == nil && t.reader != nil, func() app.UI {
				return app.Button().ID("shop-card").Class("big").Type("button").Text(p.tr("shop.card")).
					OnClick(func(ctx app.Context, e app.Event) { p.shopUseCard() })
			}),
		}
	case checkout.Done:
		body = p.receiptView()
	case checkout.Refused:
		ja, en := t.pay.Refusal.Words()
		body = []app.UI{app.P().ID("shop-refused").Class("error").Attr("role", "alert").Attr("data-reason", string(t.pay.Refusal.Reason)).Text(p.pick(ja, en))}
	}
	body = append(body, p.shopCardView()...)
	if t.note != nil && t.pay.Step != checkout.Refused {
		ja, en := t.note.Words()
		body = append(body, app.P().ID("shop-note").Class("error").Attr("role", "alert").Attr("data-reason", string(t.note.Reason)).Text(p.pick(ja, en)))
	}
	switch t.pay.Step {
	case checkout.Done, checkout.Refused:
		body = append(body, app.Button().ID("shop-next").Class("big").Type("button").Text(p.tr("shop.next")).
			OnClick(func(ctx app.Context, e app.Event) { p.setQR(false); p.until = time.Time{}; p.shopStart() }))
	default:
		body = append(body, app.Button().ID("shop-cancel").Class("secondary").Type("button").Text(p.tr("action.cancel")).
			OnClick(func(ctx app.Context, e app.Event) { t.pay.Cancel(); p.setQR(false) }))
	}
	return app.Section().ID("shop").Class("card till").Attr("data-step", int(t.pay.Step)).Attr("data-offline", !p.status.Online).Body(body...)
}

// pick is ja or en by the screen's language.
func (p *identifyPage) pick(ja, en string) string {
	if p.lang == langEN {
		return en
	}
	return ja
}

// keypadView is the staff's large keys for the amount.
func (p *identifyPage) keypadView() []app.UI {
	keys := []string{"7", "8", "9", "4", "5", "6", "1", "2", "3", "0", "00", "⌫"}
	n, _ := strconv.ParseInt(p.till.keyed, 10, 64)
	return []app.UI{
		app.P().ID("shop-keyed").Class("amount").Attr("data-amount", n).Text(yen(n)),
		app.Div().Class("keypad").Body(
			app.Range(keys).Slice(func(i int) app.UI {
				k := keys[i]
				return app.Button().Class("big key").Type("button").Attr("data-key", k).Text(k).
					OnClick(func(ctx app.Context, e app.Event) { p.shopKey(k) }, app.EventScope(k))
			}),
		),
		app.Div().Class("actions").Body(
			app.Button().ID("shop-clear").Class("secondary").Type("button").Text(p.tr("shop.clear")).
				OnClick(func(ctx app.Context, e app.Event) { p.shopKey("C") }),
			app.Button().ID("shop-amount-ok").Class("big").Type("button").Text(p.tr("shop.amount.ok")).
				OnClick(func(ctx app.Context, e app.Event) { p.shopAmount() }),
		),
	}
}

// receiptView is the receipt on screen, and what became of the op.
func (p *identifyPage) receiptView() []app.UI {
	t := &p.till
	r := t.pay.Receipt
	state, words := "recording", p.tr("shop.r.recording")
	if t.sent.Device != "" && t.sent.Device != "…" {
		refused, posted := terminal.Outcome(p.ops, p.st.Rejected, t.sent)
		switch {
		case refused != "":
			state, words = "refused", refused
		case posted:
			state, words = "posted", p.tr("shop.r.posted")
		case r.Offline:
			state, words = "offline", p.tr("shop.r.offline")
		default:
			state, words = "sending", p.tr("shop.r.sending")
		}
	}
	how := p.tr("shop.r.face")
	if r.Second != "" {
		how = p.tr("shop.r." + r.Second)
	}
	class := "result ok"
	if state == "refused" {
		class = "result unknown"
	}
	return []app.UI{
		app.Div().ID("shop-receipt").Class(class).Attr("data-state", state).Attr("data-amount", r.Amount).Attr("data-payment", terminalID(t.sent)).Body(
			app.Strong().Text(p.tr("shop.r.title")),
			app.P().Text(p.tr("shop.payer", t.masked)),
			app.P().Class("amount").Text(yen(r.Amount)),
			app.P().Class("hint").Text(r.At.In(cityZone).Format("2006-01-02 15:04")+" · "+how),
			app.P().ID("shop-receipt-state").Attr("role", "status").Text(words),
		),
	}
}

// terminalID is the id a refund names the payment by, once recorded.
func terminalID(op syncproto.Op) string {
	if op.Device == "" || op.Device == "…" {
		return ""
	}
	return wallet.ID(op)
}

// refundsView lists the shop's payments recorded on this terminal's
// feed, newest first, each with a refund of what is left of it.
func (p *identifyPage) refundsView() app.UI {
	t := &p.till
	if t.refundAmt == nil {
		t.refundAmt = map[string]string{}
	}
	sales := terminal.Sales(p.ops, p.st.Rejected, p.enr.Facility)
	if len(sales) > 10 {
		sales = sales[:10]
	}
	var last app.UI
	if t.refundSent.Device != "" {
		refused, posted := terminal.Outcome(p.ops, p.st.Rejected, t.refundSent)
		key := map[bool]string{false: "shop.refund.sending", true: "shop.refund.posted"}[posted]
		switch {
		case refused != "":
			last = app.P().ID("refund-state").Class("error").Attr("role", "alert").Attr("data-state", "refused").Text(refused)
		default:
			last = app.P().ID("refund-state").Attr("role", "status").Attr("data-state", map[bool]string{false: "sending", true: "posted"}[posted]).Text(p.tr(key))
		}
	}
	return app.Section().ID("shop-refunds").Class("card").Body(
		app.H2().Text(p.tr("shop.refunds")),
		app.Label().For("shop-staff").Text(p.tr("shop.staff")),
		app.Input().ID("shop-staff").Type("text").Value(t.staff).AutoComplete(false).
			OnInput(func(ctx app.Context, e app.Event) { t.staff = ctx.JSSrc().Get("value").String() }),
		app.If(t.refundErr != "", func() app.UI {
			return app.P().ID("refund-error").Class("error").Attr("role", "alert").Text(t.refundErr)
		}),
		last,
		app.Ul().Class("sales").Body(app.Range(sales).Slice(func(i int) app.UI {
			s := sales[i]
			line := fmt.Sprintf("%s %s", s.At.In(cityZone).Format("15:04"), yen(s.Amount))
			if s.Refunded > 0 {
				line += " " + p.tr("shop.refunded", yen(s.Refunded))
			}
			if s.Offline {
				line += " " + p.tr("shop.offline")
			}
			li := app.Li().Class("sale").Attr("data-payment", s.ID).Attr("data-amount", s.Amount).Attr("data-refunded", s.Refunded)
			if s.Refused != "" {
				return li.Body(app.Span().Text(line), app.Span().Class("error").Text(" "+s.Refused))
			}
			return li.Body(
				app.Span().Text(line),
				app.Input().Class("refund-amount").Type("text").Attr("inputmode", "numeric").Value(t.refundAmt[s.ID]).
					Placeholder(strconv.FormatInt(s.Left(), 10)).
					OnInput(func(ctx app.Context, e app.Event) { t.refundAmt[s.ID] = ctx.JSSrc().Get("value").String() }, app.EventScope(s.ID)),
				app.Button().Class("secondary refund").Type("button").Text(p.tr("shop.refund")).
					OnClick(func(ctx app.Context, e app.Event) { p.shopRefund(s) }, app.EventScope(s.ID)),
			)
		})),
	)
}

// tillText is the till's words, Japanese first, merged into the table.
var tillText = map[string][2]string{
	"face.id.ok.shop":      {"確認できました", "Recognised"},
	"mode.shop":            {"店舗の支払い", "Shop payment"},
	"mode.shop.d":          {"顔で支払い（金額入力・確認・返金）", "Payment by face: amount, confirmation, refunds"},
	"shop.look":            {"お客様はカメラを見て、顔を左右に向けてください。", "Payer: look at the camera and turn your head as asked."},
	"shop.payer":           {"%s 様", "%s"},
	"shop.pay":             {"支払う / Pay", "Pay / 支払う"},
	"shop.second":          {"この金額は顔だけではお支払いできません。QRパスをカメラに見せるか、マイナンバーカードで確認してください。", "This amount needs a second check: show your QR pass to the camera, or use your My Number Card."},
	"shop.second.card":     {"マイナンバーカードをリーダーに置き、利用者証明用の暗証番号（数字4桁）を入れてください。", "Put your My Number Card on the reader and enter its 4-digit PIN."},
	"shop.card":            {"マイナンバーカードで確認", "Use the My Number Card"},
	"shop.card.verify":     {"確認して支払う", "Check and pay"},
	"shop.next":            {"次のお客様", "Next customer"},
	"shop.clear":           {"クリア", "Clear"},
	"shop.amount.ok":       {"金額を確定", "Enter amount"},
	"shop.r.title":         {"お支払いありがとうございました（領収）", "Paid, thank you (receipt)"},
	"shop.r.face":          {"顔認証", "by face"},
	"shop.r.pass":          {"顔認証＋QRパス", "by face and QR pass"},
	"shop.r.card":          {"顔認証＋マイナンバーカード", "by face and My Number Card"},
	"shop.r.recording":     {"記録中…", "Recording…"},
	"shop.r.sending":       {"送信中…", "Sending…"},
	"shop.r.posted":        {"確定しました", "Posted"},
	"shop.r.offline":       {"オフラインで受け付けました（通信が戻ると確定します）", "Taken offline: it posts when the terminal is back online"},
	"shop.refunds":         {"返金", "Refunds"},
	"shop.staff":           {"担当者名", "Staff name"},
	"shop.refund":          {"返金する", "Refund"},
	"shop.refunded":        {"（返金済み %s）", "(%s refunded)"},
	"shop.offline":         {"（オフライン）", "(offline)"},
	"shop.refund.amount":   {"返金額を入力してください。", "Please enter the amount to refund."},
	"shop.refund.toolarge": {"返金額が支払額（返金済みを除く）をこえています。", "The refund is larger than what is left of the payment."},
	"shop.refund.staff":    {"担当者名を入力してください。", "Please enter the staff member's name."},
	"shop.refund.sending":  {"返金を送信中…", "Sending the refund…"},
	"shop.refund.posted":   {"返金しました", "Refunded"},
}

func init() { addText(tillText) }
