package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"smartpass.city/smartpass/app/browsertest"
	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/server/serverproc"
)

// checkInJS checks n people in through the shelter form, one after the
// other as a volunteer would (fill, press 受付する, wait for the roster to
// count them), and resolves to the milliseconds it took.
const checkInJS = `(async (n) => {
	const digits = "アイウエオカキクケコ";
	const set = (id, v) => {
		const el = document.getElementById(id);
		el.value = v;
		el.dispatchEvent(new Event("input", {bubbles: true}));
	};
	const start = performance.now();
	const before = document.querySelectorAll("#evacuees tbody tr").length;
	for (let i = 0; i < n; i++) {
		const kana = "ヒナン" + String(i).padStart(3, "0").split("").map(d => digits[d]).join("");
		set("kana", kana);
		set("birth", String(1930 + i %% 90));
		document.getElementById("add").click();
		const deadline = performance.now() + 10000;
		while (document.querySelectorAll("#evacuees tbody tr").length < before + i + 1) {
			if (performance.now() > deadline) {
				const err = [...document.querySelectorAll(".error, #form-message")].map(e => e.textContent).join(" | ");
				throw new Error("check-in " + i + " (" + kana + ") did not appear; rows " +
					document.querySelectorAll("#evacuees tbody tr").length + "; messages: " + err);
			}
			await new Promise(r => setTimeout(r, 2));
		}
	}
	return performance.now() - start;
})(%d)`

// The sync issue's browser test: 500 check-ins recorded offline survive a
// reload and a closed browser, and reach the server exactly once.
func TestFiveHundredOfflineCheckIns(t *testing.T) {
	const n = 500
	addr := serverproc.FreeAddr(t)
	data := t.TempDir()
	base := "http://" + addr
	srv := startServer(t, addr, data)
	profile := t.TempDir()

	tablet, closeTablet := browsertest.Start(t, profile)
	enrollTablet(t, tablet, base, srv.Code(t, "shelter-yamashiro", "shelter"))
	run(t, tablet, "open the shelter page", 60*time.Second,
		chromedp.Navigate(base+"/shelter"),
		chromedp.WaitVisible(chromedp.ID("shelter-name")))
	get(t, tablet, "service worker ready", eval[bool](`navigator.serviceWorker.ready.then(() => true)`))
	waitJS(t, tablet, "online", statusIs(true, 0), 20*time.Second)
	srv.Stop(t)
	waitJS(t, tablet, "offline", statusIs(false, 0), 20*time.Second)

	ctx, cancel := context.WithTimeout(tablet, 5*time.Minute)
	ms, err := chromedp.Run(ctx, eval[float64](fmt.Sprintf(checkInJS, n)))
	cancel()
	if err != nil {
		t.Fatalf("check in %d people: %v", n, err)
	}
	t.Logf("%d offline check-ins by form in %.1f s: %.0f ms each, %.0f people per minute of app time", n, ms/1000, ms/n, 60000*n/ms)
	waitJS(t, tablet, "all pending", statusIs(false, n), 20*time.Second)

	run(t, tablet, "reload offline", 60*time.Second,
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.ID("evacuees")))
	waitJS(t, tablet, "500 rows after reload", fmt.Sprintf(`document.querySelectorAll("#evacuees tbody tr").length === %d`, n), 30*time.Second)
	if rec, unsent := idbUnsent(t, tablet); rec != n || unsent != n {
		t.Fatalf("after reload IndexedDB holds %d records, %d unsent; want %d and %d", rec, unsent, n, n)
	}
	closeTablet()

	srv = startServer(t, addr, data)
	tablet, _ = browsertest.Start(t, profile)
	run(t, tablet, "reopen", 60*time.Second,
		chromedp.Navigate(base+"/shelter"),
		chromedp.WaitVisible(chromedp.ID("evacuees")))
	waitJS(t, tablet, "all 500 sent", statusIs(true, 0), 90*time.Second)

	ops := srv.Ops(t)
	seen := map[string]bool{}
	count := 0
	for _, op := range ops {
		if op.Kind != shelter.OpEvacueeAdd {
			continue
		}
		key := fmt.Sprintf("%s/%d", op.Device, op.Seq)
		if seen[key] {
			t.Fatalf("op %s stored twice", key)
		}
		seen[key] = true
		count++
	}
	if count != n {
		t.Fatalf("server holds %d check-ins, want %d", count, n)
	}
}
