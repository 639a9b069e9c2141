package e2e

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"smartpass.city/smartpass/app/hospital"
	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/server/serverproc"
)

// TestHospitalReception is a hospital's reception with no paper card: a
// resident registered for the hospital is recognised; staff link the
// hospital's patient number once; he agrees to share his medication and
// picks internal medicine, and is number 1 in the day's queue. Recognised
// again, his patient number is shown without anyone typing it. A patient
// without a pass is checked by staff by sight. The desk's queue, on
// another tablet of the hospital, lists all three.
func TestHospitalReception(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	base := "http://" + addr
	srv := startServer(t, addr, t.TempDir())
	registerNatively(t, srv, addr, template.Template{Resident: "R-0001", Facilities: []string{"kaga-medical"}})

	term := terminal(t, srv, base, faceVideo(t, "sheldon", "sheldon2.png", "sheldon5.png", "sheldon2.png", "sheldon3.png"),
		"kaga-medical", "reception", "1", identify.Accepted, "R-0001")
	run(t, term, "link his patient number and check him in", 30*time.Second,
		chromedp.WaitVisible(chromedp.ID("patient-number")),
		chromedp.SendKeys(chromedp.ID("patient-number"), "0012345"),
		tap("#link-patient"),
		chromedp.WaitVisible(chromedp.ID("patient-known")),
		tap("#share-medication"),
		tap(`button.dept[data-dept="internal"]`),
	)
	waitJS(t, term, "number 1", `document.querySelector("#rx-done")?.dataset.number === "1"`, 10*time.Second)

	// The next time (the camera still shows him), his number is known.
	waitJS(t, term, "recognised again, number remembered", `document.querySelector("#patient-known")?.dataset.patient === "0012345"`, 90*time.Second)
	run(t, term, "check him in for surgery", 10*time.Second, tap(`button.dept[data-dept="surgery"]`))
	waitJS(t, term, "number 2", `document.querySelector("#rx-done")?.dataset.number === "2"`, 10*time.Second)

	// Somebody with no pass: staff check by sight.
	waitJS(t, term, "the panel cleared", `!document.querySelector("#rx-done")`, 30*time.Second)
	press(t, term, "staff check by sight", "#staff-check")
	fill(t, term, "patient-number", "777")
	press(t, term, "ENT", `#reception[data-via="staff"] button.dept[data-dept="ent"]`)
	// (Its number is the tablet's count of the day's receptions so far;
	// the desk's queue below is the order that counts.)
	waitJS(t, term, "checked in", `document.querySelector("#rx-done")?.dataset.patient === "777"`, 10*time.Second)

	desk := browser(t)
	setUp(t, desk, base, "kaga-medical", "reception")
	run(t, desk, "open the queue", 30*time.Second, chromedp.Navigate(base+"/queue"))
	waitJS(t, desk, "the day's queue", `[...document.querySelectorAll("#queue tbody tr")].map(r => r.dataset.patient + "/" + r.dataset.dept).join(" ") === "0012345/internal 0012345/surgery 777/ent"`, 60*time.Second)

	var links, receptions int
	for _, op := range srv.Ops(t) {
		switch op.Kind {
		case hospital.OpLink:
			links++
		case hospital.OpReception:
			var r hospital.Reception
			json.Unmarshal(op.Body, &r)
			if r.Patient == "0012345" && r.Department == "internal" && (len(r.Shares) != 1 || r.Shares[0] != "medication") {
				t.Errorf("his first reception shares %v, want his medication only", r.Shares)
			}
			receptions++
		}
	}
	if links != 1 || receptions != 3 {
		t.Fatalf("the server holds %d links and %d receptions, want 1 and 3", links, receptions)
	}
}
