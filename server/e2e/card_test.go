package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"smartpass.city/smartpass/server/serverproc"
)

// enterPIN types a PIN and presses 確認する.
func enterPIN(t *testing.T, ctx context.Context, pin string) {
	t.Helper()
	run(t, ctx, "enter the PIN", 20*time.Second,
		chromedp.WaitVisible(chromedp.ID("pin")),
		chromedp.SendKeys(chromedp.ID("pin"), pin),
		chromedp.Click(chromedp.ID("verify")),
	)
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
	triesAre := func(n string) string {
		return `(document.querySelector("#tries") || {}).textContent === "残り` + n + `回まで入力できます。"`
	}
	run(t, tab, "connect the reader", 60*time.Second,
		chromedp.Navigate(base+"/card"),
		chromedp.WaitVisible(chromedp.ID("connect")),
		chromedp.Click(chromedp.ID("connect")),
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
	enterPIN(t, tab, "1234")
	waitJS(t, tab, "the card confirmed", `!!document.querySelector("#card-ok")`, 30*time.Second)

	// A new session, a new card: three wrong PINs lock it.
	run(t, tab, "reconnect", 30*time.Second,
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.ID("connect")),
		chromedp.Click(chromedp.ID("connect")),
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
