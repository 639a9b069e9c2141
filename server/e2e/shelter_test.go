package e2e

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"smartpass.city/smartpass/app/access"
	"smartpass.city/smartpass/app/qrcode"
	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/app/state"
	"smartpass.city/smartpass/server/serverproc"
)

// TestShelterRecord is a household's stay at a shelter on the volunteer's
// tablet: a grandmother, her son and his daughter are checked in as one
// household; they go out together and come back; the grandmother's needs,
// place, medication and consent to disclosure are recorded; the roster
// filters to the people with special needs, exports to CSV with all of
// it, and prints without the controls. The server holds every status
// change as history. At HQ the shelter shows three present in one
// household; a search finds them in any kana; an inquirer is told where
// the grandmother is (she agreed) and nothing of the granddaughter; every
// search, answer, export and print is on the server for the audit.
func TestShelterRecord(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	base := "http://" + addr
	srv := startServer(t, addr, t.TempDir())
	tablet := browser(t)
	enrollTablet(t, tablet, base, srv.Code(t, "shelter-daishoji", "shelter"))
	run(t, tablet, "open the shelter page", 60*time.Second,
		chromedp.Navigate(base+"/shelter"),
		chromedp.WaitVisible(chromedp.ID("shelter-name")))

	family := []struct{ kana, birth, sex, button string }{
		{"かが とめ", "昭和15", "2", "add-household"},
		{"かが いちろう", "1968", "1", "add-household"},
		{"かが さくら", "2015", "2", "add"},
	}
	for i, p := range family {
		run(t, tablet, "check in "+p.kana, 30*time.Second,
			chromedp.SendKeys(chromedp.ID("kana"), p.kana),
			chromedp.SendKeys(chromedp.ID("birth"), p.birth),
			chromedp.SetValue(chromedp.ID("sex"), p.sex),
			chromedp.Evaluate[chromedp.Void](`document.getElementById("sex").dispatchEvent(new Event("change", {bubbles: true}))`),
			chromedp.SetValue(chromedp.ID("area"), "大聖寺"),
			chromedp.Evaluate[chromedp.Void](`document.getElementById("area").dispatchEvent(new Event("input", {bubbles: true}))`),
			tap("#"+p.button),
		)
		waitJS(t, tablet, "the roster holds them", `document.querySelectorAll("#evacuees tbody tr").length === `+strconv.Itoa(i+1), 20*time.Second)
	}
	waitJS(t, tablet, "one household of three, all in", tallyIs(3, 0, 0, 1), 10*time.Second)
	household := get(t, tablet, "their household", eval[string](`document.querySelector("#evacuees tbody tr").dataset.household`))
	if household == "" || get(t, tablet, "rows of the household", eval[int](`document.querySelectorAll('#evacuees tr[data-household="`+household+`"]').length`)) != 3 {
		t.Fatalf("the three are not one household (%q)", household)
	}
	if get(t, tablet, "household notice gone", eval[bool](`!!document.querySelector("#household-open")`)) {
		t.Fatal("the household stays open after the last of it was checked in")
	}

	// The son takes the family out; they come back.
	son := `//tr[td[starts-with(text(), "カガ　イチロウ")]]`
	run(t, tablet, "the household goes out", 20*time.Second,
		chromedp.Click(chromedp.Search(son+`//button[@data-to="out"]`)))
	waitJS(t, tablet, "all three out", tallyIs(0, 3, 0, 1), 20*time.Second)
	run(t, tablet, "the household comes back", 20*time.Second,
		chromedp.Click(chromedp.Search(son+`//button[@data-to="in"]`)))
	waitJS(t, tablet, "all three in", tallyIs(3, 0, 0, 1), 20*time.Second)

	// The grandmother's details: dialysis, mobility help, her place, her
	// medication, and she agrees that her family may be told she is here.
	run(t, tablet, "open her details", 20*time.Second,
		chromedp.Click(chromedp.Search(`//tr[td[starts-with(text(), "カガ　トメ")]]//button[contains(@class, "details")]`)),
		chromedp.WaitVisible(chromedp.ID("detail")),
		tick("#need-dialysis"),
		tick("#need-mobility"),
		chromedp.SendKeys(chromedp.ID("d-location"), "和室 2"),
		chromedp.SendKeys(chromedp.ID("d-medication"), "降圧剤（朝）"),
		tick("#d-disclose"),
	)
	if n := get(t, tablet, "status history", eval[int](`document.querySelectorAll("#status-history li").length`)); n != 2 {
		t.Fatalf("her status history shows %d changes, want out and back", n)
	}
	run(t, tablet, "save her details", 20*time.Second, tap("#save-detail"))
	waitJS(t, tablet, "her needs on the roster", `[...document.querySelectorAll("#evacuees td.needs")].some(td => td.textContent === "透析・移動の介助")`, 20*time.Second)

	run(t, tablet, "show only special needs", 10*time.Second,
		chromedp.SetValue(chromedp.ID("filter"), "needs"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("filter").dispatchEvent(new Event("change", {bubbles: true}))`))
	waitJS(t, tablet, "one row", `document.querySelectorAll("#evacuees tbody tr").length === 1`, 10*time.Second)

	// Each detail saved is its own edit op, folded in turn: the needs on
	// the roster do not mean the consent is folded yet, so the export is
	// read again until it holds every edit (or 15 s pass).
	wants := []string{
		"カガ\u3000トメ,,1940,女,大聖寺," + household + ",在所,避難所,和室 2,透析・移動の介助,,降圧剤（朝）,,同意,",
		"カガ\u3000サクラ,,2015,女,大聖寺," + household + ",在所,避難所,,,,,,不同意,",
	}
	var csv string
	for deadline := time.Now().Add(15 * time.Second); ; {
		run(t, tablet, "export the roster", 20*time.Second,
			tap("#export-csv"),
			chromedp.WaitVisible(chromedp.ID("roster-download")))
		csv = get(t, tablet, "read the CSV", eval[string](`fetch(document.querySelector("#roster-download").href).then(r => r.text())`))
		missing := ""
		for _, want := range wants {
			if !strings.Contains(csv, want) {
				missing = want
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the roster CSV lacks %q:\n%s", missing, csv)
		}
		time.Sleep(500 * time.Millisecond)
	}

	// Printed, the roster keeps the list and drops the form and buttons.
	if _, err := chromedp.Call(tablet, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	if hidden := get(t, tablet, "the print layout", eval[bool](`!document.querySelector("#add-evacuee").checkVisibility() &&
		!document.querySelector("#export-csv").checkVisibility() && !document.querySelector("#evacuees button").checkVisibility() &&
		document.querySelector("#evacuees").checkVisibility()`)); !hidden {
		t.Fatal("the printed roster shows the form or the buttons, or not the list")
	}

	// The grandmother entered again by another volunteer: offered as the
	// same person, never merged on its own; kept as one record.
	if _, err := chromedp.Call(tablet, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
		t.Fatal(err)
	}
	run(t, tablet, "enter her again", 20*time.Second,
		chromedp.SendKeys(chromedp.ID("kana"), "カガ トメ"),
		chromedp.SendKeys(chromedp.ID("birth"), "1940"),
		tap("#add"),
		chromedp.WaitVisible(chromedp.ID("duplicate")),
		tap("#dup-same"),
	)
	waitJS(t, tablet, "kept as one", `!document.querySelector("#duplicate") && document.querySelector("#form-message")?.textContent.includes("名簿の記録のまま")`, 10*time.Second)
	if n := get(t, tablet, "rows", eval[int](`(document.getElementById("filter").value = "", document.getElementById("filter").dispatchEvent(new Event("change", {bubbles: true})), document.querySelectorAll("#evacuees tbody tr").length)`)); n > 3 {
		t.Fatalf("%d rows after the duplicate was kept as one", n)
	}
	waitJS(t, tablet, "three rows", `document.querySelectorAll("#evacuees tbody tr").length === 3`, 10*time.Second)

	atHQ(t, srv, base)
	spareSlip(t, srv, base, tablet)

	// The server holds each status change: out and back, for each of them.
	waitJS(t, tablet, "all sent", statusIs(true, 0), 30*time.Second)
	st := state.Fold(srv.Ops(t))
	for _, e := range st.Evacuees {
		h := st.History(e.ID, shelter.FieldStatus)
		if len(h) != 2 || h[0].Value != shelter.StatusOut || h[1].Value != shelter.StatusIn {
			b, _ := json.Marshal(h)
			t.Errorf("%s: status history on the server %s, want out then in", e.Kana, b)
		}
	}
}

// atHQ checks what HQ sees and answers of the family, and that each of
// its reads reached the server.
func atHQ(t *testing.T, srv *serverproc.Proc, base string) {
	t.Helper()
	hq := browser(t)
	setUp(t, hq, base, "kaga-hq", "hq")
	run(t, hq, "open HQ", 30*time.Second, chromedp.Navigate(base+"/hq"))
	waitJS(t, hq, "the shelter's occupancy", `(() => { const s = document.querySelector("#hq-shelter-daishoji");
		return !!s && s.dataset.present === "3" && s.dataset.households === "1"; })()`, 60*time.Second)
	find := func(query string, inquiry bool) string {
		t.Helper()
		run(t, hq, "search "+query, 20*time.Second,
			chromedp.Evaluate[chromedp.Void](`(() => { const q = document.getElementById("hq-query");
				q.value = "`+query+`"; q.dispatchEvent(new Event("input", {bubbles: true}));
				const c = document.getElementById("hq-inquiry");
				if (c.checked !== `+strconv.FormatBool(inquiry)+`) c.click(); })()`),
			tap("#hq-find"),
		)
		waitJS(t, hq, "the answer to "+query, `(r => !!r && r.dataset.query === "`+query+`" && r.dataset.inquiry === "`+strconv.FormatBool(inquiry)+`")(document.querySelector("#hq-results"))`, 20*time.Second)
		return get(t, hq, "results", eval[string](`document.querySelector("#hq-results").dataset.count + ": " + document.querySelector("#hq-results").textContent`))
	}
	if got := find("ｶｶ", false); !strings.HasPrefix(got, "3: ") {
		t.Fatalf("staff search for ｶｶ: %s, want the three", got)
	}
	if got := find("かが とみ", true); !strings.HasPrefix(got, "1: ") || !strings.Contains(got, "大聖寺") || !strings.Contains(got, "在所") {
		t.Fatalf("inquiry for the grandmother: %s, want her shelter", got)
	}
	if got := find("かが さくら", true); got != "0: お伝えできる情報はありません。" {
		t.Fatalf("inquiry for the granddaughter, who did not agree: %q", got)
	}
	run(t, hq, "export every roster", 20*time.Second,
		tap("#hq-export"),
		chromedp.WaitVisible(chromedp.ID("hq-download")))
	csv := get(t, hq, "read the CSV", eval[string](`fetch(document.querySelector("#hq-download").href).then(r => r.text())`))
	if n := strings.Count(csv, "大聖寺地区会館"); n != 3 {
		t.Fatalf("HQ's CSV has %d rows of the shelter, want 3:\n%s", n, csv)
	}
	waitJS(t, hq, "all sent", statusIs(true, 0), 30*time.Second)
	reads := map[string]int{}
	for _, op := range srv.Ops(t) {
		var r access.Read
		if op.Kind == access.OpRead && json.Unmarshal(op.Body, &r) == nil {
			reads[r.What]++
		}
	}
	if reads[access.Search] != 1 || reads[access.Inquiry] != 2 || reads[access.Export] != 2 || reads[access.Print] != 0 {
		t.Fatalf("reads on the server %v, want 1 search, 2 inquiries, 2 exports (the shelter's and HQ's)", reads)
	}
}

// tallyIs is a script checking the shelter's tally.
func tallyIs(present, out, left, households int) string {
	return `(() => { const t = document.querySelector("#tally"); return !!t && t.dataset.present === "` + strconv.Itoa(present) +
		`" && t.dataset.out === "` + strconv.Itoa(out) + `" && t.dataset.left === "` + strconv.Itoa(left) + `" && t.dataset.households === "` + strconv.Itoa(households) + `"; })()`
}

// spareSlip prints a QR slip for the granddaughter, who has no phone,
// and has a second tablet of the shelter scan it: it finds her record
// (she is in already) and makes no new one.
func spareSlip(t *testing.T, srv *serverproc.Proc, base string, tablet context.Context) {
	t.Helper()
	run(t, tablet, "make her slip", 20*time.Second,
		chromedp.Click(chromedp.Search(`//tr[td[starts-with(text(), "カガ　サクラ")]]//button[contains(@class, "details")]`)),
		chromedp.WaitVisible(chromedp.ID("show-slip")),
		tap("#show-slip"),
		chromedp.WaitVisible(chromedp.ID("slip-qr")),
	)
	record := get(t, tablet, "her record", eval[string](`document.querySelector("#slip").dataset.record`))
	img := shownImage(t, tablet, "#slip-qr")
	if text, err := qrcode.Decode(img); err != nil || text != shelter.SlipText("shelter-daishoji", record) {
		t.Fatalf("the slip reads %q, %v", text, err)
	}
	if _, err := chromedp.Call(tablet, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	if !get(t, tablet, "the slip printed alone", eval[bool](`document.querySelector("#slip-qr").checkVisibility() && !document.querySelector("#evacuees").checkVisibility()`)) {
		t.Fatal("printing the slip prints more than the slip")
	}
	chromedp.Call(tablet, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{})

	second := camera(t, heldUp(t, img))
	setUp(t, second, base, "shelter-daishoji", "shelter")
	run(t, second, "open the face and QR check-in", 30*time.Second, chromedp.Navigate(base+"/identify"))
	waitJS(t, second, "the roster synced", readOps+`readOps().then(ops => ops.filter(o => o.kind === "shelter.evacuee.add").length === 3)`, 60*time.Second)
	waitJS(t, second, "the camera on", `!!document.querySelector("#camera-preview video")`, 60*time.Second)
	run(t, second, "scan her slip", 10*time.Second, tap("#pass-scan"))
	waitJS(t, second, "her record found", `document.querySelector("#arrival")?.dataset.result === "already" && document.querySelector("#arrival").textContent.includes("カガ　サクラ")`, 30*time.Second)
	if adds := srv.Count(t, shelter.OpEvacueeAdd); adds != 3 {
		t.Fatalf("%d check-ins on the server after the slip, want the 3", adds)
	}
}
