package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/app/synclog"
	"smartpass.city/smartpass/server/serverproc"
	"smartpass.city/smartpass/syncproto/wsconn"
)

// checkIn fills the shelter form and waits until the row is on the
// tablet's roster.
func checkIn(t *testing.T, ctx context.Context, kana, birth, wantKana string) {
	t.Helper()
	run(t, ctx, "check "+kana+" in", 30*time.Second,
		chromedp.SendKeys(chromedp.ID("kana"), kana),
		chromedp.SendKeys(chromedp.ID("birth"), birth),
		tap("#add"),
		chromedp.WaitVisible(chromedp.Search(`//tr/td[starts-with(text(), "`+wantKana+`")]`)),
	)
}

// TestConflictsReachStaff: one person checked in at two shelters, and a
// name corrected differently by two devices that were not in touch, are
// both shown: on HQ's list, and the corrections on the shelter's roster.
// Neither value is dropped.
func TestConflictsReachStaff(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	data := t.TempDir()
	base := "http://" + addr
	srv := startServer(t, addr, data)

	daishoji, yamashiro, hq := browser(t), browser(t), browser(t)
	enrollTablet(t, daishoji, base, srv.Code(t, "shelter-daishoji", "shelter"))
	enrollTablet(t, yamashiro, base, srv.Code(t, "shelter-yamashiro", "shelter"))
	enrollTablet(t, hq, base, srv.Code(t, "kaga-hq", "hq"))
	for _, tab := range []context.Context{daishoji, yamashiro} {
		run(t, tab, "open the shelter page", 60*time.Second,
			chromedp.Navigate(base+"/shelter"),
			chromedp.WaitVisible(chromedp.ID("shelter-name")))
		get(t, tab, "service worker ready", eval[bool](`navigator.serviceWorker.ready.then(() => true)`))
	}
	checkIn(t, daishoji, "やまだ たろう", "1950", "ヤマダ　タロウ")
	checkIn(t, yamashiro, "ﾔﾏﾀﾞ ﾀﾛｳ", "S25", "ヤマダ　タロウ")
	waitJS(t, daishoji, "sent", statusIs(true, 0), 30*time.Second)
	waitJS(t, yamashiro, "sent", statusIs(true, 0), 30*time.Second)

	run(t, hq, "HQ lists the person at two shelters", 60*time.Second,
		chromedp.Navigate(base+"/hq"),
		chromedp.WaitVisible(chromedp.CSS(`#conflicts li[data-kind="two_shelters"]`)))
	// A shelter tablet sees only its own shelter, so only HQ can see this
	// conflict; the tablet must not learn about the other shelter.
	if n := get(t, daishoji, "count rows", eval[int](`document.querySelectorAll("#evacuees tbody tr").length`)); n != 1 {
		t.Fatalf("the Daishoji tablet shows %d people, want only its own check-in", n)
	}

	// A second person sorts before the first: each row's 訂正 button must
	// still open its own record.
	checkIn(t, daishoji, "あいだ", "1990", "アイダ")
	run(t, daishoji, "open the correction of the first row", 20*time.Second,
		chromedp.Click(chromedp.Search(`//tr[td[starts-with(text(), "アイダ")]]//button[contains(@class, "edit")]`)),
		chromedp.WaitVisible(chromedp.ID("editing")),
	)
	if h := get(t, daishoji, "editing header", eval[string](`document.querySelector("#editing").textContent`)); !strings.Contains(h, "アイダ") {
		t.Fatalf("the first row's 訂正 opened %q: a stale button", h)
	}
	run(t, daishoji, "cancel", 10*time.Second, tap("#cancel-edit"))

	// The Daishoji tablet, offline, corrects the name. Meanwhile another
	// Daishoji device, which never saw that correction, corrects it too.
	record := deviceID(t, daishoji) + ".1"
	srv.Stop(t)
	waitJS(t, daishoji, "offline", statusIs(false, 0), 20*time.Second)
	run(t, daishoji, "correct the name offline", 30*time.Second,
		tap(`tr[data-id="`+record+`"] button.edit`),
		chromedp.WaitVisible(chromedp.ID("editing")),
		chromedp.SendKeys(chromedp.ID("name"), "山田 太郎"),
		tap("#save-edit"),
		chromedp.WaitVisible(chromedp.Search(`//tr[td[text()="山田 太郎"]]`)),
	)
	waitJS(t, daishoji, "the correction waits", statusIs(false, 1), 10*time.Second)

	srv = startServer(t, addr, data)
	key := srv.Enroll(t, "desk-2", "shelter-daishoji", "shelter")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	other, err := synclog.New(ctx, synclog.NewMemStore("desk-2"), func(ctx context.Context) (synclog.Conn, error) {
		return wsconn.Dial(ctx, "ws://"+addr+"/sync")
	}, synclog.Options{Signer: key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Record(ctx, shelter.OpEvacueeEdit, shelter.Edit{Shelter: "shelter-daishoji", Record: record, Field: shelter.FieldName, Value: "山田 多郎"}); err != nil {
		t.Fatal(err)
	}
	go other.Run(ctx)

	waitJS(t, daishoji, "the tablet's correction sent", statusIs(true, 0), 60*time.Second)
	run(t, hq, "HQ lists the conflicting corrections", 60*time.Second,
		chromedp.WaitVisible(chromedp.CSS(`#conflicts li[data-kind="edit"]`)))
	text := get(t, hq, "read the conflict", eval[string](`document.querySelector('#conflicts li[data-kind="edit"]').textContent`))
	for _, want := range []string{"山田 太郎", "山田 多郎"} {
		if !strings.Contains(text, want) {
			t.Fatalf("HQ's conflict %q does not show %q: a value was dropped", text, want)
		}
	}
	run(t, daishoji, "the roster flags the corrections", 30*time.Second,
		chromedp.WaitVisible(chromedp.CSS(`span.flag[data-conflict="edit"]`)))
	buf := get(t, hq, "HQ conflicts screenshot", chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(root, "assets", "screenshots", "hq-conflicts.png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
}
