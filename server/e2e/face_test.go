package e2e

import (
	"context"
	"encoding/json"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"smartpass.city/smartpass/app/browsertest"
	"smartpass.city/smartpass/app/face"
	"smartpass.city/smartpass/app/face/embed"
	"smartpass.city/smartpass/app/face/facetest"
	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/server/serverproc"
	"smartpass.city/smartpass/syncproto"
	"smartpass.city/smartpass/syncproto/wsconn"
)

// faceVideo writes a camera video (Y4M) of photos of one person from the
// shared test set, each shown for 1.5 s, as Chromium's fake camera plays
// it (in a loop). A file name starting with "mirror:" is that photo
// flipped, a head turned the other way.
func faceVideo(t *testing.T, identity string, files ...string) string {
	t.Helper()
	return writeVideo(t, faceAndPasses(t, identity, files, nil)...)
}

// writeVideo writes frames as a camera video (Y4M, 15 frames a second
// each held as the file says) for Chromium's fake camera, and returns
// its path.
func writeVideo(t *testing.T, frames ...*image.RGBA) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "camera.y4m")
	if err := facetest.WriteY4M(path, frames, 15); err != nil {
		t.Fatal(err)
	}
	return path
}

// flatVideo is a camera video of pic as a flat picture held up and
// turned both ways (±35°): a print, or a phone screen.
func flatVideo(t *testing.T, pic *image.RGBA) string {
	t.Helper()
	return writeVideo(t, pic, facetest.Turned(pic, 35), pic, facetest.Turned(pic, -35))
}

// camera starts Chromium whose camera plays video, with the permission
// prompt answered yes.
func camera(t *testing.T, video string) context.Context {
	t.Helper()
	ctx, _ := browsertest.Start(t, "",
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", video),
	)
	return ctx
}

// setUp makes the browser a device of facility and role with a demo code.
func setUp(t *testing.T, ctx context.Context, base, facility, role string) {
	t.Helper()
	run(t, ctx, "set up "+facility+" "+role, 60*time.Second,
		chromedp.Navigate(base+"/setup"),
		tap(`button.demo-code[data-facility="`+facility+`"][data-role="`+role+`"]`),
		chromedp.WaitVisible(chromedp.ID("setup-done")),
	)
}

// terminal sets up a terminal of facility and role whose camera plays
// video, opens its face check once it holds count templates, and checks
// that its first outcome is want (accepting resident who) and that the
// server received it (a terminal records every identification). It
// returns the browser.
func terminal(t *testing.T, srv *serverproc.Proc, base, video, facility, role, count, want, who string) context.Context {
	t.Helper()
	term := camera(t, video)
	setUp(t, term, base, facility, role)
	run(t, term, "open the face check", 30*time.Second, chromedp.Navigate(base+"/identify"))
	waitJS(t, term, "templates synced", `document.querySelector("#gallery-size")?.dataset.count === "`+count+`"`, 60*time.Second)
	start := time.Now()
	got := outcome(t, term)
	t.Logf("outcome %q after %s", got, time.Since(start).Round(time.Millisecond))
	if got != want {
		t.Fatalf("outcome %q, want %q", got, want)
	}
	resident := ""
	if want == identify.Accepted || want == identify.Expired {
		resident = who
	}
	waitIdentified(t, srv, facility, want, resident)
	return term
}

// outcome waits for the identify screen's first outcome and returns it.
func outcome(t *testing.T, ctx context.Context) string {
	t.Helper()
	waitJS(t, ctx, "an identification outcome", `!!document.querySelector("#identify-result")`, 90*time.Second)
	return get(t, ctx, "read the outcome", eval[string](`document.querySelector("#identify-result").dataset.outcome`))
}

// TestFaceRegisterThenIdentify is the face path end to end in headless
// Chromium, camera included: the city desk registers Sheldon's face for
// the play park only, its camera playing a video of his photos frontal,
// turned to his left and to his right, which passes the head-turn check;
// a play-park terminal whose camera shows other photos of Sheldon turning
// admits him; one showing Leonard turning does not; and the hospital, which
// he did not consent to, has no template of him and does not recognise
// him.
func TestFaceRegisterThenIdentify(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	base := "http://" + addr
	srv := startServer(t, addr, t.TempDir())

	desk := camera(t, faceVideo(t, "sheldon", "sheldon1.png", "sheldon5.png", "sheldon1.png", "sheldon3.png"))
	setUp(t, desk, base, "kaga-hq", "registrar")
	run(t, desk, "open face registration", 30*time.Second, chromedp.Navigate(base+"/face/register"))
	start := time.Now()
	headTurns(t, desk)
	t.Logf("model loaded and head-turn check passed after %s", time.Since(start).Round(time.Millisecond))
	run(t, desk, "register the face for the play park", 30*time.Second,
		chromedp.SendKeys(chromedp.ID("resident"), "R-0001"),
		tap("#fac-kaga-playpark"),
		tap("#face-save"),
	)
	waitJS(t, desk, "the registration saved", `!!document.querySelector("#face-saved")`, 30*time.Second)
	waitJS(t, desk, "the template sent", `document.querySelector("#sync-status")?.dataset.pending === "0" && document.querySelector("#sync-status")?.dataset.online === "true"`, 30*time.Second)

	cases := []struct {
		name     string
		video    string
		facility string
		role     string
		count    string // templates the terminal holds
		want     string
	}{
		// Terminals ask for a head turn first: the videos turn, with
		// other photos than the desk's.
		{"the same person at the park", faceVideo(t, "sheldon", "sheldon2.png", "sheldon5.png", "sheldon2.png", "sheldon3.png"), "kaga-playpark", "playpark", "1", "accepted"},
		{"someone else at the park", faceVideo(t, "leonard", "leonard2.png", "leonard3.png", "leonard2.png", "mirror:leonard3.png"), "kaga-playpark", "playpark", "1", "unknown"},
		{"the same person at the hospital, without consent", faceVideo(t, "sheldon", "sheldon2.png", "sheldon5.png", "sheldon2.png", "sheldon3.png"), "kaga-medical", "reception", "0", "unknown"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			term := terminal(t, srv, base, c.video, c.facility, c.role, c.count, c.want, "R-0001")
			if c.want == "accepted" {
				// The park learns only that the child may enter.
				text := get(t, term, "result text", eval[string](`document.querySelector("#identify-result").innerText`))
				if len(text) == 0 || get(t, term, "no resident shown", eval[bool](`!!document.querySelector("#identify-resident")`)) {
					t.Fatalf("play park result shows %q", text)
				}
				// The staff overlay, for the README.
				run(t, term, "show the overlay", 10*time.Second, tap("#face-overlay-toggle"))
				waitJS(t, term, "the overlay", `!!document.querySelector("#face-overlay")`, 10*time.Second)
				// The terminal computed the frames with the SIMD kernel
				// in its Web Worker, off the page's thread.
				if fig := get(t, term, "the figures", eval[string](`document.querySelector("#face-figures").innerText`)); !strings.HasSuffix(fig, " SIMD worker") {
					t.Errorf("the overlay's figures %q do not end in \"SIMD worker\": the terminal ran Go's loops or ran them on the page", fig)
				}
				buf := get(t, term, "screenshot", chromedp.FullScreenshot(100))
				if err := os.WriteFile(filepath.Join(root, "assets", "screenshots", "face-identify.png"), buf, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// printVideo is a camera video of a printed photo held up and turned
// left and right: Sheldon's frontal photo as a flat picture turned ±35°.
func printVideo(t *testing.T) string {
	t.Helper()
	return flatVideo(t, facetest.CameraFrame(facetest.Identity(t, "sheldon", "sheldon1.png"), 2))
}

// TestFaceRegisterRefusesAPrint: at the desk, a printed photo held up and
// turned left and right (the video shows the frontal photo as a flat
// picture turned ±35°) is recognised as flat, and nothing is registered.
func TestFaceRegisterRefusesAPrint(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	base := "http://" + addr
	srv := startServer(t, addr, t.TempDir())

	desk := camera(t, printVideo(t))
	setUp(t, desk, base, "kaga-hq", "registrar")
	run(t, desk, "open face registration", 30*time.Second, chromedp.Navigate(base+"/face/register"))
	run(t, desk, "type the resident", 10*time.Second, chromedp.SendKeys(chromedp.ID("resident"), "R-0002"))
	printRefused(t, desk, srv)
}

// printRefused waits for the face registration on ctx to see a print as
// flat, then tries to save it for the play park: refused, saying the
// face check is not done, and nothing reaches the server.
func printRefused(t *testing.T, ctx context.Context, srv *serverproc.Proc) {
	t.Helper()
	waitJS(t, ctx, "the print recognised as flat", `document.querySelector("#face-guide")?.dataset.key === "face.l.flat"`, 120*time.Second)
	run(t, ctx, "try to register anyway", 30*time.Second,
		tap("#fac-kaga-playpark"),
		tap("#face-save"),
	)
	waitJS(t, ctx, "the refusal", `(document.querySelector("#face-error") || {}).textContent?.includes("顔の確認がまだ終わっていません")`, 10*time.Second)
	if n := srv.Count(t, template.OpPut); n != 0 {
		t.Fatalf("%d templates stored from a print", n)
	}
}

// TestReceptionScreensPrints: a hospital reception terminal asks for one
// head turn before it matches. Sheldon, registered for the hospital,
// turning as asked is checked in with his resident number; his photo as
// a print or on a phone screen, held up and turned, is refused as a
// photo and never matched.
func TestReceptionScreensPrints(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	base := "http://" + addr
	srv := startServer(t, addr, t.TempDir())

	front := registerNatively(t, srv, addr, template.Template{Resident: "R-0001", Facilities: []string{"kaga-medical"}})

	cases := []struct {
		name, video, want string
	}{
		{"the person, turning", faceVideo(t, "sheldon", "sheldon2.png", "sheldon5.png", "sheldon2.png", "sheldon3.png"), "accepted"},
		{"a print of the person, turned", flatVideo(t, front), "flat"},
		{"a phone screen showing the person, turned", flatVideo(t, facetest.Screen(front)), "flat"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			term := terminal(t, srv, base, c.video, "kaga-medical", "reception", "1", c.want, "R-0001")
			if c.want == "accepted" {
				if shown := get(t, term, "resident shown", eval[string](`document.querySelector("#identify-resident")?.innerText || ""`)); !strings.Contains(shown, "R-0001") {
					t.Fatalf("reception shows %q", shown)
				}
			}
		})
	}
}

// waitIdentified waits until the server holds an identification of
// outcome (and resident) recorded by a terminal of facility: terminals
// record every outcome, and it reaches the server with their next push.
func waitIdentified(t *testing.T, srv *serverproc.Proc, facility, outcome, resident string) {
	t.Helper()
	waitIdentifiedBy(t, srv, identify.Identification{Facility: facility, Method: identify.MethodFace, Outcome: outcome, Resident: resident})
}

// waitIdentifiedBy waits until the server holds an identification like
// want (its score aside).
func waitIdentifiedBy(t *testing.T, srv *serverproc.Proc, want identify.Identification) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, op := range srv.Ops(t) {
			var i identify.Identification
			if op.Kind == identify.OpIdentified && json.Unmarshal(op.Body, &i) == nil &&
				i.Facility == want.Facility && i.Method == want.Method && i.Outcome == want.Outcome && i.Resident == want.Resident {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no identification %+v on the server", want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// registerNatively records, as the city desk would, the template of
// Sheldon's frontal photo as reg's resident, facilities and expiry,
// computed here with the same pipeline, and returns the camera frame it
// came from.
func registerNatively(t *testing.T, srv *serverproc.Proc, addr string, reg template.Template) *image.RGBA {
	t.Helper()
	return registerPhoto(t, srv, addr, reg, "sheldon", "sheldon1.png")
}

// registerPhoto is registerNatively with the photo of identity in file.
// Each resident's registration comes from a desk device of its own, so
// several can be registered in one test.
func registerPhoto(t *testing.T, srv *serverproc.Proc, addr string, reg template.Template, identity, file string) *image.RGBA {
	t.Helper()
	p, err := face.New(facetest.Model(t), embed.Options{})
	if err != nil {
		t.Fatal(err)
	}
	front := facetest.CameraFrame(facetest.Identity(t, identity, file), 2)
	r, err := p.Process(front, face.Options{Limits: face.DefaultLimits})
	if err != nil {
		t.Fatal(err)
	}
	reg.Model, reg.Vec = p.Model(), template.Pack(r.Embedding)
	body, _ := json.Marshal(reg)
	device := "desk-native-" + reg.Resident
	key := srv.Enroll(t, device, "kaga-hq", "registrar")
	if err := wsconn.PushAll(context.Background(), "ws://"+addr+"/sync", device, key, []syncproto.Op{{Seq: 1, HLC: 1, Kind: template.OpPut, Body: body}}); err != nil {
		t.Fatal(err)
	}
	return front
}

// templatesHeld is a script that counts the template ops of resident in
// the terminal's IndexedDB.
func templatesHeld(resident string) string {
	return readOps + `readOps().then(ops => ops.filter(o => o.kind === "face.template.put" && o.body.resident === "` + resident + `").length)`
}

// TestFaceDeletionReachesTerminals: a resident asks the city desk to
// delete their face. The park terminal, which admitted him a moment ago,
// drops the template at its next sync, keeps no copy of it in IndexedDB,
// and no longer recognises him.
func TestFaceDeletionReachesTerminals(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	base := "http://" + addr
	srv := startServer(t, addr, t.TempDir())
	registerNatively(t, srv, addr, template.Template{Resident: "R-0001", Facilities: []string{"kaga-playpark"}})

	turning := faceVideo(t, "sheldon", "sheldon2.png", "sheldon5.png", "sheldon2.png", "sheldon3.png")
	term := terminal(t, srv, base, turning, "kaga-playpark", "playpark", "1", identify.Accepted, "R-0001")
	if n := get(t, term, "templates in IndexedDB", eval[int](templatesHeld("R-0001"))); n != 1 {
		t.Fatalf("before deletion the terminal holds %d templates of R-0001, want 1", n)
	}

	desk := camera(t, turning)
	setUp(t, desk, base, "kaga-hq", "registrar")
	run(t, desk, "delete the face", 30*time.Second,
		chromedp.Navigate(base+"/face/register"),
		chromedp.WaitVisible(chromedp.ID("fac-kaga-playpark")), // the facility list has arrived
		chromedp.SendKeys(chromedp.ID("delete-resident"), "R-0001"),
		tap("#face-delete-button"),
	)
	waitJS(t, desk, "the deletion recorded", `!!document.querySelector("#face-deleted")`, 30*time.Second)

	waitJS(t, term, "the template dropped", `document.querySelector("#gallery-size")?.dataset.count === "0"`, 60*time.Second)
	if n := get(t, term, "templates in IndexedDB", eval[int](templatesHeld("R-0001"))); n != 0 {
		t.Fatalf("after deletion the terminal still holds %d templates of R-0001 in IndexedDB", n)
	}
	waitJS(t, term, "a new outcome", `document.querySelector("#identify-result")?.dataset.outcome === "unknown"`, 60*time.Second)

	// The server erased it too: the template's op keeps its place in the
	// log, without the face.
	erased := 0
	for _, op := range srv.Ops(t) {
		if op.Kind == template.OpErased && strings.Contains(string(op.Body), `"R-0001"`) {
			erased++
		}
		if r, _ := template.Erases(op); r == "R-0001" && op.Kind == template.OpPut {
			t.Fatalf("the server still holds the template: %s", op.Body)
		}
		if op.Kind == template.OpErased && strings.Contains(string(op.Body), "vec") {
			t.Fatalf("erased op keeps face data: %s", op.Body)
		}
	}
	if erased != 1 {
		t.Fatalf("%d erased template ops of R-0001 on the server, want 1", erased)
	}
}

// TestFaceExpiredAtTerminal: a face whose registration has expired is
// matched but not admitted: the terminal says the registration has
// expired and how to renew it, without saying whose it is, and records
// the outcome.
func TestFaceExpiredAtTerminal(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	base := "http://" + addr
	srv := startServer(t, addr, t.TempDir())
	registerNatively(t, srv, addr, template.Template{Resident: "R-0001", Facilities: []string{"kaga-playpark"}, Expires: time.Now().Add(-time.Hour)})
	turning := faceVideo(t, "sheldon", "sheldon2.png", "sheldon5.png", "sheldon2.png", "sheldon3.png")
	term := terminal(t, srv, base, turning, "kaga-playpark", "playpark", "1", identify.Expired, "R-0001")
	text := get(t, term, "result text", eval[string](`document.querySelector("#identify-result").innerText`))
	if !strings.Contains(text, "期限が切れています") || strings.Contains(text, "R-0001") {
		t.Fatalf("the expired face's result says %q", text)
	}
}

// TestFaceLoopThread measures what a terminal's face loop costs the
// page's thread, with the pipeline in the Web Worker and on the page
// (?faceworker=off): frames a second, and the page's long tasks (the
// browser's record of every task of 50 ms or more, during which a tap
// waits). A play-park terminal watches Leonard turn for 15 s in each.
// Run by name; in `make bench`.
func TestFaceLoopThread(t *testing.T) {
	benchOnly(t)
	addr := serverproc.FreeAddr(t)
	base := "http://" + addr
	startServer(t, addr, t.TempDir())
	video := faceVideo(t, "leonard", "leonard2.png", "leonard4.png", "leonard2.png", "mirror:leonard4.png")
	const span = 15 * time.Second
	for _, mode := range []struct{ name, query, where string }{
		{"worker", "", "worker"},
		{"page", "?faceworker=off", "page"},
	} {
		term := camera(t, video)
		setUp(t, term, base, "kaga-playpark", "playpark")
		run(t, term, "open the face check", 30*time.Second, chromedp.Navigate(base+"/identify"+mode.query))
		waitJS(t, term, "the face loop running", `+(document.querySelector(".camera")?.dataset.frames || 0) > 3`, 120*time.Second)
		run(t, term, "show the overlay", 10*time.Second, tap("#face-overlay-toggle"))
		waitJS(t, term, "the figures", `!!document.querySelector("#face-figures")`, 30*time.Second)
		// The overlay's figures end with the frame's time (detect,
		// align, embed, as the thread that ran them measured) and where.
		fig := get(t, term, "the figures", eval[string](`document.querySelector("#face-figures").innerText`))
		if !strings.HasSuffix(fig, " "+mode.where) {
			t.Fatalf("%s: the overlay says %q", mode.name, fig)
		}
		t.Logf("pipeline on the %s, the overlay: %s", mode.name, fig)
		get(t, term, "watch long tasks", eval[bool](`window.smartpassLong = [];
new PerformanceObserver((l) => { for (const e of l.getEntries()) window.smartpassLong.push(e.duration); }).observe({type: "longtask"});
true`))
		frames := func() int {
			return get(t, term, "frames", eval[int](`+(document.querySelector(".camera")?.dataset.frames || 0)`))
		}
		f0 := frames()
		time.Sleep(span)
		f1 := frames()
		long := get(t, term, "long tasks", eval[[]float64](`window.smartpassLong`))
		var longest, blocked float64
		for _, d := range long {
			longest = max(longest, d)
			blocked += d - 50
		}
		t.Logf("face loop, pipeline on the %s: %.2f frames/s; the page's thread: %d long tasks in %s, longest %.0f ms, %.0f ms a second past 50 ms",
			mode.name, float64(f1-f0)/span.Seconds(), len(long), span, longest, blocked/span.Seconds())
	}
}
