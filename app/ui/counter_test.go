package ui

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/furusato"
	"smartpass.city/smartpass/app/projection"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/synclog"
	"smartpass.city/smartpass/syncproto"
)

// fakeCounter is the server's counter endpoints as the test decides
// them: a resident (R-RES) is offered no gift, the declined test card
// is refused in the gateway's words, and every sale is kept.
type fakeCounter struct {
	mu    sync.Mutex
	sales []furusato.CounterSale
	asked []string // receipts asked, by donation id
}

func (f *fakeCounter) Quote(_ context.Context, s furusato.CounterSale) (furusato.Offer, error) {
	if s.Item == "" {
		return furusato.Offer{Amount: s.Amount}, nil
	}
	if s.Donor == "R-RES" {
		return furusato.Offer{Amount: 10000, OwnResident: true}, nil
	}
	return furusato.Offer{Amount: 10000, Item: s.Item, Gift: true, Donor: "セ＊＊＊ ハ＊＊ 様"}, nil
}

func (f *fakeCounter) Pay(_ context.Context, s furusato.CounterSale) (furusato.CounterPaid, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sales = append(f.sales, s)
	if s.PaymentMethod == "pm_card_chargeDeclined" {
		return furusato.CounterPaid{}, &syncproto.Error{Code: "card-declined", Message: "カードが使えませんでした。別のカードをお試しください。 / The card was declined; try another card."}
	}
	o, _ := f.Quote(context.Background(), s)
	d := furusato.Donation{Shop: "kaga-michinoeki", Donor: s.Donor, Amount: o.Amount, Item: o.Item, Gift: o.Gift, Payment: "card:pi_" + s.Request, At: time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)}
	if s.Method == furusato.PayCash {
		d.Payment = "cash:" + s.Request
	}
	return furusato.CounterPaid{Donation: d, OwnResident: o.OwnResident}, nil
}

func (f *fakeCounter) Receipt(_ context.Context, r furusato.CounterReceipt) (furusato.Receipts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, r.Donation)
	return furusato.Receipts{PDF: []byte("%PDF-1.4 receipt " + r.Donation)}, nil
}

// savedFiles is the browser's file saving as a test sees it.
type savedFiles struct {
	mu    sync.Mutex
	names []string
}

func (s *savedFiles) Save(name, _ string, data []byte, _ string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.names = append(s.names, name)
	return "blob:" + name, nil
}
func (*savedFiles) Print()          {}
func (*savedFiles) FullScreen(bool) {}

// counterPage mounts a donation counter's identify screen in go-app's
// test engine over a real op log in memory holding the shop's catalogue
// as the server sent it.
func counterPage(t *testing.T, items ...furusato.Item) (*identifyPage, app.TestEngine, *synclog.Engine, *fakeCounter, *savedFiles) {
	t.Helper()
	store := synclog.NewMemStore("counter-1")
	var ops []syncproto.Op
	for i, it := range items {
		b, _ := json.Marshal(furusato.Listing{Shop: "kaga-michinoeki", Item: it})
		ops = append(ops, syncproto.Op{Device: "server", Seq: uint64(i + 1), HLC: uint64(i + 1), Global: uint64(i + 1), Kind: furusato.OpItem, Body: b})
	}
	if err := store.SaveRemote(t.Context(), scope.FacilityFeed("kaga-michinoeki"), ops, uint64(len(ops))); err != nil {
		t.Fatal(err)
	}
	_, key, _ := ed25519.GenerateKey(nil)
	log, err := synclog.New(t.Context(), store, nil, synclog.Options{Signer: syncproto.KeySigner{Key: key}})
	if err != nil {
		t.Fatal(err)
	}
	api, saved := &fakeCounter{}, &savedFiles{}
	UseCounter(api)
	t.Cleanup(func() { UseCounter(nil) })
	p := &identifyPage{
		live:  live{sync: log, folded: projection.New(t.Context(), log), browser: saved, dev: enrolledAs{Device: "counter-1", Facility: "kaga-michinoeki", Role: scope.Counter}},
		faces: noCamera{},
	}
	e := app.NewTestEngine()
	if err := e.Load(&mountedNatively{p}); err != nil {
		t.Fatal(err)
	}
	until(t, e, "the log folded", func() bool { return p.st != nil })
	return p, e, log, api, saved
}

// TestCounterPage: at the donation counter, in go-app's engine over a
// real op log: the catalogue from the server's listing; a visitor picks
// the crab, is recognised, is offered the gift, a declined card is said
// in the gateway's words and the next card pays with a new request id;
// the donation and the handover are recorded once, the receipt saved.
// A resident who picks the crab is told in words that they get no gift,
// and nothing is handed over.
func TestCounterPage(t *testing.T) {
	crab := furusato.Item{ID: "crab", NameJA: "加能ガニ", Donation: 10000, Cost: 3000, Local: true, Stock: 2}
	sold := furusato.Item{ID: "sake", NameJA: "地酒", Donation: 5000, Cost: 1500, Local: true, Stock: 0}
	p, e, log, api, saved := counterPage(t, crab, sold)
	html := app.HTMLString(p)
	if !strings.Contains(html, `data-item="crab"`) || !strings.Contains(html, "加能ガニ") || !strings.Contains(html, "¥10,000") {
		t.Fatalf("the catalogue is not on screen:\n%s", html)
	}
	shows(t, p, "counter-look", "")
	press(e, &p.live, func() { p.counter.turn.Choose(sold) })
	shows(t, p, "counter-error", "在庫がありません")
	press(e, &p.live, func() { p.counter.turn.Choose(crab) })
	shows(t, p, "counter-look", "QRパス")

	// The visitor, recognised (the identify loop's answer).
	press(e, &p.live, func() { p.resident = "R-VIS"; p.counterDonor("R-VIS") })
	until(t, e, "the offer", func() bool { return p.counter.turn.Step == furusato.Quoted })
	shows(t, p, "counter-gift", "加能ガニ")
	shows(t, p, "counter-donor", "セ＊＊＊ ハ＊＊ 様")
	press(e, &p.live, func() { p.counter.card = "pm_card_chargeDeclined"; p.counterPay(furusato.PayCard) })
	until(t, e, "the decline", func() bool { return p.counter.turn.Step == furusato.Quoted && p.counter.turn.Err != nil })
	shows(t, p, "counter-error", "カードが使えませんでした")
	press(e, &p.live, func() { p.lang = langEN })
	shows(t, p, "counter-error", "The card was declined")
	press(e, &p.live, func() { p.lang = langJA })
	press(e, &p.live, func() { p.counter.card = "pm_card_visa"; p.counterPay(furusato.PayCard) })
	until(t, e, "paid and recorded", func() bool { return p.counter.turn.Recorded != "" && p.counter.turn.Recorded != "…" })
	shows(t, p, "counter-paid", "¥10,000")
	if len(api.sales) != 2 || api.sales[0].Request == api.sales[1].Request {
		t.Fatalf("sales %+v: the second card needs a new request id", api.sales)
	}
	press(e, &p.live, func() { p.counterHand() })
	press(e, &p.live, func() { p.counterHand() }) // a second tap hands over nothing more
	until(t, e, "handed over", func() bool { return p.counter.turn.Handed })
	shows(t, p, "counter-handed", "加能ガニ")
	press(e, &p.live, func() { p.counterReceipt() })
	until(t, e, "the receipt saved", func() bool { saved.mu.Lock(); defer saved.mu.Unlock(); return len(saved.names) == 1 })
	if api.asked[0] != p.counter.turn.Recorded || saved.names[0] != "receipt-"+p.counter.turn.Recorded+".pdf" {
		t.Fatalf("receipt asked %v, saved %v, donation %s", api.asked, saved.names, p.counter.turn.Recorded)
	}
	until(t, e, "the link", func() bool { _, ok := textOf(app.HTMLString(p), "counter-receipt-link"); return ok })

	// The resident, at the same counter.
	press(e, &p.live, func() { p.counterNext() })
	press(e, &p.live, func() { p.counter.turn.Choose(crab) })
	press(e, &p.live, func() { p.counterDonor("R-RES") })
	until(t, e, "the resident's offer", func() bool { return p.counter.turn.Step == furusato.Quoted })
	shows(t, p, "counter-resident", "返礼品をお渡しできません")
	shows(t, p, "counter-gift", "")
	press(e, &p.live, func() { p.counterPay(furusato.PayCash) }) // no staff name yet
	shows(t, p, "counter-error", "職員の名前")
	press(e, &p.live, func() { p.counter.staff = "加賀 一郎"; p.counterPay(furusato.PayCash) })
	until(t, e, "the cash recorded", func() bool { return p.counter.turn.Recorded != "" && p.counter.turn.Recorded != "…" })
	shows(t, p, "counter-resident", "寄附はお受けできます")
	shows(t, p, "counter-hand", "")

	ops, err := log.Ops(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, op := range ops {
		if op.Device == "counter-1" {
			kinds = append(kinds, op.Kind)
		}
	}
	if strings.Join(kinds, " ") != furusato.OpDonation+" "+furusato.OpGift+" "+furusato.OpDonation {
		t.Fatalf("recorded %v, want the visitor's donation and gift, then the resident's donation", kinds)
	}
	b := furusato.Counter.In(p.st.Parts())
	if got := b.Items[furusato.ItemKey("kaga-michinoeki", "crab")].Stock; got != 1 {
		t.Fatalf("crab stock %d after one handed over, want 1", got)
	}
}
