package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"smartpass.city/smartpass/app/face/cardmatch"
	"smartpass.city/smartpass/app/face/facetest"
	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/j2k/opjtool"
	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/server/demo"
	"smartpass.city/smartpass/server/serverproc"
)

// keysPresented counts the keys the demo's simulated cards received
// (a VERIFY with data), as the server logs them: in this test, only
// 照合番号B. The server writes its log as it goes: the count is read
// once it has stayed the same for a second.
func keysPresented(srv *serverproc.Proc) int {
	n := -1
	for {
		m := strings.Count(srv.Log(), `msg="demo card: a key presented"`)
		if m == n {
			return n
		}
		n = m
		time.Sleep(time.Second)
	}
}

// cardFaceCheck opens the card-face check on a shelter's identify
// screen, types key and reads the card.
func cardFaceCheck(t *testing.T, ctx context.Context, key string) {
	t.Helper()
	run(t, ctx, "open the card-face check", 30*time.Second,
		tap("#card-face"),
		chromedp.WaitVisible(chromedp.ID("keyb")),
	)
	// The codec loads as the check opens, while a person types the 14
	// digits: the decode time measured is the decode's alone.
	waitJS(t, ctx, "the codec loaded", `document.querySelector("#cardface")?.dataset.codec === "true"`, 60*time.Second)
	run(t, ctx, "type 照合番号B and read the card", 30*time.Second,
		chromedp.SendKeys(chromedp.ID("keyb"), key),
		tap("#cardface-read"),
	)
}

// cardFaceOutcome waits for the check's outcome and returns it with the
// times the screen measured.
func cardFaceOutcome(t *testing.T, ctx context.Context) (outcome, score, decode, decide string) {
	t.Helper()
	waitJS(t, ctx, "the card-face outcome", `!!document.querySelector("#cardface-result")`, 180*time.Second)
	attr := func(name string) string {
		return get(t, ctx, "read "+name, eval[string](`document.querySelector("#cardface-result").dataset.`+name))
	}
	return attr("outcome"), attr("score"), attr("decodeMs"), attr("decideMs")
}

// modelWorking is true once the screen's face pipeline has looked at a
// frame: an outcome, or a guide past "wait".
const modelWorking = `!!document.querySelector("#identify-result") ||
	(document.querySelector("#face-guide")?.dataset.key || "face.g.wait") !== "face.g.wait"`

// TestCardFaceAtShelter: a person with a My Number Card and no
// registered face checks in at a shelter by 照合番号B and their live face
// (the fake camera shows the person of the card's photo, turning as
// asked): the card's JPEG 2000 photo is decoded in Chromium, compared
// 1:1, accepted, and staff type the reading to check them in. A
// different person with that card is refused and staff are told to
// check by sight. A wrong 照合番号B is refused with the tries the card
// reports, and the app never sends it again: the simulated card sees
// exactly one key per check.
func TestCardFaceAtShelter(t *testing.T) {
	ctx := context.Background()
	if err := opjtool.Check(); err != nil {
		t.Fatal(err) // deps.sh installs libopenjp2-tools
	}
	// Taro's card holds a card-like portrait of Sheldon (sheldon1.png),
	// made as the threshold's basis made its card photos.
	photo, err := opjtool.Encode(ctx, cardmatch.CardLike(facetest.Identity(t, "sheldon", "sheldon1.png")), cardmatch.PhotoBytes)
	if err != nil {
		t.Fatal(err)
	}
	photoPath := filepath.Join(t.TempDir(), "card.j2k")
	if err := os.WriteFile(photoPath, photo, 0o600); err != nil {
		t.Fatal(err)
	}
	addr := serverproc.FreeAddr(t)
	base := "http://" + addr
	srv := serverproc.Start(t, serverBin, []string{demo.PhotoEnv + "=" + photoPath}, addr,
		"-data", t.TempDir(), "-assets", filepath.Join(work, "assets"), "-dev", "-demo")
	srv.WaitHealthy(t)
	const here = "shelter-daishoji"
	screen := "/identify?usb=rcs380&card=taro"

	// The card's holder, other photos of him turning.
	him := camera(t, faceVideo(t, "sheldon", "sheldon2.png", "sheldon5.png", "sheldon2.png", "sheldon3.png"))
	setUp(t, him, base, here, "shelter")
	run(t, him, "open the shelter's check-in screen", 30*time.Second, chromedp.Navigate(base+screen))
	waitJS(t, him, "the face model working", modelWorking, 120*time.Second)
	cardFaceCheck(t, him, "55040120351234")
	out, score, decode, decide := cardFaceOutcome(t, him)
	t.Logf("the holder: %s, score %s; card photo decoded in Chromium in %s ms, the 1:1 decision (decode, face pipeline on the photo, comparison) in %s ms", out, score, decode, decide)
	if out != identify.Accepted {
		t.Fatalf("the card's holder: outcome %q (score %s), want accepted", out, score)
	}
	if n := keysPresented(srv); n != 1 {
		t.Fatalf("%d keys reached the card, want 1", n)
	}
	run(t, him, "type the reading and check in", 20*time.Second,
		chromedp.SendKeys(chromedp.ID("cardface-kana"), "カガタロウ"),
		tap("#cardface-checkin"),
		chromedp.WaitVisible(chromedp.ID("arrival")),
	)
	waitIdentifiedBy(t, srv, identify.Identification{Facility: here, Method: identify.MethodCardFace, Outcome: identify.Accepted})
	waitJS(t, him, "the record synced", statusIs(true, 0), 30*time.Second)
	found := false
	for _, op := range srv.Ops(t) {
		if op.Kind == shelter.OpEvacueeAdd && strings.Contains(string(op.Body), "カガタロウ") && strings.Contains(string(op.Body), `"birth_year":1980`) {
			found = true
		}
	}
	if !found {
		t.Fatal("no shelter record of the person checked in, with the card's birth year")
	}

	// Someone else holding the same card.
	other := camera(t, faceVideo(t, "leonard", "leonard2.png", "leonard3.png", "leonard2.png", "mirror:leonard3.png"))
	setUp(t, other, base, here, "shelter")
	run(t, other, "open the shelter's check-in screen", 30*time.Second, chromedp.Navigate(base+screen))
	waitJS(t, other, "the face model working", modelWorking, 120*time.Second)
	cardFaceCheck(t, other, "55040120351234")
	out, score, decode, decide = cardFaceOutcome(t, other)
	t.Logf("another person: %s, score %s; decode %s ms, decision %s ms", out, score, decode, decide)
	if out != identify.Unknown {
		t.Fatalf("another person with the card: outcome %q (score %s), want refused", out, score)
	}
	waitJS(t, other, "staff told to check by sight", `document.querySelector("#cardface-result").textContent.includes("目で見比べて")`, 10*time.Second)
	waitIdentifiedBy(t, srv, identify.Identification{Facility: here, Method: identify.MethodCardFace, Outcome: identify.Unknown})

	// A wrong 照合番号B: refused with the card's tries left, sent once.
	before := keysPresented(srv)
	run(t, other, "close the check", 10*time.Second, tap("#cardface-close"))
	cardFaceCheck(t, other, "55040120359999")
	waitJS(t, other, "the tries left", `document.querySelector("#cardface-tries")?.dataset.tries === "9"`, 60*time.Second)
	waitJS(t, other, "wrong, in words", `(document.querySelector("#cardface-error")?.textContent || "").includes("あと9回")`, 10*time.Second)
	time.Sleep(3 * time.Second) // time for a retry the app must not make
	if n := keysPresented(srv) - before; n != 1 {
		t.Fatalf("a wrong 照合番号B reached the card %d times, want once", n)
	}
	// A key of the wrong form is not sent at all.
	run(t, other, "type 13 digits", 10*time.Second,
		chromedp.SendKeys(chromedp.ID("keyb"), "5504012035123"),
		tap("#cardface-read"),
	)
	waitJS(t, other, "the form refused", `(document.querySelector("#cardface-error")?.textContent || "").includes("送っていません")`, 10*time.Second)
	if n := keysPresented(srv) - before; n != 1 {
		t.Fatalf("a key of the wrong form reached the card (%d keys)", n)
	}
}
