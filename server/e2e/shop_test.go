package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"smartpass.city/smartpass/app/face/facetest"
	"smartpass.city/smartpass/app/qrcode"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/wallet"
	"smartpass.city/smartpass/server/serverproc"
	"smartpass.city/smartpass/syncproto"
	"smartpass.city/smartpass/syncproto/wsconn"
)

// TestShopPays is the shop's till end to end, against the real server:
// the demo father opens his account on his phone, registers his face
// for the shop and takes four QR passes; the city desk tops his wallet
// up ¥6,000 in cash. At the till he pays ¥800: his face, a masked name,
// 支払う, and (the shop's face rule at this model's accuracy never lets
// a face pay alone: risk.Always) his pass as the second factor. A ¥5,000
// payment asks for the second factor too and is cancelled; the shop
// refunds ¥300 of the ¥800, and a further ¥600 is refused on the till in
// its words; the server goes away and the till takes ¥1,200 and ¥1,500
// offline within the ¥3,000 allowance; the server comes back and both
// post once; a ¥2,900 payment online finds the wallet short (¥2,800)
// and the till says so in the server's words; the ledger verifies clean.
func TestShopPays(t *testing.T) {
	srv, addr, data := loggedServer(t)
	base := "http://" + addr

	phone := camera(t, faceVideo(t, "sheldon", "sheldon1.png", "sheldon5.png", "sheldon1.png", "sheldon3.png"))
	resident := openAccount(t, phone, base)
	run(t, phone, "to his household", 30*time.Second, chromedp.Navigate(base+"/account"))
	registerFace(t, phone, `#holder .face-link`, "kaga-shop")
	run(t, phone, "back to the account", 30*time.Second, tap("#back-account"))
	passes := takePasses(t, phone, `#holder .pass-show`, 4)
	cash, _ := json.Marshal(wallet.TopUpCash{Resident: resident, Amount: 6_000, Staff: "市民課 山田"})
	key := srv.Enroll(t, "desk-cash", "kaga-hq", "registrar")
	if err := wsconn.PushAll(context.Background(), "ws://"+addr+"/sync", "desk-cash", key,
		[]syncproto.Op{{Seq: 1, HLC: uint64(time.Now().UnixMilli()) << 16, Kind: wallet.OpTopUpCash, Body: cash}}); err != nil {
		t.Fatal(err)
	}

	till := camera(t, tillVideo(t, passes))
	setUp(t, till, base, "kaga-shop", "shop")
	run(t, till, "open the till", 30*time.Second, chromedp.Navigate(base+"/identify"))
	waitJS(t, till, "the template synced", `document.querySelector("#gallery-size")?.dataset.count === "1"`, 60*time.Second)
	// The profile with the allowance after the top-up (¥3,000, the cap).
	waitJS(t, till, "the payer's wallet facts synced", readOps+`readOps().then(ops => ops.some(o => o.kind === "face.profile.put" && o.body.pay && o.body.pay.allowance === 3000))`, 60*time.Second)

	// pay keys amount in, waits for the payer's face and the masked
	// name, and taps 支払う.
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
		run(t, till, "tap 支払う", 10*time.Second, tap("#shop-pay"))
		waitJS(t, till, "the second factor asked", `!!document.querySelector("#shop-second")`, 10*time.Second)
	}
	receipt := func(state string) {
		t.Helper()
		waitJS(t, till, "the receipt "+state, `document.querySelector("#shop-receipt")?.dataset.state === "`+state+`"`, 60*time.Second)
	}
	tapNext := func() {
		t.Helper()
		run(t, till, "next customer", 10*time.Second, tap("#shop-next"))
	}

	// ¥800 by face, online.
	waitJS(t, till, "online", statusIs(true, 0), 30*time.Second)
	pay("800")
	receipt("posted")
	if get(t, till, "taken online", eval[bool](`document.querySelector("#shop").dataset.offline === "true"`)) {
		t.Fatal("the ¥800 was taken offline")
	}

	// ¥5,000 asks for the second factor; the payer has no pass to hand.
	tapNext()
	for _, k := range "5000" {
		run(t, till, "key", 10*time.Second, tap(`button.key[data-key="`+string(k)+`"]`))
	}
	run(t, till, "enter ¥5,000", 10*time.Second, tap("#shop-amount-ok"))
	waitJS(t, till, "the masked name", `!!document.querySelector("#shop-payer")`, 120*time.Second)
	run(t, till, "tap 支払う", 10*time.Second, tap("#shop-pay"))
	waitJS(t, till, "the second factor asked", `!!document.querySelector("#shop-second")`, 10*time.Second)
	run(t, till, "cancel", 10*time.Second, tap("#shop-cancel"))
	waitJS(t, till, "cancelled", `document.querySelector("#shop-refused")?.dataset.reason === "cancelled"`, 10*time.Second)

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
	pay("1500")
	receipt("offline")
	if n := get(t, till, "offline payments shown", eval[int](`document.querySelectorAll("li.sale").length`)); n != 3 {
		t.Fatalf("the till lists %d payments, want 3", n)
	}

	srv = startServer(t, addr, data)
	logOnFailure(t, srv)
	waitJS(t, till, "everything sent", statusIs(true, 0), 60*time.Second)
	receipt("posted")
	if n := srv.Count(t, wallet.OpPayment); n != 3 {
		t.Fatalf("%d payments on the server, want 3 (¥800 and the two offline)", n)
	}

	// Short online: the wallet holds ¥6,000−800+300−1,200−1,500 = ¥2,800.
	pay("2900")
	receipt("refused")
	words := get(t, till, "the refusal", eval[string](`document.querySelector("#shop-receipt-state").textContent`))
	if !strings.Contains(words, "残高が足りません") {
		t.Fatalf("the till says %q of a short wallet", words)
	}
	if n := srv.Count(t, scope.OpRejected); n < 1 {
		t.Fatalf("no refusal stored for the short payment")
	}

	r := ledgerVerify(t, srv)
	if r.Outstanding != 2_800 || r.Debt != 0 {
		t.Fatalf("the ledger holds ¥%d unused and ¥%d debt, want ¥2,800 and none", r.Outstanding, r.Debt)
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
	conn, err := net.Dial("unix", filepath.Clean(srv.Data)+".sock")
	if err != nil {
		t.Fatalf("admin socket: %v", err)
	}
	defer conn.Close()
	fmt.Fprintln(conn, "ledger-verify")
	var reply struct {
		Error  string
		Ledger *ledgerReport `json:"ledger"`
	}
	if err := json.NewDecoder(conn).Decode(&reply); err != nil || reply.Error != "" || reply.Ledger == nil || len(reply.Ledger.Problems) > 0 {
		t.Fatalf("ledger-verify: %v %s %+v", err, reply.Error, reply.Ledger)
	}
	return *reply.Ledger
}
