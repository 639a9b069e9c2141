package e2e

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/transit"
	"smartpass.city/smartpass/app/wallet"
	"smartpass.city/smartpass/syncproto"
	"smartpass.city/smartpass/syncproto/wsconn"
)

// TestBusBoardsByFace is the vehicle tablet end to end, against the real
// server and the demo operator's distance line: the demo father opens
// his family's account and registers his daughter's face (she is in
// elementary school) for the bus, then recovers the account on his own
// phone and registers his; each takes QR passes, and the city desk tops
// both wallets up ¥1,000 in cash. The tablet, set up from the demo codes,
// drives trip line-0800; the server goes away, and at D2 (zone Z1) both
// board by face: at this model's accuracy the transit rule never trusts a
// face alone (risk.Always), so the second-factor prompt asks each for
// their pass, and each is shown the numbered ticket 2. Two zones on, at
// D4 (Z3), each alights and is shown their fare, provisional: adult ¥300,
// child ¥150. At D5 the driver sets the door to alighting only and the
// father, no longer aboard, is told in words that no boarding is
// recorded. The server comes back; the taps sync, the fares show as
// posted, the server holds two boardings and two alightings, and the
// ledger verifies with ¥2,000 − ¥450 left and no debt: each fare posted
// once. The boarding throughput is logged (app time from the rider's
// decision to the op in the log).
func TestBusBoardsByFace(t *testing.T) {
	srv, addr, data := loggedServer(t)
	base := "http://" + addr
	bus := facility.DemoOperator

	phone := camera(t, faceVideo(t, "sheldon", "sheldon1.png", "sheldon5.png", "sheldon1.png", "sheldon3.png"))
	father, daughter := openFamily(t, phone, base)
	registerFace(t, phone, `#household .member .face-link`, bus)
	run(t, phone, "back to the account", 30*time.Second, tap("#back-account"))
	hers := takePasses(t, phone, `#household .member .pass-show`, 3)
	chromedp.Cancel(phone) // the family's phone is done: its Chromium leaves the cores to his

	his := camera(t, faceVideo(t, "leonard", "leonard2.png", "leonard3.png", "leonard2.png", "mirror:leonard3.png"))
	recoverAccount(t, his, base)
	registerFace(t, his, `#holder .face-link`, bus)
	run(t, his, "back to the account", 30*time.Second, tap("#back-account"))
	yours := takePasses(t, his, `#holder .pass-show`, 3)

	key := srv.Enroll(t, "desk-cash", "kaga-hq", "registrar")
	var topUps []syncproto.Op
	for i, who := range []string{father, daughter} {
		b, _ := json.Marshal(wallet.TopUpCash{Resident: who, Amount: 1_000, Staff: "市民課 山田"})
		topUps = append(topUps, syncproto.Op{Seq: uint64(i + 1), HLC: uint64(time.Now().UnixMilli()+int64(i)) << 16, Kind: wallet.OpTopUpCash, Body: b})
	}
	if err := wsconn.PushAll(context.Background(), "ws://"+addr+"/sync", "desk-cash", key, topUps); err != nil {
		t.Fatal(err)
	}

	frames := faceAndPasses(t, "leonard", []string{"leonard2.png", "leonard3.png", "leonard2.png", "mirror:leonard3.png"}, yours)
	frames = append(frames, faceAndPasses(t, "sheldon", []string{"sheldon2.png", "sheldon5.png", "sheldon2.png", "sheldon3.png"}, hers)...)
	tablet := camera(t, writeVideo(t, frames...))
	setUp(t, tablet, base, bus, "vehicle")
	run(t, tablet, "open the vehicle screen", 30*time.Second, chromedp.Navigate(base+"/vehicle"))
	waitJS(t, tablet, "both templates synced", `document.querySelector("#gallery-size")?.dataset.count === "2"`, 60*time.Second)
	waitJS(t, tablet, "both riders' fare facts synced", readOps+`readOps().then(ops => ops.filter(o => o.kind === "`+transit.OpRider+`").length === 2)`, 60*time.Second)
	waitJS(t, tablet, "online, nothing to send", statusIs(true, 0), 30*time.Second)

	// Offline all the way: the driver picks the trip with no signal.
	srv.Stop(t)
	waitJS(t, tablet, "offline", `document.querySelector("#sync-status")?.dataset.online === "false"`, 30*time.Second)
	run(t, tablet, "pick trip line-0800, on to D2", 30*time.Second, tap(`button.trip[data-trip="line-0800"]`), tap("#stop-next"))
	waitJS(t, tablet, "at D2", `document.querySelector("#vehicle")?.dataset.stop === "D2"`, 10*time.Second)

	// seen collects what the panel shows, as riders come and go.
	const seen = `(() => {
		window.seen = window.seen || new Set();
		const v = document.querySelector("#vehicle");
		if (v && v.dataset.pending) window.seen.add("pending:" + v.dataset.pending);
		const n = document.querySelector("#vehicle-note");
		if (n) window.seen.add("note:" + n.dataset.reason);
		const k = document.querySelector("#vehicle-ticket");
		if (k) window.seen.add("ticket:" + k.dataset.ticket);
		const f = document.querySelector("#vehicle-fare");
		if (f) window.seen.add("fare:" + f.dataset.class + ":" + f.dataset.category + ":" + f.dataset.amount);
		return window.seen;
	})()`
	has := func(items ...string) string {
		js := `(s => true`
		for _, it := range items {
			js += ` && s.has("` + it + `")`
		}
		return js + `)(` + seen + `)`
	}
	start := time.Now()
	waitJS(t, tablet, "both board at D2, each asked for the pass", has("note:second", "ticket:2")+` && document.querySelector("#vehicle").dataset.boarded === "2"`, 180*time.Second)
	t.Logf("two riders boarded in %s of wall time (camera loop, head turns and passes included)", time.Since(start).Round(time.Millisecond))
	taps := get(t, tablet, "taps", eval[string](`document.querySelector("#vehicle").dataset.taps`))
	ms := get(t, tablet, "app time per tap", eval[string](`document.querySelector("#vehicle").dataset.tapMs`))
	t.Logf("boarding throughput: %s taps, %s ms app time per tap from the rider's decision to the op in the log", taps, ms)

	run(t, tablet, "next stop: D3", 10*time.Second, tap("#stop-next"))
	run(t, tablet, "next stop: D4", 10*time.Second, tap("#stop-next"))
	waitJS(t, tablet, "both alight at D4 and see their fares", has("fare:adult:adult:300", "fare:child:child:150")+` && document.querySelector("#vehicle").dataset.aboard === "0"`, 180*time.Second)
	if state := get(t, tablet, "the last fare's state", eval[string](`document.querySelector("#vehicle-result").dataset.state`)); state != "provisional" {
		t.Fatalf("a fare taken offline shows as %q, want provisional", state)
	}

	// A bad tap: the alighting door at D5, and the father not aboard.
	run(t, tablet, "next stop: D5", 10*time.Second, tap("#stop-next"), tap(`button.door[data-door="alight"]`))
	waitJS(t, tablet, "told in words that no boarding is recorded", has("note:not-aboard")+` && document.querySelector("#vehicle-note")?.textContent.includes("乗車の記録がありません")`, 120*time.Second)

	srv = startServer(t, addr, data)
	logOnFailure(t, srv)
	waitJS(t, tablet, "everything sent", statusIs(true, 0), 60*time.Second)
	waitJS(t, tablet, "the last fare posted", `document.querySelector("#vehicle-result")?.dataset.state === "posted"`, 30*time.Second)
	if b, a := srv.Count(t, transit.OpBoard), srv.Count(t, transit.OpAlight); b != 2 || a != 2 {
		t.Fatalf("the server holds %d boardings and %d alightings, want 2 and 2", b, a)
	}
	r := ledgerVerify(t, srv)
	if r.Outstanding != 2_000-300-150 || r.Debt != 0 {
		t.Fatalf("the ledger holds ¥%d unused and ¥%d debt, want ¥1,550 and none (¥300 and ¥150 posted once each)", r.Outstanding, r.Debt)
	}
}
