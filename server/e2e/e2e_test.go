package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"smartpass.city/smartpass/app/browsertest"
	"smartpass.city/smartpass/server/serverproc"
)

var (
	root      string // module root
	work      string // built binaries and assets for this run
	serverBin string
)

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	var err error
	if _, err = browsertest.Find(); err != nil {
		return 0, err
	}
	if root, err = serverproc.ModuleRoot(); err != nil {
		return 0, err
	}
	if work, err = os.MkdirTemp("", "smartpass-e2e-"); err != nil {
		return 0, err
	}
	defer os.RemoveAll(work)
	if serverBin, err = serverproc.Build(work); err != nil {
		return 0, err
	}
	assets := filepath.Join(work, "assets")
	if err := os.CopyFS(assets, os.DirFS(filepath.Join(root, "assets"))); err != nil {
		return 0, fmt.Errorf("copy assets: %w", err)
	}
	os.Remove(filepath.Join(assets, "app.wasm.gz")) // from a make build; this run builds its own
	wasm := exec.Command("go", "build", "-o", filepath.Join(assets, "app.wasm"), "./wasm")
	wasm.Dir = root
	wasm.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := wasm.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("build wasm: %w\n%s", err, out)
	}
	// Compressed as `make build` does, so the browser gets what it gets
	// from a real server.
	gz := exec.Command("gzip", "-k", "-f", filepath.Join(assets, "app.wasm"))
	if _, err := os.Stat(filepath.Join(assets, "models", "face.spm")); err == nil {
		gz.Args = append(gz.Args, filepath.Join(assets, "models", "face.spm"))
	}
	if out, err := gz.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("gzip the assets: %w\n%s", err, out)
	}
	return m.Run(), nil
}

func startServer(t *testing.T, addr, data string) *serverproc.Proc {
	t.Helper()
	p := serverproc.Start(t, serverBin, nil, addr,
		"-data", data, "-assets", filepath.Join(work, "assets"), "-dev", "-demo")
	p.WaitHealthy(t)
	return p
}

// browser starts headless Chromium with a fresh profile.
func browser(t *testing.T) context.Context {
	t.Helper()
	ctx, _ := browsertest.Start(t, "")
	return ctx
}

// run runs actions with a deadline, failing the test with what was going on.
func run(t *testing.T, ctx context.Context, what string, d time.Duration, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// get runs one action that returns a value.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	return browsertest.Get(t, ctx, what, 30*time.Second, a)
}

// eval evaluates JavaScript, awaiting a returned promise.
func eval[T any](expr string) chromedp.Action[T] {
	return browsertest.Eval[T](expr)
}

// waitJS polls a JavaScript expression until it is true.
func waitJS(t *testing.T, ctx context.Context, what, expr string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, err := chromedp.Run(ctx, eval[bool](expr))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			html, _ := chromedp.Run(ctx, eval[string](`document.body.outerHTML`))
			t.Fatalf("timed out waiting for %s (%s; last error %v)\npage: %s", what, expr, err, html)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// headTurns waits for the registration's head-turn check to pass. When
// the screen says the turn took too long and asks to try again
// (face.l.timeout), it presses やり直す as a person would, at most twice:
// on a busy machine the fake camera's 1.5 s poses can fall between the
// frames the page manages to process. Each try must still pass the check.
func headTurns(t *testing.T, ctx context.Context) {
	t.Helper()
	const guide = `document.querySelector("#face-guide")?.dataset.key`
	for try := 0; ; try++ {
		waitJS(t, ctx, "the head turns done or a retry asked", guide+` === "face.l.passed" || `+guide+` === "face.l.timeout"`, 120*time.Second)
		if get(t, ctx, "the head-turn outcome", eval[string](guide)) == "face.l.passed" {
			return
		}
		if try == 2 {
			t.Fatalf("the head-turn check timed out three times")
		}
		t.Logf("head turns: the screen asked to try again (try %d)", try+1)
		run(t, ctx, "press やり直す", 10*time.Second, tap("#face-retry"))
	}
}

// idbUnsent reads, from the PWA's IndexedDB, how many ops the device
// recorded and how many of them the server has not acknowledged.
func idbUnsent(t *testing.T, ctx context.Context) (recorded, unsent int) {
	t.Helper()
	v := get(t, ctx, "read IndexedDB marks", eval[[]int](`new Promise((resolve, reject) => {
		const r = indexedDB.open("smartpass");
		r.onerror = () => reject(r.error);
		r.onsuccess = () => {
			const db = r.result;
			const meta = db.transaction("meta").objectStore("meta");
			const seq = meta.get("seq"), acked = meta.get("acked");
			meta.transaction.oncomplete = () => {
				db.close();
				resolve([seq.result || 0, acked.result || 0]);
			};
		};
	})`))
	return v[0], v[0] - v[1]
}

// readOps is a script defining readOps(): a promise of every op in the
// PWA's IndexedDB, decrypted as the app does (wasm/idb): unwrap the data
// key with the stored non-extractable key, then open each record with
// its [device, seq] as additional data. Records the app kept as plain
// JSON are read as they are.
const readOps = `
async function readOps() {
	const req = (q) => new Promise((res, rej) => { q.onsuccess = () => res(q.result); q.onerror = () => rej(q.error); });
	const db = await req(indexedDB.open("smartpass"));
	const tx = db.transaction(["ops", "keys"]);
	const [vals, keys, wrapped] = await Promise.all([
		req(tx.objectStore("ops").getAll()), req(tx.objectStore("ops").getAllKeys()), req(tx.objectStore("keys").get("records"))]);
	db.close();
	if (!wrapped) return vals.map(v => JSON.parse(v));
	const raw = await crypto.subtle.decrypt({name: "AES-GCM", iv: wrapped.iv}, wrapped.kek, wrapped.wrapped);
	const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["decrypt"]);
	const out = [];
	for (let i = 0; i < vals.length; i++) {
		const v = vals[i];
		if (typeof v === "string") { out.push(JSON.parse(v)); continue; }
		const dev = new TextEncoder().encode(keys[i][0]);
		const aad = new Uint8Array(dev.length + 9);
		aad.set(dev);
		new DataView(aad.buffer).setBigUint64(dev.length + 1, BigInt(keys[i][1]));
		const plain = await crypto.subtle.decrypt({name: "AES-GCM", iv: v.slice(0, 12), additionalData: aad}, key, v.slice(12));
		out.push(JSON.parse(new TextDecoder().decode(plain)));
	}
	return out;
}
`

// enrollTablet sets the browser's tablet up on the setup screen with code,
// typed as a person would.
func enrollTablet(t *testing.T, ctx context.Context, base, code string) {
	t.Helper()
	run(t, ctx, "set the tablet up", 60*time.Second,
		chromedp.Navigate(base+"/setup"),
		chromedp.WaitVisible(chromedp.ID("code")),
		chromedp.SendKeys(chromedp.ID("code"), code),
		tap("#enroll"),
		chromedp.WaitVisible(chromedp.ID("setup-done")),
	)
}

// deviceID reads the tablet's device id from its IndexedDB.
func deviceID(t *testing.T, ctx context.Context) string {
	t.Helper()
	return get(t, ctx, "read the device id", eval[string](`new Promise((resolve, reject) => {
		const r = indexedDB.open("smartpass");
		r.onerror = () => reject(r.error);
		r.onsuccess = () => {
			const get = r.result.transaction("meta").objectStore("meta").get("device");
			get.onsuccess = () => { r.result.close(); resolve(get.result); };
		};
	})`))
}

func statusIs(online bool, pending int) string {
	return fmt.Sprintf(`(() => { const s = document.querySelector("#sync-status");
		return !!s && s.dataset.online === %q && s.dataset.pending === %q; })()`, fmt.Sprint(online), fmt.Sprint(pending))
}

// The foundation's thin slice: a volunteer checks a person in by hand while
// the server is down; the record is in IndexedDB and on screen at once,
// reaches Badger when the server is back, and shows on HQ in another
// browser context.
func TestShelterOfflineCheckInReachesHQ(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	data := t.TempDir()
	base := "http://" + addr
	srv := startServer(t, addr, data)

	tablet := browser(t)
	// Before set-up, the shelter screen says the tablet is not enrolled.
	run(t, tablet, "open the shelter page unenrolled", 60*time.Second,
		chromedp.Navigate(base+"/shelter"),
		chromedp.WaitVisible(chromedp.ID("wrong-device")),
	)
	// A mistyped code is refused with a reason the volunteer can act on.
	run(t, tablet, "a wrong code", 30*time.Second,
		chromedp.Navigate(base+"/setup"),
		chromedp.WaitVisible(chromedp.ID("code")),
		chromedp.SendKeys(chromedp.ID("code"), "AAAA-AAAA"),
		tap("#enroll"),
		chromedp.WaitVisible(chromedp.Search(`//p[@id="setup-error" and contains(text(), "このコードは使えません")]`)),
	)
	// The admin's code, typed in lower case without the hyphen.
	code := srv.Code(t, "shelter-daishoji", "shelter")
	enrollTablet(t, tablet, base, strings.ToLower(strings.ReplaceAll(code, "-", "")))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", srv.Log())
		}
	})
	waitJS(t, tablet, "the facility's name to arrive by sync",
		`document.querySelector("#setup-done").textContent.includes("大聖寺地区会館")`, 30*time.Second)
	buf := get(t, tablet, "setup screenshot", chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(root, "assets", "screenshots", "setup.png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, tablet, "open the shelter page", 60*time.Second,
		tap("#open-mode"),
		chromedp.WaitVisible(chromedp.Search(`//p[@id="shelter-name" and text()="大聖寺地区会館（避難所）"]`)),
	)
	get(t, tablet, "service worker ready", eval[bool](`navigator.serviceWorker.ready.then(() => true)`))
	waitJS(t, tablet, "online status", statusIs(true, 0), 20*time.Second)
	waitJS(t, tablet, "ready offline, face model included", offlineReady, 120*time.Second)

	// Japanese first, English on request, and back.
	run(t, tablet, "switch language", 10*time.Second,
		tap("#lang"),
		chromedp.WaitVisible(chromedp.Search(`//h1[text()="Shelter check-in"]`)),
		tap("#lang"),
		chromedp.WaitVisible(chromedp.Search(`//h1[text()="避難所の受付"]`)),
	)

	// The server goes away; the tablet reloads from its service worker.
	srv.Stop(t)
	run(t, tablet, "reload offline", 60*time.Second,
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.ID("shelter-name")),
	)
	waitJS(t, tablet, "offline status", statusIs(false, 0), 20*time.Second)

	// A half-filled form is refused with the reason, and nothing is stored.
	run(t, tablet, "submit without kana", 10*time.Second,
		chromedp.SendKeys(chromedp.ID("name"), "山田 太郎"),
		tap("#add"),
		chromedp.WaitVisible(chromedp.ID("kana-error")),
	)
	if rec, _ := idbUnsent(t, tablet); rec != 0 {
		t.Fatalf("IndexedDB holds %d records after a refused form, want 0", rec)
	}

	run(t, tablet, "check in by hand", 20*time.Second,
		chromedp.SendKeys(chromedp.ID("kana"), "やまだ たろう"),
		chromedp.SendKeys(chromedp.ID("birth"), "昭和25"),
		// An elderly volunteer's double tap must not check the person in twice.
		tap("#add"),
		tap("#add"),
		chromedp.WaitVisible(chromedp.Search(`//tr[td[text()="ヤマダ　タロウ"] and td[text()="1950"] and td[@data-unsent="true"]]`)),
	)
	waitJS(t, tablet, "offline with one pending", statusIs(false, 1), 10*time.Second)
	if rec, unsent := idbUnsent(t, tablet); rec != 1 || unsent != 1 {
		t.Fatalf("IndexedDB holds %d records, %d unsent; want 1 and 1", rec, unsent)
	}
	if msg := get(t, tablet, "read messages", eval[string](`[...document.querySelectorAll(".error, #form-message")].map(e => e.textContent).join("|")`)); !strings.Contains(msg, "受付しました") || strings.Contains(msg, "入力してください") {
		t.Fatalf("after a double tap the form shows %q, want only the confirmation", msg)
	}
	// The roster exports to CSV offline: UTF-8 with a BOM, for Excel.
	run(t, tablet, "export the roster", 20*time.Second,
		tap("#export-csv"),
		chromedp.WaitVisible(chromedp.ID("roster-download")),
	)
	csv := get(t, tablet, "read the CSV", eval[[]int](`fetch(document.querySelector("#roster-download").href)
		.then(r => r.arrayBuffer()).then(b => Array.from(new Uint8Array(b)))`))
	raw := make([]byte, len(csv))
	for i, c := range csv {
		raw[i] = byte(c)
	}
	if !bytes.HasPrefix(raw, []byte{0xEF, 0xBB, 0xBF}) || !strings.Contains(string(raw), "ヤマダ\u3000タロウ,山田 太郎,1950,,,,在所,避難所,,,,,,不同意,大聖寺地区会館（避難所）") {
		t.Fatalf("roster CSV = %q", raw)
	}
	get(t, tablet, "scroll to top", eval[bool](`(window.scrollTo(0, 0), true)`))
	buf = get(t, tablet, "screenshot", chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(root, "assets", "screenshots", "shelter-offline.png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}

	// The server comes back on the same data: the tablet reconnects by
	// itself and pushes the check-in.
	srv = startServer(t, addr, data)
	waitJS(t, tablet, "the check-in to be sent", statusIs(true, 0), 60*time.Second)
	run(t, tablet, "row marked as sent", 10*time.Second,
		chromedp.WaitVisible(chromedp.Search(`//tr[td[text()="ヤマダ　タロウ"] and td[@data-unsent="false"]]`)))
	// Two records: the check-in and the export's, for the audit log.
	if rec, unsent := idbUnsent(t, tablet); rec != 2 || unsent != 0 {
		t.Fatalf("IndexedDB after sync: %d records, %d unsent; want 2 and 0", rec, unsent)
	}

	// HQ, in a second browser with its own profile (it shares nothing with
	// the tablet: no IndexedDB, no service worker), sees it.
	// It is set up with the demo server's HQ code, one press.
	hq := browser(t)
	run(t, hq, "set HQ up with a demo code", 60*time.Second,
		chromedp.Navigate(base+"/setup"),
		tap(`button.demo-code[data-facility="kaga-hq"][data-role="hq"]`),
		chromedp.WaitVisible(chromedp.ID("setup-done")),
	)
	run(t, hq, "HQ shows the check-in", 60*time.Second,
		chromedp.Navigate(base+"/hq"),
		chromedp.WaitVisible(chromedp.Search(`//section[@id="hq-shelter-daishoji"]//tr[td[text()="ヤマダ　タロウ"] and td[text()="山田 太郎"]]`)),
	)
	total := get(t, hq, "read total", eval[string](`document.querySelector("#hq-total").textContent`))
	if !strings.Contains(total, "1人") {
		t.Fatalf("HQ total = %q, want 1人", total)
	}
	buf = get(t, hq, "HQ screenshot", chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(root, "assets", "screenshots", "hq.png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, hq, "open home", 20*time.Second,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(".modes")))
	buf = get(t, hq, "home screenshot", chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(root, "assets", "screenshots", "home.png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(srv.Log(), "sync: device connected") {
		t.Fatalf("server log shows no device connecting:\n%s", srv.Log())
	}

	// The admin revokes the tablet: it is cut off, keeps its records, and
	// tells staff to set it up again.
	srv.Revoke(t, deviceID(t, tablet))
	waitJS(t, tablet, "the revocation banner", `!!document.querySelector("#setup-needed")`, 30*time.Second)
	if rec, _ := idbUnsent(t, tablet); rec != 2 {
		t.Fatalf("after revocation IndexedDB holds %d records, want the 2 it made", rec)
	}
}

// tap clicks the element matching selector once it is there and
// enabled, within the deadline of the run it is part of. Screens redraw
// as records and camera frames arrive, so no node is held across a wait
// (chromedp.Click finds a node, then clicks it: a redraw in between
// fails it with "Could not find node").
func tap(selector string) chromedp.Action[chromedp.Void] {
	return gesture("tap "+selector, fmt.Sprintf(`(b => b && !b.disabled ? (b.click(), true) : false)(document.querySelector(%q))`, selector))
}

// tick checks the checkbox matching selector, as a person's tap does,
// and is done only when it is checked. Unlike tap it may be retried
// without undoing itself: a tap retried after an evaluation error whose
// click had in fact landed would untick the box (TestShelterRecord once
// saved a consent box unticked, on a cold CI machine).
func tick(selector string) chromedp.Action[chromedp.Void] {
	return gesture("tick "+selector, fmt.Sprintf(`(b => b && !b.disabled ? (b.checked || b.click(), b.checked) : false)(document.querySelector(%q))`, selector))
}

// gesture evaluates js as a person's action (with user activation: full
// screen, WebUSB's device chooser and print ask for it) every 50 ms
// until it answers true, within the deadline of the run it is part of.
func gesture(what, js string) chromedp.Action[chromedp.Void] {
	act := chromedp.Evaluate[bool](js, func(p *runtime.EvaluateParams) { yes := true; p.UserGesture = &yes })
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		for {
			ok, err := act(ctx, tg)
			if err == nil && ok {
				return chromedp.Void{}, nil
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, fmt.Errorf("%s: %w (last error: %v)", what, ctx.Err(), err)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

// press is tap on its own, with 20 seconds for the element to be there.
func press(t *testing.T, ctx context.Context, what, selector string) {
	t.Helper()
	run(t, ctx, what, 20*time.Second, tap(selector))
}

// choose picks value in the select element id, as a person does.
func choose(t *testing.T, ctx context.Context, id, value string) {
	t.Helper()
	waitJS(t, ctx, "choose "+value, fmt.Sprintf(`(s => {
		if (!s || ![...s.options].some(o => o.value === %[2]q)) return false;
		s.value = %[2]q; s.dispatchEvent(new Event("change", {bubbles: true})); return true;
	})(document.getElementById(%[1]q))`, id, value), 20*time.Second)
}

// fill sets the text of input id, as typing does (an input event).
func fill(t *testing.T, ctx context.Context, id, text string) {
	t.Helper()
	waitJS(t, ctx, "type into "+id, fmt.Sprintf(`(i => {
		if (!i) return false;
		i.value = %q; i.dispatchEvent(new Event("input", {bubbles: true})); return true;
	})(document.getElementById(%q))`, text, id), 20*time.Second)
}
