package e2e

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"smartpass.city/smartpass/app/face/facetest"
	"smartpass.city/smartpass/app/qrcode"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/settlement"
	"smartpass.city/smartpass/app/wallet"
	"smartpass.city/smartpass/app/zengin"
	"smartpass.city/smartpass/server/cardpay/stripemock"
	"smartpass.city/smartpass/server/commands"
	"smartpass.city/smartpass/server/serverproc"
	"smartpass.city/smartpass/syncproto"
	"smartpass.city/smartpass/syncproto/wsconn"
)

// TestShopPays is the wallet and the shop's till end to end, against
// the real server and a real stripe-mock: the demo father opens his
// account on his phone, registers his face for the shop and takes four
// QR passes. On the account page he tops his wallet up by card: the
// declining test card is refused in the gateway's words with nothing
// posted, the paying one credits ¥3,000; the city desk adds ¥6,000 in
// cash. At the till he pays ¥800: his face, a masked name, 支払う, and
// (the shop's face rule at this model's accuracy never lets a face pay
// alone: risk.Always) his pass as the second factor. He pays ¥5,000 with
// his My Number Card: a wrong PIN is said with the tries left and sent
// once, the right one pays. The shop refunds ¥300 of the ¥800, a further
// ¥600 is refused on the till in its words; the server goes away and the
// till takes ¥1,200 and ¥1,500 offline within the ¥3,000 allowance; the
// server comes back and both post once; a ¥2,900 payment online finds
// the wallet short (¥800) and the till says so in the server's words.
// The account page's statement lists the seven movements; the shop's
// settlement CSV and the city's 全銀 payout file are made by the admin
// command and parse; the ledger verifies clean. It logs the till's
// times from tap to receipt (README: the payment's time).
func TestShopPays(t *testing.T) {
	addr, data := serverproc.FreeAddr(t), t.TempDir()
	gateway := stripemock.Declining(t, stripemock.Start(t, stripemock.Succeeded))
	srv := startShop(t, addr, data, gateway)
	logOnFailure(t, srv)
	base := "http://" + addr

	phone := camera(t, faceVideo(t, "sheldon", "sheldon1.png", "sheldon5.png", "sheldon1.png", "sheldon3.png"))
	resident := openAccount(t, phone, base)
	run(t, phone, "to his household", 30*time.Second, chromedp.Navigate(base+"/account"))
	registerFace(t, phone, `#holder .face-link`, "kaga-shop")
	run(t, phone, "back to the account", 30*time.Second, tap("#back-account"))
	passes := takePasses(t, phone, `#holder .pass-show`, 4) // ¥800, the two offline, ¥2,900

	// Top up by card on the account page: the declining card, then the
	// paying one (stripe-mock's fixture confirms ¥3,000).
	walletJS := `document.querySelector("#wallet-` + resident + `")`
	waitJS(t, phone, "his wallet, empty", walletJS+`?.dataset.balance === "0"`, 30*time.Second)
	topUp := func(card string) {
		t.Helper()
		run(t, phone, "top up with "+card, 20*time.Second,
			tap(`button.topup-who[data-id="`+resident+`"]`),
			tap(`button.topup-amount[data-amount="3000"]`),
			tap(`button.topup-card[data-card="`+card+`"]`),
			tap("#topup-send"),
		)
	}
	topUp("pm_card_visa_chargeDeclinedInsufficientFunds")
	waitJS(t, phone, "the decline in the gateway's words", `document.querySelector("#topup-error")?.textContent.includes("カードが使えませんでした")`, 30*time.Second)
	topUp("pm_card_visa")
	waitJS(t, phone, "the top-up posted", `document.querySelector("#topup-state")?.dataset.state === "posted"`, 30*time.Second)
	waitJS(t, phone, "his wallet holds it", walletJS+`?.dataset.balance === "3000" && `+walletJS+`.dataset.lines === "1"`, 30*time.Second)
	cash, _ := json.Marshal(wallet.TopUpCash{Resident: resident, Amount: 6_000, Staff: "市民課 山田"})
	key := srv.Enroll(t, "desk-cash", "kaga-hq", "registrar")
	if err := wsconn.PushAll(context.Background(), "ws://"+addr+"/sync", "desk-cash", key,
		[]syncproto.Op{{Seq: 1, HLC: uint64(time.Now().UnixMilli()) << 16, Kind: wallet.OpTopUpCash, Body: cash}}); err != nil {
		t.Fatal(err)
	}

	till := camera(t, tillVideo(t, passes))
	setUp(t, till, base, "kaga-shop", "shop")
	run(t, till, "open the till with its card reader", 30*time.Second, chromedp.Navigate(base+"/identify?usb=rcs300&card=taro"))
	waitJS(t, till, "the template synced", `document.querySelector("#gallery-size")?.dataset.count === "1"`, 60*time.Second)
	// The profile with the allowance after the top-ups (¥3,000, the cap).
	waitJS(t, till, "the payer's wallet facts synced", readOps+`readOps().then(ops => ops.some(o => o.kind === "face.profile.put" && o.body.pay && o.body.pay.allowance === 3000))`, 60*time.Second)
	run(t, till, "the till's clock", 10*time.Second, chromedp.Evaluate[chromedp.Void](tillClock))

	// pay keys amount in, waits for the payer's face and the masked
	// name, and taps 支払う (timed), up to the second factor.
	pay := func(amount string) {
		t.Helper()
		// After a payment the till offers the next customer; before the
		// first it is at the keypad already.
		get(t, till, "next customer", eval[bool](`(b => b ? (b.click(), true) : false)(document.querySelector("#shop-next"))`))
		for _, k := range amount {
			run(t, till, "key "+string(k), 10*time.Second, tap(`button.key[data-key="`+string(k)+`"]`))
		}
		run(t, till, "enter the amount", 10*time.Second, tap("#shop-amount-ok"))
		waitJS(t, till, "the masked name", `!!document.querySelector("#shop-payer")`, 120*time.Second)
		name := get(t, till, "the name shown", eval[string](`document.querySelector("#shop-payer").textContent`))
		if strings.Contains(name, "太郎") || !strings.Contains(name, "＊") {
			t.Fatalf("the till shows %q: want a masked name", name)
		}
		run(t, till, "tap 支払う", 10*time.Second, timedTap("#shop-pay"))
		waitJS(t, till, "the second factor asked", `!!document.querySelector("#shop-second")`, 10*time.Second)
	}
	receipt := func(state string) {
		t.Helper()
		waitJS(t, till, "the receipt "+state, `document.querySelector("#shop-receipt")?.dataset.state === "`+state+`"`, 60*time.Second)
	}
	var times []string
	timed := func(what, state string) {
		t.Helper()
		c := get(t, till, "the till's times", eval[map[string]float64](`window.__till`))
		shown := c[state]
		for _, s := range []string{"recording", "sending", "posted", "offline"} {
			if v, ok := c[s]; ok && v < shown {
				shown = v
			}
		}
		times = append(times, fmt.Sprintf("%s: receipt on screen %.0f ms after the tap, %s %.0f ms", what, shown-c["tap"], state, c[state]-c["tap"]))
	}

	// ¥800 by face and pass, online.
	waitJS(t, till, "online", statusIs(true, 0), 30*time.Second)
	pay("800")
	receipt("posted")
	timed("¥800 online, face + QR pass (the camera reads the pass)", "posted")
	if get(t, till, "taken online", eval[bool](`document.querySelector("#shop").dataset.offline === "true"`)) {
		t.Fatal("the ¥800 was taken offline")
	}

	// ¥5,000 by face and the My Number Card: a wrong PIN, then the right
	// one. The card is chosen as soon as the step shows, before the
	// camera can read a pass.
	run(t, till, "choose the card when asked", 10*time.Second, chromedp.Evaluate[chromedp.Void](chooseCard))
	pay("5000")
	run(t, till, "connect the reader", 30*time.Second, chromedp.WaitVisible(chromedp.ID("connect")), tap("#connect"))
	waitJS(t, till, "3 tries", triesAre("3"), 30*time.Second)
	if by := get(t, till, "the second factor", eval[string](`document.querySelector("#shop-second").dataset.by`)); by != "card" {
		t.Fatalf("the second factor is by %q, want the card", by)
	}
	enterPIN(t, till, "9999")
	waitJS(t, till, "the wrong PIN said, with the tries left", `document.querySelector("#card-error")?.textContent.includes("暗証番号が違います") && `+
		triesAre("2")+` && document.querySelector("#shop-note")?.dataset.reason === "second-refused"`, 30*time.Second)
	run(t, till, "the right PIN", 20*time.Second, chromedp.SendKeys(chromedp.ID("pin"), "1234"), timedTap("#verify"))
	receipt("posted")
	timed("¥5,000 online, face + My Number Card (from 確認して支払う: PIN, signature, the server's card check)", "posted")
	if how := get(t, till, "the receipt", eval[string](`document.querySelector("#shop-receipt").textContent`)); !strings.Contains(how, "マイナンバーカード") {
		t.Fatalf("the receipt says %q: want paid by face and card", how)
	}

	// Refund ¥300 of the ¥800, then ¥600 more: more than is left.
	fill(t, till, "shop-staff", "店員 佐藤")
	refund := func(amount string) {
		t.Helper()
		waitJS(t, till, "type the refund", fmt.Sprintf(`(i => {
			if (!i) return false;
			i.value = %q; i.dispatchEvent(new Event("input", {bubbles: true})); return true;
		})(document.querySelector('li.sale[data-amount="800"] input.refund-amount'))`, amount), 20*time.Second)
		run(t, till, "refund ¥"+amount, 10*time.Second, tap(`li.sale[data-amount="800"] button.refund`))
	}
	refund("300")
	waitJS(t, till, "the refund posted", `document.querySelector("#refund-state")?.dataset.state === "posted"`, 30*time.Second)
	waitJS(t, till, "the sale shows it", `document.querySelector('li.sale[data-amount="800"]')?.dataset.refunded === "300"`, 10*time.Second)
	refund("600")
	waitJS(t, till, "the refund refused in its words", `document.querySelector("#refund-error")?.textContent.includes("返金額が支払額")`, 10*time.Second)

	// Offline: two payments within the allowance.
	srv.Stop(t)
	waitJS(t, till, "offline status", `document.querySelector("#sync-status")?.dataset.online === "false"`, 30*time.Second)
	pay("1200")
	receipt("offline")
	timed("¥1,200 offline, face + QR pass", "offline")
	pay("1500")
	receipt("offline")
	timed("¥1,500 offline, face + QR pass", "offline")
	if n := get(t, till, "offline payments shown", eval[int](`document.querySelectorAll("li.sale").length`)); n != 4 {
		t.Fatalf("the till lists %d payments, want 4", n)
	}

	srv = startShop(t, addr, data, gateway)
	logOnFailure(t, srv)
	waitJS(t, till, "everything sent", statusIs(true, 0), 60*time.Second)
	receipt("posted")
	if n := srv.Count(t, wallet.OpPayment); n != 4 {
		t.Fatalf("%d payments on the server, want 4 (¥800, ¥5,000 and the two offline)", n)
	}

	// Short online: the wallet holds ¥9,000−800−5,000+300−1,200−1,500 = ¥800.
	pay("2900")
	receipt("refused")
	words := get(t, till, "the refusal", eval[string](`document.querySelector("#shop-receipt-state").textContent`))
	if !strings.Contains(words, "残高が足りません") {
		t.Fatalf("the till says %q of a short wallet", words)
	}
	if n := srv.Count(t, scope.OpRejected); n < 1 {
		t.Fatalf("no refusal stored for the short payment")
	}

	// The account page's statement: the seven movements, ¥800 left.
	run(t, phone, "his account again", 30*time.Second, chromedp.Navigate(base+"/account"))
	waitJS(t, phone, "the statement", walletJS+`?.dataset.balance === "800" && `+walletJS+`.dataset.lines === "7"`, 30*time.Second)
	kinds := get(t, phone, "the statement's lines", eval[[]string](`[...`+walletJS+`.querySelectorAll("tr.line")].map(r => r.dataset.kind + " " + r.dataset.amount).sort()`))
	if want := []string{"payment 1200", "payment 1500", "payment 5000", "payment 800", "refund 300", "topup 3000", "topup 6000"}; !slices.Equal(kinds, want) {
		t.Fatalf("the statement lists %q, want %q", kinds, want)
	}

	// The shop's settlement and the city's payout file.
	checkSettlement(t, srv, 8_200)

	r := ledgerVerify(t, srv)
	if r.Outstanding != 800 || r.Debt != 0 {
		t.Fatalf("the ledger holds ¥%d unused and ¥%d debt, want ¥800 and none", r.Outstanding, r.Debt)
	}
	for _, l := range times {
		t.Log("till time: " + l)
	}
}

// startShop starts the server as the demo with card top-ups through the
// gateway at url (stripe-mock, behind Stripe's declines).
func startShop(t *testing.T, addr, data, url string) *serverproc.Proc {
	t.Helper()
	p := serverproc.Start(t, serverBin, []string{"SMARTPASS_STRIPE_KEY=" + stripemock.Key}, addr,
		"-data", data, "-assets", filepath.Join(work, "assets"), "-dev", "-demo", "-stripe-url", url)
	p.WaitHealthy(t)
	return p
}

// tillClock is a script that notes, on the page's clock, when the till's
// receipt first shows each state after the tap timedTap noted.
const tillClock = `(() => {
	if (window.__tillClock) return;
	window.__tillClock = new MutationObserver(() => {
		const r = document.querySelector("#shop-receipt"), c = window.__till;
		if (r && c && !(r.dataset.state in c)) c[r.dataset.state] = performance.now();
	});
	window.__tillClock.observe(document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ["data-state"]});
})()`

// timedTap is tap that notes when it tapped, for tillClock.
func timedTap(selector string) chromedp.Action[chromedp.Void] {
	return gesture("tap "+selector, fmt.Sprintf(`(b => b && !b.disabled ? (window.__till = {tap: performance.now()}, b.click(), true) : false)(document.querySelector(%q))`, selector))
}

// chooseCard is a script that, once, taps マイナンバーカードで確認 as soon
// as the till asks for the second factor.
const chooseCard = `(() => {
	const o = new MutationObserver(() => {
		const b = document.querySelector("#shop-card");
		if (b) { o.disconnect(); b.click(); }
	});
	o.observe(document.body, {subtree: true, childList: true});
})()`

// checkSettlement has the admin command settle the demo shop for the
// days around today, and checks its CSV's total and the payout file's
// one transfer of net yen, parsed as the bank would.
func checkSettlement(t *testing.T, srv *serverproc.Proc, net int64) {
	t.Helper()
	jst := time.FixedZone("JST", 9*3600)
	now := time.Now().In(jst)
	req := commands.Settle{From: now.AddDate(0, 0, -1).Format(time.DateOnly), To: now.AddDate(0, 0, 1).Format(time.DateOnly),
		Header: zengin.Header{RequesterCode: "1234567890", RequesterName: "ｶｶﾞｼ", Month: int(now.Month()), Day: now.Day(),
			From: zengin.Account{BankCode: "0001", BranchCode: "001", Type: zengin.Ordinary, Number: "1234567"}},
		Payees: map[string]settlement.Payee{"kaga-shop": {Name: "ｶｶﾞﾉﾐｾ",
			Account: zengin.Account{BankCode: "0009", BranchCode: "123", Type: zengin.Ordinary, Number: "7654321"}}},
	}
	var reply struct {
		Error   string
		Settled *commands.Settled
	}
	adminLine(t, srv, "settle "+commands.Arg(req), &reply)
	if reply.Error != "" || reply.Settled == nil {
		t.Fatalf("settle: %s", reply.Error)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(reply.Settled.CSV["kaga-shop"], "\ufeff"))).ReadAll()
	if err != nil || len(rows) < 3 {
		t.Fatalf("the settlement CSV: %d rows, %v", len(rows), err)
	}
	total := rows[len(rows)-1]
	if total[2] != "合計 total" || total[len(total)-1] != strconv.FormatInt(net, 10) {
		t.Fatalf("the settlement's last row %q: want the total, net %d", total, net)
	}
	f, err := zengin.Parse(reply.Settled.Payout)
	if err != nil {
		t.Fatalf("the payout file does not parse: %v", err)
	}
	if len(f.Transfers) != 1 || f.Transfers[0].Amount != net || f.Transfers[0].To.Number != "7654321" {
		t.Fatalf("the payout's transfers %+v: want ¥%d to the shop's account", f.Transfers, net)
	}
}

// takePasses shows n QR passes on the phone with the button button, a
// second apart (each a pass of its own), and returns their texts.
func takePasses(t *testing.T, phone context.Context, button string, n int) []string {
	t.Helper()
	var passes []string
	for range n {
		time.Sleep(1100 * time.Millisecond) // a pass of another second
		run(t, phone, "show a QR pass", 30*time.Second,
			tap(button),
			chromedp.WaitVisible(chromedp.ID("pass-qr")),
		)
		passes = append(passes, get(t, phone, "the pass", eval[string](`document.querySelector("#pass").dataset.text`)))
		run(t, phone, "close the pass", 10*time.Second, tap("#pass-close"))
	}
	return passes
}

// loggedServer starts a demo server on a free address with its data in
// a temporary directory, its log shown if the test fails; it returns the
// server, its address and the data directory (to start it again).
func loggedServer(t *testing.T) (srv *serverproc.Proc, addr, data string) {
	t.Helper()
	addr, data = serverproc.FreeAddr(t), t.TempDir()
	srv = startServer(t, addr, data)
	logOnFailure(t, srv)
	return srv, addr, data
}

// logOnFailure shows srv's log if the test fails.
func logOnFailure(t *testing.T, srv *serverproc.Proc) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", srv.Log())
		}
	})
}

// ledgerReport is what `server ledger-verify` answers (ledger.Report).
type ledgerReport struct {
	Entries, Accounts int
	Outstanding, Debt int64
	Problems          []string
}

// ledgerVerify runs ledger-verify through the admin socket, failing the
// test when the books do not verify.
// tillVideo is the till's camera: the payer's face turning, then each
// pass held up on a phone.
func tillVideo(t *testing.T, passes []string) string {
	t.Helper()
	return writeVideo(t, faceAndPasses(t, "sheldon", []string{"sheldon2.png", "sheldon5.png", "sheldon2.png", "sheldon3.png"}, passes)...)
}

// faceAndPasses are camera frames of identity's face in files (a
// "mirror:" prefix mirrors one), then each pass held up on a phone.
func faceAndPasses(t *testing.T, identity string, files, passes []string) []*image.RGBA {
	t.Helper()
	var frames []*image.RGBA
	for _, file := range files {
		name, mirror := strings.CutPrefix(file, "mirror:")
		img := facetest.Identity(t, identity, name)
		if mirror {
			img = facetest.Mirror(img)
		}
		frames = append(frames, facetest.CameraFrame(img, 2))
	}
	for _, p := range passes {
		code, err := qrcode.Encode(p, 300)
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, heldUpFrame(code))
	}
	return frames
}

func ledgerVerify(t *testing.T, srv *serverproc.Proc) ledgerReport {
	t.Helper()
	var reply struct {
		Error  string
		Ledger *ledgerReport `json:"ledger"`
	}
	adminLine(t, srv, "ledger-verify", &reply)
	if reply.Error != "" || reply.Ledger == nil || len(reply.Ledger.Problems) > 0 {
		t.Fatalf("ledger-verify: %s %+v", reply.Error, reply.Ledger)
	}
	return *reply.Ledger
}

// adminLine sends one command line to the server's admin socket and
// decodes its answer into reply.
func adminLine(t *testing.T, srv *serverproc.Proc, line string, reply any) {
	t.Helper()
	conn, err := net.Dial("unix", filepath.Clean(srv.Data)+".sock")
	if err != nil {
		t.Fatalf("admin socket: %v", err)
	}
	defer conn.Close()
	fmt.Fprintln(conn, line)
	if err := json.NewDecoder(conn).Decode(reply); err != nil {
		t.Fatalf("admin %s: %v", strings.Fields(line)[0], err)
	}
}
