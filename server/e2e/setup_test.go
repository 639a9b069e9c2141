package e2e

import (
	"context"
	"image"
	"image/color"
	"image/draw"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"smartpass.city/smartpass/app/qrcode"
	"smartpass.city/smartpass/server/serverproc"
)

// TestSetupByQR: a tablet becomes a device of its facility from the QR
// code an admin printed (`server device-code -url`), scanned with its own
// camera; another from the set-up address with the code in it.
func TestSetupByQR(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	base := "http://" + addr
	srv := startServer(t, addr, t.TempDir())

	code := srv.Code(t, "shelter-daishoji", "shelter")
	tablet := camera(t, qrVideo(t, base+"/setup?code="+code))
	run(t, tablet, "scan the code", 60*time.Second,
		chromedp.Navigate(base+"/setup"),
		chromedp.WaitVisible(chromedp.ID("scan-code")),
		tap("#scan-code"),
		chromedp.WaitVisible(chromedp.ID("setup-done")),
	)
	if got := get(t, tablet, "the mode", eval[string](`document.querySelector("#setup-done").textContent`)); !strings.Contains(got, "避難所の受付") {
		t.Fatalf("set up as %q", got)
	}

	other := browser(t)
	code = srv.Code(t, "kaga-playpark", "playpark")
	run(t, other, "open the set-up address", 60*time.Second,
		chromedp.Navigate(base+"/setup?code="+code),
		chromedp.WaitVisible(chromedp.ID("code")),
	)
	waitJS(t, other, "the code filled in", `document.querySelector("#code").value === "`+code+`"`, 10*time.Second)
	run(t, other, "enroll", 30*time.Second, tap("#enroll"), chromedp.WaitVisible(chromedp.ID("setup-done")))
}

// qrVideo is a camera video of a QR code of text, as a printed slip held
// up to the tablet.
func qrVideo(t *testing.T, text string) string {
	t.Helper()
	code, err := qrcode.Encode(text, 300)
	if err != nil {
		t.Fatal(err)
	}
	return heldUp(t, code)
}

// heldUp is a camera video of img held up at arm's length: centred on a
// grey scene.
func heldUp(t *testing.T, img image.Image) string {
	t.Helper()
	return writeVideo(t, heldUpFrame(img))
}

// heldUpFrame is one camera frame of img held up: centred on a grey
// scene.
func heldUpFrame(img image.Image) *image.RGBA {
	frame := image.NewRGBA(image.Rect(0, 0, 640, 480))
	draw.Draw(frame, frame.Bounds(), image.NewUniform(color.Gray{Y: 0x70}), image.Point{}, draw.Src)
	b := img.Bounds()
	draw.Draw(frame, b.Add(image.Pt((640-b.Dx())/2, (480-b.Dy())/2)), img, b.Min, draw.Src)
	return frame
}

// TestKioskLock: staff lock a shelter tablet to its screen with a PIN;
// the way off the screen is gone, also after a reload; a wrong PIN does
// not open it, the right one does.
func TestKioskLock(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	base := "http://" + addr
	srv := startServer(t, addr, t.TempDir())
	tablet := browser(t)
	enrollTablet(t, tablet, base, srv.Code(t, "shelter-daishoji", "shelter"))
	type steps = []chromedp.Action[chromedp.Void]
	// pin types each (field, PIN) pair and presses the prompt's button.
	pin := func(ids ...string) steps {
		var out steps
		for i := 0; i+1 < len(ids); i += 2 {
			out = append(out, chromedp.SendKeys(chromedp.ID(ids[i]), ids[i+1]))
		}
		return append(out, tap("#kiosk-ok"))
	}
	run(t, tablet, "open the shelter page", 30*time.Second, chromedp.Navigate(base+"/shelter"))
	openPrompt(t, tablet, "kiosk-on")
	run(t, tablet, "lock the tablet", 30*time.Second, append(pin("kiosk-pin", "2580", "kiosk-pin2", "2580"), chromedp.WaitVisible(chromedp.ID("kiosk-locked")))...)
	run(t, tablet, "reload", 30*time.Second, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("kiosk-staff")))
	if get(t, tablet, "a way off the screen", eval[bool](`!!document.querySelector("header a.title")`)) {
		t.Fatal("the locked tablet links to the home page")
	}
	openPrompt(t, tablet, "kiosk-staff")
	run(t, tablet, "a wrong PIN", 30*time.Second, append(pin("kiosk-pin", "1111"), chromedp.WaitVisible(chromedp.ID("kiosk-error")))...)
	if !get(t, tablet, "still locked", eval[bool](`!!document.querySelector("#kiosk-locked")`)) {
		t.Fatal("a wrong PIN unlocked the tablet")
	}
	run(t, tablet, "the right PIN", 30*time.Second, append(append(steps{
		chromedp.Evaluate[chromedp.Void](`document.getElementById("kiosk-pin").value = ""`),
	}, pin("kiosk-pin", "2580")...), chromedp.WaitVisible(chromedp.CSS("header a.title")))...)
}

// openPrompt presses button until the kiosk's PIN prompt shows: a press
// that lands while the header is being drawn again is pressed again.
func openPrompt(t *testing.T, ctx context.Context, button string) {
	t.Helper()
	waitJS(t, ctx, "the PIN prompt", `(() => { if (!document.querySelector("#kiosk-pin")) document.querySelector("#`+button+`")?.click();
		return !!document.querySelector("#kiosk-pin"); })()`, 30*time.Second)
}
