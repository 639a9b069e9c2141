package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/server/serverproc"
)

// triesAre is a script that is true when the page shows n tries left.
func triesAre(n string) string {
	return `(document.querySelector("#tries") || {}).textContent === "残り` + n + `回まで入力できます。"`
}

// enterPIN types a PIN and presses 確認する.
func enterPIN(t *testing.T, ctx context.Context, pin string) {
	t.Helper()
	run(t, ctx, "enter the PIN", 20*time.Second,
		chromedp.WaitVisible(chromedp.ID("pin")),
		chromedp.SendKeys(chromedp.ID("pin"), pin),
		tap("#verify"),
	)
}

// enterPasswordAndPIN types the signature password and, unless empty,
// the 4-digit PIN that links the card, and presses the button once.
func enterPasswordAndPIN(t *testing.T, ctx context.Context, password, pin string) {
	t.Helper()
	actions := []chromedp.Action[chromedp.Void]{chromedp.WaitVisible(chromedp.ID("pin")), chromedp.SendKeys(chromedp.ID("pin"), password)}
	if pin != "" {
		actions = append(actions, chromedp.SendKeys(chromedp.ID("auth-pin"), pin))
	}
	run(t, ctx, "enter the password and the PIN", 20*time.Second, append(actions, tap("#verify"))...)
}

// TestCardOverWebUSB: the PWA's real WebUSB code talks, through the demo
// server's navigator.usb shim, to a simulated RC-S380 with a simulated
// card: the tries left are shown before any PIN, a wrong PIN costs one
// try and says so, the last try is warned about, a malformed PIN costs
// nothing, the right PIN confirms the card, and a locked PIN sends the
// person to the city office.
func TestCardOverWebUSB(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	base := "http://" + addr
	srv := startServer(t, addr, t.TempDir())
	tab := browser(t)
	run(t, tab, "connect the reader", 60*time.Second,
		chromedp.Navigate(base+"/card"),
		chromedp.WaitVisible(chromedp.ID("connect")),
		tap("#connect"),
	)
	waitJS(t, tab, "3 tries shown before any PIN", triesAre("3"), 30*time.Second)
	enterPIN(t, tab, "9999")
	waitJS(t, tab, "2 tries after a wrong PIN", triesAre("2"), 20*time.Second)
	if msg := get(t, tab, "error", eval[string](`document.querySelector("#card-error").textContent`)); !strings.Contains(msg, "暗証番号が違います") {
		t.Fatalf("after a wrong PIN the page says %q", msg)
	}
	enterPIN(t, tab, "0000")
	waitJS(t, tab, "the last-try warning", `!!document.querySelector("#last-try") && `+triesAre("1"), 20*time.Second)
	buf := get(t, tab, "screenshot", chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(root, "assets", "screenshots", "card-last-try.png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
	enterPIN(t, tab, "12a")
	waitJS(t, tab, "a format error", `(document.querySelector("#card-error") || {}).textContent === "暗証番号は数字4桁です。"`, 20*time.Second)
	if !get(t, tab, "tries unchanged", eval[bool](triesAre("1"))) {
		t.Fatal("a malformed PIN used a try")
	}
	if left := get(t, tab, "the PIN field", eval[string](`document.getElementById("pin").value`)); left != "" {
		t.Fatalf("the PIN field still holds %q after it was submitted", left)
	}
	enterPIN(t, tab, "1234")
	waitJS(t, tab, "the card confirmed", `!!document.querySelector("#card-ok")`, 30*time.Second)

	// A new session, a new card: three wrong PINs lock it.
	run(t, tab, "reconnect", 30*time.Second,
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.ID("connect")),
		tap("#connect"),
	)
	waitJS(t, tab, "3 tries on the new card", triesAre("3"), 30*time.Second)
	for _, left := range []string{"2", "1"} {
		enterPIN(t, tab, "1111")
		waitJS(t, tab, left+" tries left", triesAre(left), 20*time.Second)
	}
	enterPIN(t, tab, "1111")
	waitJS(t, tab, "the lock message", `(document.querySelector("#blocked") || {}).textContent.includes("市役所")`, 20*time.Second)
	time.Sleep(200 * time.Millisecond)
	if strings.Contains(srv.Log(), "individual number was reached") {
		t.Fatalf("the demo card saw its number touched:\n%s", srv.Log())
	}
}

// TestCardReaders: the whole card path through each reader's own USB
// protocol, from the PWA's WebUSB code through the shim to the simulated
// reader and card: select, tries left, a wrong PIN, the right PIN,
// certificate, signature of the server's nonce, and the server's
// verification. A generic CCID reader works where the browser grants its
// class and is refused with a clear message where it does not (Chrome,
// an ordinary page). The APDUs and USB transfers of each session are
// logged (go test -v) for the README.
func TestCardReaders(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	base := "http://" + addr
	srv := startServer(t, addr, t.TempDir())
	for _, kind := range []string{"rcs380", "rcs300", "ccid-granted"} {
		t.Run(kind, func(t *testing.T) {
			tab := browser(t)
			run(t, tab, "connect the reader", 60*time.Second,
				chromedp.Navigate(base+"/card?usb="+kind),
				chromedp.WaitVisible(chromedp.ID("connect")),
				tap("#connect"),
			)
			waitJS(t, tab, "3 tries shown before any PIN", triesAre("3"), 30*time.Second)
			enterPIN(t, tab, "9999")
			waitJS(t, tab, "2 tries after a wrong PIN", triesAre("2"), 20*time.Second)
			enterPIN(t, tab, "1234")
			waitJS(t, tab, "the card verified by the server", `!!document.querySelector("#card-ok")`, 30*time.Second)
			apdus := get(t, tab, "APDUs", eval[string](`document.querySelector("#card-ok").dataset.apdus`))
			usb := get(t, tab, "transfers", eval[string](`document.querySelector("#card-ok").dataset.transfers`))
			text := get(t, tab, "result", eval[string](`document.querySelector("#card-ok").textContent`))
			t.Logf("%s: %s APDUs, %s USB transfers for connect, a wrong PIN and a user authentication; page: %q", kind, apdus, usb, text)
			// 12 for the authentication (the test certificate in five short
			// reads), two more for the wrong PIN.
			if n, err := strconv.Atoi(apdus); err != nil || n > 16 || n < 12 {
				t.Errorf("%s APDUs: want 12 to 16 (a wrong PIN included)", apdus)
			}
			if n, err := strconv.Atoi(usb); err != nil || n < 2 {
				t.Errorf("%s USB transfers", usb)
			}
			if !strings.Contains(text, "カードを確認しました") {
				t.Errorf("the page says %q", text)
			}
		})
	}
	t.Run("ccid in an ordinary page", func(t *testing.T) {
		tab := browser(t)
		run(t, tab, "connect the reader", 60*time.Second,
			chromedp.Navigate(base+"/card?usb=ccid"),
			chromedp.WaitVisible(chromedp.ID("connect")),
			tap("#connect"),
		)
		waitJS(t, tab, "the reader refused in words", `(document.querySelector("#card-error") || {}).textContent.includes("RC-S380またはRC-S300")`, 30*time.Second)
	})
	time.Sleep(200 * time.Millisecond)
	log := srv.Log()
	if strings.Contains(log, "individual number was reached") {
		t.Fatalf("a demo card saw its number touched:\n%s", log)
	}
	if strings.Contains(log, "card verification refused") {
		t.Fatalf("the server refused a good card:\n%s", log)
	}
}

// TestCardOffline: a play-park terminal that cannot reach the server
// checks a card itself, with the trust anchors the server published to
// it, records the check, and the server verifies it again when the record
// syncs: the card path keeps working through an outage.
func TestCardOffline(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	base := "http://" + addr
	srv := startServer(t, addr, t.TempDir())
	tab := browser(t)
	setUp(t, tab, base, "kaga-playpark", "playpark")
	run(t, tab, "open the card check", 30*time.Second, chromedp.Navigate(base+"/card?usb=rcs300"))
	waitJS(t, tab, "the server's trust anchors on the terminal", `!!document.querySelector("#card-anchors")`, 30*time.Second)
	if _, err := chromedp.Call(tab, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	block := func(on bool) {
		var patterns []*network.BlockPattern
		if on {
			patterns = []*network.BlockPattern{{URLPattern: base + "/card/*", Block: true}}
		}
		if _, err := chromedp.Call(tab, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: patterns}); err != nil {
			t.Fatal(err)
		}
	}
	block(true)
	run(t, tab, "connect the reader", 30*time.Second,
		chromedp.WaitVisible(chromedp.ID("connect")),
		tap("#connect"),
	)
	waitJS(t, tab, "3 tries", triesAre("3"), 30*time.Second)
	enterPIN(t, tab, "1234")
	waitJS(t, tab, "the card checked on the terminal", `!!document.querySelector("#card-offline")`, 30*time.Second)
	block(false)

	deadline := time.Now().Add(30 * time.Second)
	for {
		var kinds []string
		for _, op := range srv.Ops(t) {
			if op.Kind == jpki.OpChecked || op.Kind == scope.OpRejected {
				kinds = append(kinds, op.Kind)
			}
		}
		if len(kinds) == 1 && kinds[0] == jpki.OpChecked {
			break
		}
		if len(kinds) > 0 || time.Now().After(deadline) {
			t.Fatalf("on the server: %v, want the one card check, accepted on its second look", kinds)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// TestAccountOpening: a resident opens an account on the PWA with the
// simulated card's signature certificate: the password's tries shown
// first, a wrong password costs one, the right one opens the account and
// shows the four facts from the certificate. The same person again is
// refused and offered recovery, which keeps the account number. On that
// phone, whose camera shows a printed photo, the daughter's face is
// refused as a photo and nothing is registered.
func TestAccountOpening(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	base := "http://" + addr
	srv := startServer(t, addr, t.TempDir())
	tab := browser(t)
	open := func() {
		t.Helper()
		run(t, tab, "connect the reader", 60*time.Second,
			chromedp.Navigate(base+"/account?usb=rcs380"),
			chromedp.WaitVisible(chromedp.ID("connect")),
			tap("#connect"),
		)
	}
	// A reload in the middle (card connected, nothing sent) leaves
	// nothing behind: the account opens afresh after it.
	open()
	waitJS(t, tab, "5 tries before any password, 3 of the 4-digit PIN", triesAre("5")+` && document.querySelector("#auth-tries")?.textContent === "残り3回まで入力できます。"`, 30*time.Second)
	open()
	waitJS(t, tab, "5 tries after a reload", triesAre("5"), 30*time.Second)
	enterPIN(t, tab, "WRONG1")
	waitJS(t, tab, "4 tries after a wrong password", triesAre("4")+` && document.querySelector("#card-error").textContent === "パスワードが違います。"`, 20*time.Second)
	enterPasswordAndPIN(t, tab, "DEMO2026", "1234")
	waitJS(t, tab, "the account opened, the card linked", `document.querySelector("#account-ok")?.dataset.cards === "1" && !!document.querySelector("#card-linked")`, 30*time.Second)
	id := get(t, tab, "account id", eval[string](`document.querySelector("#account-ok").dataset.id`))
	text := get(t, tab, "account", eval[string](`document.querySelector("#account-ok").textContent`))
	if id != "R-000001" || !strings.Contains(text, "加賀\u3000太郎") || !strings.Contains(text, "1980-04-01") || strings.Contains(text, demoNumbers[0]) {
		t.Fatalf("account %s shows %q", id, text)
	}
	buf := get(t, tab, "screenshot", chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(root, "assets", "screenshots", "account-opened.png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}

	// The same person on another device (a new phone, a new card
	// session): refused, and offered recovery onto that device.
	tab = camera(t, printVideo(t))
	open()
	waitJS(t, tab, "5 tries", triesAre("5"), 30*time.Second)
	// A wrong 4-digit PIN: said so with its tries, before the password
	// is sent (its tries stay 5).
	enterPasswordAndPIN(t, tab, "DEMO2026", "9999")
	waitJS(t, tab, "the 4-digit PIN refused", `(document.querySelector("#card-error") || {}).textContent.includes("残り2回") && `+triesAre("5")+` && document.querySelector("#auth-tries")?.textContent === "残り2回まで入力できます。"`, 30*time.Second)
	enterPasswordAndPIN(t, tab, "DEMO2026", "1234")
	waitJS(t, tab, "the account exists", `(document.querySelector("#card-error") || {}).textContent.includes("すでにあります")`, 30*time.Second)
	enterPasswordAndPIN(t, tab, "DEMO2026", "1234")
	waitJS(t, tab, "the account recovered, the same card linked", `(document.querySelector("#account-ok") || {}).textContent.includes("この端末で") && document.querySelector("#account-ok").dataset.cards === "1"`, 30*time.Second)
	if again := get(t, tab, "account id", eval[string](`document.querySelector("#account-ok").dataset.id`)); again != id {
		t.Fatalf("recovered %s, opened %s", again, id)
	}

	// The guardian adds his daughter from her card's card-info
	// application; the household survives a reload; she cannot be added
	// twice.
	addDaughter := func() {
		t.Helper()
		run(t, tab, "read the daughter's card", 30*time.Second,
			chromedp.Evaluate[chromedp.Void](`localStorage.setItem("smartpass.card", "hanako")`),
			chromedp.WaitVisible(chromedp.ID("add-member")),
			tap("#add-member"),
			chromedp.WaitVisible(chromedp.ID("connect")),
			tap("#connect"),
		)
		waitJS(t, tab, "3 tries of her card-info PIN", triesAre("3"), 30*time.Second)
		enterPIN(t, tab, "1234")
		waitJS(t, tab, "her four facts", `(document.querySelector("#member-facts") || {}).textContent?.includes("加賀　花子")`, 30*time.Second)
		run(t, tab, "confirm", 10*time.Second, tap("#confirm-member"))
	}
	addDaughter()
	waitJS(t, tab, "the household with her, read from her card", `(document.querySelector("#household") || {}).dataset?.members === "1" && document.querySelector("#household .member").dataset.source === "card-read"`, 30*time.Second)
	run(t, tab, "reload", 30*time.Second, chromedp.Reload())
	waitJS(t, tab, "the household after a reload", `(document.querySelector("#household") || {}).dataset?.members === "1" && document.querySelector("#household").textContent.includes("2018-05-05")`, 30*time.Second)
	// He consents to disclose her safety in a disaster; the consent is
	// stored (it survives a reload).
	herConsent := `document.querySelector('#household .member input.consent[data-purpose="disclosure"]')`
	run(t, tab, "consent to disclosure for her", 10*time.Second,
		tap(`#household .member input.consent[data-purpose="disclosure"]`))
	waitJS(t, tab, "her consent stored", herConsent+`?.dataset.granted === "true"`, 30*time.Second)
	run(t, tab, "reload", 30*time.Second, chromedp.Reload())
	waitJS(t, tab, "her consent after a reload", herConsent+`?.checked === true && document.querySelector('#holder input.consent[data-purpose="disclosure"]')?.checked === false`, 30*time.Second)
	buf = get(t, tab, "screenshot", chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(root, "assets", "screenshots", "account-household.png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
	addDaughter()
	waitJS(t, tab, "refused: registered already", `(document.querySelector("#card-error") || {}).textContent.includes("すでに登録されています")`, 30*time.Second)

	// Her face, from a printed photo held up and turned: refused as a
	// photo; saving anyway is refused and nothing reaches the server.
	run(t, tab, "open her face registration", 30*time.Second,
		chromedp.Navigate(base+"/account"),
		chromedp.WaitVisible(chromedp.CSS(`#household .member .face-link`)),
		tap(`#household .member .face-link`),
		chromedp.WaitVisible(chromedp.ID("resident-own")),
	)
	printRefused(t, tab, srv)
	time.Sleep(200 * time.Millisecond)
	if strings.Contains(srv.Log(), "individual number was reached") {
		t.Fatalf("the demo card saw its number touched:\n%s", srv.Log())
	}
}

// TestDeskEnrollment: at the city desk, staff register a child whose card
// has no signature certificate: her card-info PIN, the four facts, the
// staff member's name; then her face registration opens with her number
// filled in. The same child again is refused as registered already.
func TestDeskEnrollment(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	base := "http://" + addr
	startServer(t, addr, t.TempDir())
	tab := browser(t)
	setUp(t, tab, base, "kaga-hq", "registrar")
	register := func() {
		t.Helper()
		run(t, tab, "read her card at the desk", 60*time.Second,
			chromedp.Navigate(base+"/desk?usb=rcs380&card=hanako"),
			chromedp.WaitVisible(chromedp.ID("staff")),
			chromedp.SendKeys(chromedp.ID("staff"), "市民課 山田"),
			tap("#connect"),
		)
		waitJS(t, tab, "3 tries of her card-info PIN", triesAre("3"), 30*time.Second)
		enterPIN(t, tab, "1234")
		run(t, tab, "register her", 30*time.Second,
			chromedp.WaitVisible(chromedp.ID("confirm-member")),
			tap("#confirm-member"),
		)
	}
	register()
	waitJS(t, tab, "registered", `!!document.querySelector("#desk-ok")?.dataset.id`, 30*time.Second)
	id := get(t, tab, "her number", eval[string](`document.querySelector("#desk-ok").dataset.id`))
	run(t, tab, "open her face registration", 30*time.Second, tap("#desk-face"))
	waitJS(t, tab, "her number filled in", `document.querySelector("#resident")?.value === "`+id+`"`, 30*time.Second)
	register()
	waitJS(t, tab, "refused: registered already", `(document.querySelector("#card-error") || {}).textContent.includes("すでに登録されています")`, 30*time.Second)
}
