package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"smartpass.city/smartpass/app/admin"
	rules "smartpass.city/smartpass/app/furusato"
	"smartpass.city/smartpass/server/cardpay/stripemock"
	"smartpass.city/smartpass/server/furusato"
	"smartpass.city/smartpass/server/serverproc"
)

// TestFurusatoAtTheCounter is the hometown-tax counter end to end,
// against the real server with its card gateway on stripe-mock (whose
// intents succeed for ¥10,000; Stripe's declined test card declined as
// Stripe does it, stripemock.Declining): the city lists a ¥10,000 crab
// costing ¥3,000 at the roadside station; a visitor from Tokyo opens
// their account on their phone with their card, registers their face
// for the counter and shows their QR pass there; staff pick the crab,
// the counter offers the gift, a declined card is said in the gateway's
// words and nothing is posted, the next card pays ¥10,000 (posted once),
// the crab is handed over and the receipt PDF is read back with
// poppler. On their phone the visitor files the one-stop application,
// read and signed with the simulated card; the number is shown only
// masked. A Kaga resident at the same counter is told in words that they
// get no gift, and pays cash. The ledger verifies with the two
// donations.
func TestFurusatoAtTheCounter(t *testing.T) {
	mock := stripemock.Declining(t, stripemock.Start(t, stripemock.SucceededFor(10000)))
	addr := serverproc.FreeAddr(t)
	base := "http://" + addr
	data := t.TempDir()
	srv := serverproc.Start(t, serverBin, []string{"SMARTPASS_STRIPE_KEY=" + stripemock.Key}, addr,
		"-data", data, "-assets", filepath.Join(work, "assets"), "-dev", "-demo", "-stripe-url", mock)
	srv.WaitHealthy(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", srv.Log())
		}
	})

	// The city lists the crab at the roadside station's counter.
	password := srv.Staff(t, admin.Staff{ID: "furusato", Name: "ふるさと納税係 田中", Role: admin.Administrator})
	var session admin.Session
	postJSON(t, base+admin.SignInPath, marshal(t, admin.SignIn{ID: "furusato", Password: password}), &session)
	crab := rules.Item{ID: "crab", NameJA: "加能ガニ", Donation: 10000, Cost: 3000, Local: true, Stock: 3}
	postJSON(t, base+rules.ItemPath, marshal(t, furusato.ItemRequest{Request: admin.Request{Token: session.Token}, Shop: "kaga-michinoeki", Item: crab}), &rules.Item{})

	// The visitor and the resident, each with a pass for the counter.
	visitorPhone := camera(t, faceVideo(t, "sheldon", "sheldon1.png", "sheldon5.png", "sheldon1.png", "sheldon3.png"))
	visitor := openAccountWith(t, visitorPhone, base, "visitor")
	visitorPass := counterPass(t, visitorPhone, base, visitor)
	// The same face as the visitor's: the counter never names a donor by
	// face alone (risk.Always), the pass does.
	residentPhone := camera(t, faceVideo(t, "sheldon", "sheldon1.png", "sheldon5.png", "sheldon1.png", "sheldon3.png"))
	resident := openAccountWith(t, residentPhone, base, "taro")
	residentPass := counterPass(t, residentPhone, base, resident)

	// The visitor at the counter: the crab, the pass, the gift offered.
	counter := counterTablet(t, base, visitorPass)
	run(t, counter, "pick the crab", 20*time.Second, tap(`#counter-items button[data-item="crab"]`))
	run(t, counter, "read the pass", 10*time.Second, tap("#pass-scan"))
	waitJS(t, counter, "the gift offered", `document.querySelector("#counter-gift")?.textContent.includes("加能ガニ")`, 90*time.Second)

	// A declined card: said in words, nothing posted.
	run(t, counter, "the declined test card", 10*time.Second, tap(`input[name="counter-card"][value="`+stripemock.DeclinedCard+`"]`), tap("#counter-pay-card"))
	waitJS(t, counter, "the decline in words", `document.querySelector("#counter-error")?.textContent.includes("カードが使えませんでした")`, 60*time.Second)
	if r := ledgerVerify(t, srv); r.Entries != 0 {
		t.Fatalf("a declined card posted: %+v", r)
	}

	// The next card pays; the crab is handed over; the receipt.
	run(t, counter, "the card that pays", 10*time.Second, tap(`input[name="counter-card"][value="pm_card_visa"]`), tap("#counter-pay-card"))
	waitJS(t, counter, "paid", `document.querySelector("#counter-paid")?.dataset.amount === "10000"`, 60*time.Second)
	run(t, counter, "hand the crab over", 30*time.Second, tap("#counter-hand"))
	waitJS(t, counter, "handed over", `!!document.querySelector("#counter-handed")`, 20*time.Second)
	run(t, counter, "the receipt", 30*time.Second, tap("#counter-receipt"))
	waitJS(t, counter, "the receipt saved", `!!document.querySelector("#counter-receipt-link")`, 60*time.Second)
	pdf := get(t, counter, "the receipt's bytes", eval[string](`fetch(document.querySelector("#counter-receipt-link").href).then(r => r.arrayBuffer()).then(b => {
		const u = new Uint8Array(b); let s = "";
		for (let i = 0; i < u.length; i += 8192) s += String.fromCharCode(...u.subarray(i, i + 8192));
		return btoa(s);
	})`))
	text := pdfText(t, pdf)
	for _, want := range []string{"寄附金受領証明書", "世田谷", "10,000", "加能ガニ"} {
		if !strings.Contains(text, want) {
			t.Errorf("the receipt lacks %q:\n%s", want, text)
		}
	}
	if r := ledgerVerify(t, srv); r.Entries != 1 {
		t.Fatalf("after one donation by card: %+v", r)
	}

	// On their phone, the visitor files the one-stop application.
	run(t, visitorPhone, "the donor's page", 30*time.Second, chromedp.Navigate(base+"/account/furusato?usb=rcs300&card=visitor"))
	waitJS(t, visitorPhone, "the donation listed", `!!document.querySelector("#donations li[data-donation] button[data-apply]")`, 30*time.Second)
	run(t, visitorPhone, "apply", 10*time.Second, tap("#donations button[data-apply]"))
	fill(t, visitorPhone, "reading", "セタガヤ ハナコ")
	fill(t, visitorPhone, "phone", "090-0000-0000")
	run(t, visitorPhone, "the declarations", 10*time.Second, tick("#decl-salaried"), tick("#decl-five"), tap("#connect"))
	run(t, visitorPhone, "the card-info PIN and the signature password", 30*time.Second,
		chromedp.WaitVisible(chromedp.ID("pin")),
		chromedp.SendKeys(chromedp.ID("pin"), "1234"),
		chromedp.SendKeys(chromedp.ID("sign-password"), "DEMO2026"),
		tap("#verify"))
	waitJS(t, visitorPhone, "applied", `document.querySelector("#onestop-applied")?.textContent.includes("東京都世田谷区")`, 60*time.Second)
	if page := get(t, visitorPhone, "the page", eval[string](`document.body.outerHTML`)); strings.Contains(page, "987654321018") {
		t.Fatal("the donor's page shows the individual number")
	}

	// The resident at the same counter: no gift, in words; cash.
	counter2 := counterTablet(t, base, residentPass)
	run(t, counter2, "pick the crab", 20*time.Second, tap(`#counter-items button[data-item="crab"]`))
	run(t, counter2, "read the pass", 10*time.Second, tap("#pass-scan"))
	waitJS(t, counter2, "no gift, in words", `document.querySelector("#counter-resident")?.textContent.includes("返礼品をお渡しできません")`, 90*time.Second)
	fill(t, counter2, "counter-staff", "道の駅 店員 佐藤")
	run(t, counter2, "cash", 10*time.Second, tap("#counter-pay-cash"))
	waitJS(t, counter2, "paid without a gift", `document.querySelector("#counter-paid")?.dataset.amount === "10000" && !document.querySelector("#counter-hand")`, 60*time.Second)
	if r := ledgerVerify(t, srv); r.Entries != 2 {
		t.Fatalf("after the card and the cash: %+v", r)
	}

	// The city exports the batch of the visitor's municipality: the
	// number is in that file, then nowhere: not in the store (the vault
	// deleted it), the server's log, or either browser's database.
	const number = "987654321018"
	status, file := serverproc.Post(t, base+rules.ExportPath, marshal(t, furusato.ExportRequest{Request: admin.Request{Token: session.Token}, Municipality: "東京都世田谷区"}))
	if status != 200 || !strings.Contains(string(file), number) {
		t.Fatalf("the export: %d %q", status, file)
	}
	held := map[string]string{
		"the visitor's phone": get(t, visitorPhone, "dump IndexedDB", eval[string](idbDump)),
		"the counter":         get(t, counter, "dump IndexedDB", eval[string](idbDump)),
	}
	srv.Stop(t)
	held["the server's store"], held["the server's log"] = storeText(t, data), srv.Log()
	for where, text := range held {
		if strings.Contains(text, number) {
			t.Errorf("the individual number is in %s after the export", where)
		}
	}
}

// counterPass registers the account holder's face for the counter on
// their phone and returns a QR pass.
func counterPass(t *testing.T, phone context.Context, base, resident string) string {
	t.Helper()
	run(t, phone, "to the account", 30*time.Second, chromedp.Navigate(base+"/account"))
	registerFace(t, phone, `#holder .face-link`, "kaga-michinoeki")
	run(t, phone, "back to the account", 30*time.Second, tap("#back-account"))
	run(t, phone, "show the QR pass", 30*time.Second,
		tap(`#holder .pass-show`),
		chromedp.WaitVisible(chromedp.ID("pass-qr")),
	)
	return get(t, phone, "the pass", eval[string](`document.querySelector("#pass").dataset.text`))
}

// counterTablet sets up a donation counter at the roadside station whose
// camera shows the face of no one registered there, then pass, and
// opens its screen once the crab is in its catalogue.
func counterTablet(t *testing.T, base, pass string) context.Context {
	t.Helper()
	c := camera(t, tillVideo(t, []string{pass}))
	setUp(t, c, base, "kaga-michinoeki", "counter")
	run(t, c, "open the counter", 30*time.Second, chromedp.Navigate(base+"/identify"))
	waitJS(t, c, "the catalogue synced", `!!document.querySelector('#counter-items button[data-item="crab"]')`, 60*time.Second)
	return c
}

// pdfText is the text poppler's pdftotext (Debian's poppler-utils)
// reads from a PDF given in base64.
func pdfText(t *testing.T, b64 string) string {
	t.Helper()
	pdf, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Fatalf("not a PDF (%v): %.40q", err, pdf)
	}
	cmd := exec.Command("pdftotext", "-layout", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// marshal is v as JSON.
func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
