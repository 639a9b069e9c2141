package e2e

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"smartpass.city/smartpass/app/card"
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
// cut off from the server checks in 200 people, one by face (registered
// at the city desk, so the shelter knows her name from her profile) and
// 199 by hand in households; some households go out; the tablet is
// reloaded while still offline; when the server is back, HQ shows exactly
// those 200 with their households and statuses, and the roster CSV
// parses with the right Japanese text.
func TestShelterTwoHundredOffline(t *testing.T) {
	const manual = 199
	addr := serverproc.FreeAddr(t)
	base := "http://" + addr
	data := t.TempDir()
	srv := startServer(t, addr, data)
	resident := deskEnroll(t, srv, base, "desk-200", card.Facts{Name: "加賀\u3000一美", Address: "石川県加賀市大聖寺", BirthDate: "19750615", Sex: "2"})
	registerNatively(t, srv, addr, template.Template{Resident: resident, Facilities: []string{"shelter-daishoji"}})

	tablet := camera(t, faceVideo(t, "sheldon", "sheldon2.png", "sheldon5.png", "sheldon2.png", "sheldon3.png"))
	enrollTablet(t, tablet, base, srv.Code(t, "shelter-daishoji", "shelter"))
	run(t, tablet, "open the roster", 60*time.Second, chromedp.Navigate(base+"/shelter"), chromedp.WaitVisible(chromedp.ID("shelter-name")))
	waitJS(t, tablet, "her template and profile synced", readOps+`readOps().then(ops => ops.some(o => o.kind === "face.template.put") && ops.some(o => o.kind === "face.profile.put"))`, 60*time.Second)
	get(t, tablet, "service worker ready", eval[bool](`navigator.serviceWorker.ready.then(() => true)`))
	waitJS(t, tablet, "online", statusIs(true, 0), 20*time.Second)
	srv.Stop(t)
	waitJS(t, tablet, "offline", statusIs(false, 0), 20*time.Second)

	run(t, tablet, "open the face check-in, offline", 60*time.Second, chromedp.Click(chromedp.ID("shelter-identify")))
	start := time.Now()
	waitJS(t, tablet, "her check-in by face", `document.querySelector("#arrival")?.dataset.result === "in"`, 90*time.Second)
	t.Logf("checked in by face, offline, %s after the screen opened (model load included)", time.Since(start).Round(time.Millisecond))
	if got := get(t, tablet, "the greeting", eval[string](`document.querySelector("#arrival").textContent`)); got != "加賀\u3000一美 さんを受付しました。" {
		t.Fatalf("the face check-in says %q", got)
	}

	run(t, tablet, "the roster, offline", 30*time.Second,
		chromedp.Click(chromedp.CSS("header a.title")),
		chromedp.Navigate(base+"/shelter"),
		chromedp.WaitVisible(chromedp.ID("evacuees")))
	ctx, cancel := context.WithTimeout(tablet, 5*time.Minute)
	res, err := chromedp.Run(ctx, eval[[]float64](fmt.Sprintf(householdJS, manual)))
	cancel()
	if err != nil {
		t.Fatalf("check in %d people by hand: %v", manual, err)
	}
	ms, households := res[0], int(res[1])+1 // and hers
	t.Logf("%d offline check-ins by hand in %d households in %.1f s: %.0f ms each, %.0f people per minute of app time", manual, households-1, ms/1000, ms/manual, 60000*manual/ms)

	// Three households go out for a while.
	for i := range 3 {
		run(t, tablet, "a household goes out", 10*time.Second,
			chromedp.Click(chromedp.CSS(fmt.Sprintf(`#evacuees tbody tr:nth-child(%d) button[data-to="out"]`, 2+i*10))))
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

	srv = startServer(t, addr, data)
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
	st := state.Fold(srv.Ops(t))
	people := st.EvacueesAt("shelter-daishoji")
	var in, out, byFace int
	homes := map[string]bool{}
	for _, e := range people {
		switch {
		case e.Status == shelter.StatusOut:
			out++
		case e.Present():
			in++
		}
		homes[cmp.Or(e.Household, e.ID)] = true
		if e.Resident == resident && e.Name == "加賀\u3000一美" && e.BirthYear == 1975 {
			byFace++
		}
	}
	if got := fmt.Sprintf("%d %d %d", in, out, len(homes)); len(people) != 200 || byFace != 1 || got != before {
		t.Fatalf("the server holds %d people (%d by face), %s (in, out, households); the tablet said %q", len(people), byFace, got, before)
	}

	// The roster CSV parses, Japanese intact, one row a person.
	run(t, tablet, "export the roster", 20*time.Second,
		chromedp.Click(chromedp.ID("export-csv")),
		chromedp.WaitVisible(chromedp.ID("roster-download")))
	text := get(t, tablet, "read the CSV", eval[string](`fetch(document.querySelector("#roster-download").href).then(r => r.text())`))
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix([]byte(text), []byte("\ufeff")))).ReadAll()
	if err != nil || len(rows) != 201 || rows[0][0] != "ふりがな" {
		t.Fatalf("the roster CSV: %d rows, %v", len(rows), err)
	}
	found := false
	for _, r := range rows {
		found = found || r[1] == "加賀\u3000一美"
	}
	if !found {
		t.Fatal("the roster CSV lacks the person checked in by face")
	}
}
