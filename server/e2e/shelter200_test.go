package e2e

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/face/facetest"
	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/app/state"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/server/serverproc"
)

// householdJS checks n people in through the shelter form in households
// of 1, 2, 3 and 4 in turn (all but the last of each with 「受付して、同じ
// 世帯の人を続けて入力」), waiting for each row, and resolves to [ms,
// households].
const householdJS = `(async (n) => {
	const digits = "アイウエオカキクケコ";
	const set = (id, v) => {
		const el = document.getElementById(id);
		el.value = v;
		el.dispatchEvent(new Event("input", {bubbles: true}));
	};
	const rows = () => document.querySelectorAll("#evacuees tbody tr").length;
	const before = rows(), sizes = [1, 2, 3, 4], start = performance.now();
	let i = 0, h = 0;
	while (i < n) {
		const size = Math.min(sizes[h %% 4], n - i);
		h++;
		for (let k = 0; k < size; k++, i++) {
			set("kana", "ヒナン" + String(i).padStart(3, "0").split("").map(d => digits[d]).join(""));
			set("birth", String(1930 + i %% 90));
			document.getElementById(k < size - 1 ? "add-household" : "add").click();
			const deadline = performance.now() + 10000;
			while (rows() < before + i + 1) {
				if (performance.now() > deadline) throw new Error("check-in " + i + " did not appear");
				await new Promise(r => setTimeout(r, 2));
			}
		}
	}
	return [performance.now() - start, h];
})(%d)`

// TestShelterTwoHundredOffline is issue 7's shelter test: a shelter tablet
// cut off from the network checks in 200 people: three by face
// (registered at the city desk, so the shelter knows their names from
// their profiles), a father and his daughter by their My Number Cards
// (checked on the tablet against the anchors it holds: the server cannot
// be asked), and 195 by hand in households; some households go out; the
// server is restarted meanwhile and the tablet reloaded while still cut
// off; when the network is back, HQ shows exactly those 200 with their
// households and statuses, the server accepts both offline card checks,
// and the roster CSV parses with the right Japanese text.
func TestShelterTwoHundredOffline(t *testing.T) {
	const manual = 195
	const here = "shelter-daishoji"
	addr := serverproc.FreeAddr(t)
	base := "http://" + addr
	data := t.TempDir()
	srv := startServer(t, addr, data)

	faces := []struct {
		identity string
		facts    card.Facts
		resident string
	}{
		{identity: "sheldon", facts: card.Facts{Name: "加賀\u3000一美", Address: "石川県加賀市大聖寺", BirthDate: "19750615", Sex: "2"}},
		{identity: "amy", facts: card.Facts{Name: "山代\u3000静香", Address: "石川県加賀市山代温泉", BirthDate: "19580302", Sex: "2"}},
		{identity: "howard", facts: card.Facts{Name: "片山津\u3000勇", Address: "石川県加賀市片山津町", BirthDate: "19441120", Sex: "1"}},
	}
	var frames []*image.RGBA
	byFace := map[string]string{} // resident: name
	for i := range faces {
		f := &faces[i]
		f.resident = deskEnroll(t, srv, base, fmt.Sprintf("desk-200-%d", i), f.facts)
		registerPhoto(t, srv, addr, template.Template{Resident: f.resident, Facilities: []string{here}}, f.identity, f.identity+"1.png")
		byFace[f.resident] = f.facts.Name
		for _, file := range []string{"2.png", "3.png"} {
			frames = append(frames, facetest.CameraFrame(facetest.Identity(t, f.identity, f.identity+file), 2))
		}
	}
	// Their cards were linked to them when he opened his account and
	// added her; their faces are registered for the shelter (their
	// consent to be known there) but not shown to its camera.
	father, daughter := openFamily(t, browser(t), base)
	registerPhoto(t, srv, addr, template.Template{Resident: father, Facilities: []string{here}}, "raj", "raj1.png")
	registerPhoto(t, srv, addr, template.Template{Resident: daughter, Facilities: []string{here}}, "penny", "penny1.png")

	uplink := newLink(t, addr)
	tablet := camera(t, writeVideo(t, frames...))
	enrollTablet(t, tablet, uplink.URL, srv.Code(t, here, "shelter"))
	run(t, tablet, "open the roster", 60*time.Second, chromedp.Navigate(uplink.URL+"/shelter"), chromedp.WaitVisible(chromedp.ID("shelter-name")))
	waitJS(t, tablet, "five templates and profiles synced, the cards in two", readOps+`readOps().then(ops =>
		ops.filter(o => o.kind === "face.template.put").length === 5 &&
		ops.filter(o => o.kind === "face.profile.put" && o.body.cards?.length).length === 2)`, 60*time.Second)
	// The status bar says when the tablet holds the app and the face
	// model: only then is it cut off.
	waitJS(t, tablet, "ready offline", offlineReady, 120*time.Second)
	waitJS(t, tablet, "online", statusIs(true, 0), 20*time.Second)
	uplink.Cut()
	waitJS(t, tablet, "offline", statusIs(false, 0), 20*time.Second)

	run(t, tablet, "open the face check-in, offline", 60*time.Second, tap("#shelter-identify"))
	start := time.Now()
	checkedIn := func(what string, residents ...string) {
		t.Helper()
		list, _ := json.Marshal(residents)
		waitJS(t, tablet, what, readOps+`readOps().then(ops => `+string(list)+`.every(r => ops.some(o => o.kind === "shelter.evacuee.add" && o.body.resident === r)))`, 90*time.Second)
	}
	checkedIn("the first check-in by face", faces[0].resident)
	t.Logf("first checked in by face, offline, %s after the screen opened (model load included)", time.Since(start).Round(time.Millisecond))
	checkedIn("all three by face", faces[0].resident, faces[1].resident, faces[2].resident)
	t.Logf("three people by face (3 s of video each, in turn) in %s", time.Since(start).Round(time.Millisecond))

	// The daughter's card first, the page opened afresh with the reader's
	// settings in its query (the service worker serves it offline), then
	// the father's, as staff would: the card button on the same screen.
	for i, c := range []struct{ persona, resident string }{{"hanako", daughter}, {"taro", father}} {
		open := chromedp.Navigate(uplink.URL + "/identify?usb=rcs300&card=" + c.persona)
		if i > 0 {
			open = chromedp.Evaluate[chromedp.Void](`localStorage.setItem("smartpass.card", "` + c.persona + `")`)
		}
		run(t, tablet, "open the card check: "+c.persona, 60*time.Second, open)
		press(t, tablet, "the card button", "#card-check")
		press(t, tablet, "connect the reader", "#connect")
		start := time.Now()
		enterPIN(t, tablet, "1234")
		checkedIn("the check-in by card: "+c.persona, c.resident)
		t.Logf("checked in by card, offline, %s after the PIN was typed", time.Since(start).Round(time.Millisecond))
	}

	// The server goes down and comes back while the tablet is cut off.
	srv.Stop(t)
	srv = startServer(t, addr, data)

	run(t, tablet, "the roster, offline", 30*time.Second,
		chromedp.Navigate(uplink.URL+"/shelter"),
		chromedp.WaitVisible(chromedp.ID("evacuees")))
	ctx, cancel := context.WithTimeout(tablet, 5*time.Minute)
	res, err := chromedp.Run(ctx, eval[[]float64](fmt.Sprintf(householdJS, manual)))
	cancel()
	if err != nil {
		t.Fatalf("check in %d people by hand: %v", manual, err)
	}
	ms, households := res[0], int(res[1])+len(faces)+1 // the family's household too
	t.Logf("%d offline check-ins by hand in %d households in %.1f s: %.0f ms each, %.0f people per minute of app time", manual, int(res[1]), ms/1000, ms/manual, 60000*manual/ms)

	// Three households go out for a while.
	for i := range 3 {
		run(t, tablet, "a household goes out", 10*time.Second,
			tap(fmt.Sprintf(`#evacuees tbody tr:nth-child(%d) button[data-to="out"]`, 2+i*10)))
	}
	time.Sleep(time.Second)
	tally := func(ctx context.Context) string {
		return get(t, ctx, "the tally", eval[string](`(t => [t.dataset.present, t.dataset.out, t.dataset.households].join(" "))(document.querySelector("#tally"))`))
	}
	before := tally(tablet)
	run(t, tablet, "reload offline", 60*time.Second, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("evacuees")))
	waitJS(t, tablet, "200 rows after the reload", `document.querySelectorAll("#evacuees tbody tr").length === 200`, 30*time.Second)
	if after := tally(tablet); after != before || after == fmt.Sprintf("200 0 %d", households) {
		t.Fatalf("tally %q after the reload, %q before; want the same, with some out", after, before)
	}

	uplink.Restore()
	waitJS(t, tablet, "everything sent", statusIs(true, 0), 120*time.Second)

	hq := browser(t)
	setUp(t, hq, base, "kaga-hq", "hq")
	run(t, hq, "open HQ", 30*time.Second, chromedp.Navigate(base+"/hq"))
	waitJS(t, hq, "the shelter at HQ", `document.querySelectorAll("#hq-shelter-daishoji tr").length === 200`, 60*time.Second)
	atHQ := get(t, hq, "HQ's tally", eval[string](`(s => [s.dataset.present, s.dataset.out, s.dataset.households].join(" "))(document.querySelector("#hq-shelter-daishoji"))`))
	if atHQ != before {
		t.Fatalf("HQ shows %q (in, out, households), the tablet %q", atHQ, before)
	}
	if want := fmt.Sprint(households); !bytes.HasSuffix([]byte(atHQ), []byte(" "+want)) {
		t.Fatalf("HQ shows %q, want %d households", atHQ, households)
	}

	// The server's own fold agrees, record by record.
	ops := srv.Ops(t)
	st := state.Fold(ops)
	people := st.EvacueesAt(here)
	var in, out, known int
	homes := map[string]bool{}
	for _, e := range people {
		switch {
		case e.Status == shelter.StatusOut:
			out++
		case e.Present():
			in++
		}
		homes[cmp.Or(e.Household, e.ID)] = true
		if name, ok := byFace[e.Resident]; (ok && e.Name == name) || e.Resident == father || e.Resident == daughter {
			known++
		}
	}
	if got := fmt.Sprintf("%d %d %d", in, out, len(homes)); len(people) != 200 || known != 5 || got != before {
		t.Fatalf("the server holds %d people (%d identified), %s (in, out, households); the tablet said %q", len(people), known, got, before)
	}
	for _, r := range []string{father, daughter} {
		waitIdentifiedBy(t, srv, identify.Identification{Facility: here, Method: identify.MethodCard, Outcome: identify.Accepted, Resident: r})
	}
	var checks int
	for _, op := range ops {
		switch op.Kind {
		case jpki.OpChecked:
			checks++
		case scope.OpRejected:
			t.Fatalf("the server refused an op of the tablet: %s", op.Body)
		}
	}
	if checks != 2 {
		t.Fatalf("the server holds %d offline card checks, want the two", checks)
	}

	// The roster CSV parses, Japanese intact, one row a person.
	run(t, tablet, "export the roster", 20*time.Second,
		tap("#export-csv"),
		chromedp.WaitVisible(chromedp.ID("roster-download")))
	text := get(t, tablet, "read the CSV", eval[string](`fetch(document.querySelector("#roster-download").href).then(r => r.text())`))
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix([]byte(text), []byte("\ufeff")))).ReadAll()
	if err != nil || len(rows) != 201 || rows[0][0] != "ふりがな" {
		t.Fatalf("the roster CSV: %d rows, %v", len(rows), err)
	}
	found := false
	for _, r := range rows {
		found = found || r[1] == faces[2].facts.Name
	}
	if !found {
		t.Fatal("the roster CSV lacks a person checked in by face")
	}
}
