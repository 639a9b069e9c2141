package ui

import (
	"crypto/ed25519"
	"encoding/json"
	"testing"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/cardtest"
	"smartpass.city/smartpass/app/checkout"
	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/app/projection"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/synclog"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/app/wallet"
	"smartpass.city/smartpass/syncproto"
)

// tillMem is the till's store of offline spending, in memory.
type tillMem map[string][]byte

func (m tillMem) Load(k string) ([]byte, error) { return m[k], nil }
func (m tillMem) Save(k string, v []byte) error { m[k] = v; return nil }

// TestTillCard: at a shop's till (offline here: no server in the test,
// so the card is checked with the anchors the server published, and the
// payment taken within the payer's allowance), a ¥2,000 payment asks its
// second factor, as every payment does while the face rule cannot trust
// a face alone (risk.Always); the payer chooses the My Number Card, whose check is every
// terminal's (cardSteps.checkCard). A wrong PIN is said with the tries
// left, sent once and never again, and counts as one failed factor;
// the right PIN pays, the receipt saying by card, and the payment and
// the card identification are recorded. A card that is not the payer's
// is refused however right its PIN.
func TestTillCard(t *testing.T) {
	ctx := t.Context()
	UseTill(tillMem{})
	t.Cleanup(func() { UseTill(nil) })
	taro := cardtest.Card(t, cardtest.Taro)
	j, err := card.OpenJPKI(ctx, card.New(taro))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := j.Certificate(ctx, card.AuthKey.Cert()) // no PIN to read it
	if err != nil {
		t.Fatal(err)
	}
	_, key, _ := ed25519.GenerateKey(nil)
	log, err := synclog.New(ctx, synclog.NewMemStore("till-1"), nil, synclog.Options{Signer: syncproto.KeySigner{Key: key}})
	if err != nil {
		t.Fatal(err)
	}
	p := &identifyPage{
		live:  live{sync: log, folded: projection.New(ctx, log), dev: enrolledAs{Device: "till-1", Facility: "kaga-shop", Role: scope.Shop}},
		faces: noCamera{},
		till:  till{reader: cardOn{taro}, checker: &checker{t: t, down: true}},
	}
	e := app.NewTestEngine()
	if err := e.Load(&mountedNatively{p}); err != nil {
		t.Fatal(err)
	}
	until(t, e, "the log folded", func() bool { return p.st != nil })
	// What the shop's profiles would hold: his card, his wallet's facts;
	// and his daughter, whose profile lists no card.
	anchors := cardtest.Anchors(t, cardtest.PKI(t))
	p.st.Anchors = &anchors
	if p.st.Templates == nil {
		p.st.Templates = map[string]template.Template{}
	}
	if p.st.Profiles == nil {
		p.st.Profiles = map[string]template.Profile{}
	}
	for id, cards := range map[string][]string{"R-1": {jpki.Fingerprint(cert)}, "R-2": nil} {
		p.st.Templates[id] = template.Template{Resident: id, Facilities: []string{"kaga-shop"}}
		p.st.Profiles[id] = template.Profile{Resident: id, Facility: "kaga-shop", Cards: cards, Pay: &template.Pay{Name: "加賀　太郎", Allowance: 3_000}}
	}

	toSecond := func(payer string) {
		t.Helper()
		press(e, &p.live, func() {
			p.shopStart()
			p.till.keyed, p.till.always = "2000", true
			p.shopAmount()
			p.shopFace(payer)
			p.shopTap()
		})
		if p.till.pay.Step != checkout.Second {
			t.Fatalf("¥2,000 went to step %d (%v), want the second factor", p.till.pay.Step, p.till.note)
		}
		shows(t, p, "shop-card", "マイナンバーカードで確認")
		press(e, &p.live, p.shopUseCard)
		if p.qr {
			t.Fatal("the camera still reads passes while the card is used")
		}
		c := p.till.card
		press(e, &p.live, c.connect)
		until(t, e, "connected", func() bool { return !c.busy })
	}

	toSecond("R-1")
	c := p.till.card
	shows(t, p, "tries", "残り3回まで入力できます。")
	c.card.PIN = "9999"
	press(e, &p.live, p.shopCardVerify)
	until(t, e, "the wrong PIN answered", func() bool { return !c.busy })
	shows(t, p, "card-error", "暗証番号が違います。")
	shows(t, p, "tries", "残り2回まで入力できます。")
	shows(t, p, "shop-note", "本人確認ができませんでした")
	if c.card.PIN != "" || cardtest.Verifies(taro) != 1 || p.till.pay.Step != checkout.Second {
		t.Fatalf("after a wrong PIN: field %q, %d PINs sent, step %d", c.card.PIN, cardtest.Verifies(taro), p.till.pay.Step)
	}

	c.card.PIN = cardtest.Taro.AuthPIN
	press(e, &p.live, p.shopCardVerify)
	until(t, e, "paid", func() bool { return !c.busy && p.till.pay.Step == checkout.Done })
	until(t, e, "the payment recorded", func() bool { return p.till.sent.Seq != 0 })
	shows(t, p, "shop-receipt", "顔認証＋マイナンバーカード")
	ops, _ := log.Ops(ctx)
	var paid, byCard, checked int
	for _, op := range ops {
		switch op.Kind {
		case wallet.OpPayment:
			var b wallet.Payment
			json.Unmarshal(op.Body, &b)
			if b.Resident == "R-1" && b.Amount == 2_000 && b.Offline {
				paid++
			}
		case jpki.OpChecked:
			checked++
		case identify.OpIdentified:
			var i identify.Identification
			json.Unmarshal(op.Body, &i)
			if i.Method == identify.MethodCard && i.Resident == "R-1" && i.Outcome == identify.Accepted {
				byCard++
			}
		}
	}
	if paid != 1 || byCard != 1 || checked != 1 || cardtest.Verifies(taro) != 2 {
		t.Fatalf("%d payments, %d card identifications and %d offline card checks recorded, %d PINs sent; want 1, 1, 1, 2", paid, byCard, checked, cardtest.Verifies(taro))
	}

	// His card for his daughter's payment: the right PIN, the wrong
	// person, twice: the payment is refused.
	toSecond("R-2")
	for try := range checkout.SecondTries {
		c = p.till.card
		c.card.PIN = cardtest.Taro.AuthPIN
		press(e, &p.live, p.shopCardVerify)
		until(t, e, "checked", func() bool { return !c.busy })
		if try == 0 && p.till.pay.Step != checkout.Second {
			t.Fatalf("one refused factor ended the payment: step %d", p.till.pay.Step)
		}
	}
	shows(t, p, "shop-refused", "本人確認ができませんでした")
	if p.till.sent.Device != "" {
		t.Fatal("a refused payment was recorded")
	}
}
