package e2e

import (
	"image"
	"image/color"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/server/serverproc"
)

// TestCardAtTerminal: a resident's My Number Card is linked to them when
// they open their account (its user-authentication key signs a server
// nonce with the 4-digit PIN in the same card session); at the hospital, whose camera
// does not see his face, he taps マイナンバーカードで確認, enters the card's
// 4-digit PIN, and the terminal knows him: the reception panel opens and
// the identification is recorded as by card.
func TestCardAtTerminal(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	base := "http://" + addr
	srv := startServer(t, addr, t.TempDir())
	phone := camera(t, faceVideo(t, "sheldon", "sheldon1.png", "sheldon5.png", "sheldon1.png", "sheldon3.png"))
	father := openAccount(t, phone, base)
	run(t, phone, "to his household", 30*time.Second, chromedp.Navigate(base+"/account"))
	registerFace(t, phone, `#holder .face-link`, "kaga-medical")

	// The reception tablet's camera sees nobody.
	empty := image.NewGray(image.Rect(0, 0, 320, 240))
	for i := range empty.Pix {
		empty.Pix[i] = color.Gray{Y: 0xa0}.Y
	}
	term := camera(t, heldUp(t, empty))
	setUp(t, term, base, "kaga-medical", "reception")
	run(t, term, "open the face check", 30*time.Second, chromedp.Navigate(base+"/identify?usb=rcs300&card=taro"))
	waitJS(t, term, "his template and profile", `document.querySelector("#gallery-size")?.dataset.count === "1"`, 60*time.Second)
	run(t, term, "use the card", 30*time.Second,
		tap("#card-check"),
		chromedp.WaitVisible(chromedp.ID("connect")),
		tap("#connect"),
	)
	enterPIN(t, term, "1234")
	if got := outcome(t, term); got != identify.Accepted {
		t.Fatalf("by card: outcome %q, want accepted", got)
	}
	run(t, term, "the reception panel", 10*time.Second, chromedp.WaitVisible(chromedp.ID("reception")))
	waitIdentifiedBy(t, srv, identify.Identification{Facility: "kaga-medical", Method: identify.MethodCard, Outcome: identify.Accepted, Resident: father})
}
