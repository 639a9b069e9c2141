package e2e

import (
	"image"
	"image/color"
	"image/draw"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"smartpass.city/smartpass/app/face/facetest"
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
		chromedp.Click(chromedp.ID("scan-code")),
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
	run(t, other, "enroll", 30*time.Second, chromedp.Click(chromedp.ID("enroll")), chromedp.WaitVisible(chromedp.ID("setup-done")))
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
	frame := image.NewRGBA(image.Rect(0, 0, 640, 480))
	draw.Draw(frame, frame.Bounds(), image.NewUniform(color.Gray{Y: 0x70}), image.Point{}, draw.Src)
	b := img.Bounds()
	draw.Draw(frame, b.Add(image.Pt((640-b.Dx())/2, (480-b.Dy())/2)), img, b.Min, draw.Src)
	path := filepath.Join(t.TempDir(), "held-up.y4m")
	if err := facetest.WriteY4M(path, []*image.RGBA{frame}, 15); err != nil {
		t.Fatal(err)
	}
	return path
}
