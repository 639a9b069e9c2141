package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"smartpass.city/smartpass/app/admin"
	"smartpass.city/smartpass/app/qrcode"
	"smartpass.city/smartpass/server/serverproc"
)

// screenshot saves the page as assets/screenshots/name.png, for the
// README.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	buf := get(t, ctx, "screenshot", chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(root, "assets", "screenshots", name+".png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestAdminScreen: an administrator signs in to the browser admin screen
// (a wrong password first, told so), sees the shelter's tablet with its
// last sync, adds a shelter and issues a set-up code whose QR code a new
// tablet uses to join it, revokes the first tablet (which then says it must be
// set up again), adds an auditor whose first password is shown once, and
// finds both changes in the audit log under her name. The auditor, signed
// in, sees the log but no way to change anything. The page reports no
// Content-Security-Policy violation (the QR code is a data: picture).
func TestAdminScreen(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	base := "http://" + addr
	srv := startServer(t, addr, t.TempDir())
	password := srv.Staff(t, admin.Staff{ID: "kanri", Name: "情報政策課 中村", Role: admin.Administrator})

	tablet := browser(t)
	setUp(t, tablet, base, "shelter-daishoji", "shelter")
	tabletID := deviceID(t, tablet)
	run(t, tablet, "open the roster", 30*time.Second, chromedp.Navigate(base+"/shelter"))
	waitJS(t, tablet, "synced", statusIs(true, 0), 30*time.Second)

	office := browser(t)
	recordCSP(t, office)
	run(t, office, "open the admin screen", 60*time.Second, chromedp.Navigate(base+"/admin"))
	fill(t, office, "staff-id", "kanri")
	fill(t, office, "staff-password", "kaga2026")
	press(t, office, "sign in, wrong password", "#signin-button")
	waitJS(t, office, "told the password is wrong", `(document.querySelector("#admin-error") || {}).textContent.startsWith("職員IDかパスワードが違います。")`, 20*time.Second)
	fill(t, office, "staff-password", password)
	press(t, office, "sign in", "#signin-button")
	waitJS(t, office, "the tablet with its last sync", `(r => r && r.dataset.synced === "true" && r.dataset.revoked === "false")(document.querySelector('#devices tr[data-device="`+tabletID+`"]'))`, 20*time.Second)

	// A new shelter, then a code for a tablet there, as text and QR code.
	fill(t, office, "fac-id", "shelter-kumasaka")
	choose(t, office, "fac-kind", "shelter")
	fill(t, office, "fac-name-ja", "熊坂地区会館")
	fill(t, office, "fac-name-en", "Kumasaka Hall")
	fill(t, office, "fac-capacity", "80")
	press(t, office, "save the facility", "#save-facility")
	waitJS(t, office, "the new shelter listed", `document.querySelector('#facilities tr[data-facility="shelter-kumasaka"]')?.dataset.capacity === "80"`, 20*time.Second)
	choose(t, office, "code-facility", "shelter-kumasaka")
	press(t, office, "issue a code", "#issue-code")
	waitJS(t, office, "the code", `!!document.querySelector("#issued")?.dataset.code`, 20*time.Second)
	code := get(t, office, "the code", eval[string](`document.querySelector("#issued").dataset.code`))
	text, err := qrcode.Decode(shownImage(t, office, "#issued-qr"))
	if want := base + "/setup?code=" + code; err != nil || text != want {
		t.Fatalf("the code's QR code reads %q (%v), want %q", text, err, want)
	}
	second := browser(t)
	run(t, second, "a new tablet opens the QR code's address", 60*time.Second,
		chromedp.Navigate(text),
		chromedp.WaitVisible(chromedp.ID("code")),
	)
	press(t, second, "set it up", "#enroll")
	waitJS(t, second, "set up for the new shelter", `(document.querySelector("#setup-done") || {}).textContent?.includes("熊坂地区会館")`, 30*time.Second)

	// The first tablet is revoked, on a second press.
	press(t, office, "revoke", `#devices button.revoke[data-id="`+tabletID+`"]`)
	press(t, office, "confirm", `#devices button.confirm-revoke[data-id="`+tabletID+`"]`)
	waitJS(t, office, "shown revoked", `document.querySelector('#devices tr[data-device="`+tabletID+`"]')?.dataset.revoked === "true"`, 20*time.Second)
	waitJS(t, tablet, "the revoked tablet asks to be set up again", `!!document.querySelector("#setup-needed")`, 60*time.Second)

	// An auditor's account.
	fill(t, office, "new-staff-id", "kansa")
	fill(t, office, "new-staff-name", "監査室 佐藤")
	choose(t, office, "new-staff-role", "auditor")
	press(t, office, "add", "#add-staff")
	waitJS(t, office, "the first password, once", `!!document.querySelector("#new-password")?.dataset.password`, 20*time.Second)
	auditorPW := get(t, office, "the first password", eval[string](`document.querySelector("#new-password").dataset.password`))

	fill(t, office, "audit-subject", tabletID)
	press(t, office, "show", "#audit-search")
	waitJS(t, office, "the revocation in the log", `!!document.querySelector('#audit-log tr[data-action="device.revoke"][data-actor="staff:kanri"]')`, 20*time.Second)
	fill(t, office, "audit-subject", "")
	press(t, office, "show all", "#audit-search")
	waitJS(t, office, "the new account in the log", `!!document.querySelector('#audit-log tr[data-action="staff.add"][data-subject="kansa"]')`, 20*time.Second)
	// The README's picture shows where the first password appears, not
	// the password: it is masked on the page before the shot (the test's
	// own copy was read above).
	masked := get(t, office, "mask the first password", eval[bool](`(() => {
		const p = document.querySelector("#new-password .code");
		if (!p) return false;
		p.textContent = "●".repeat(p.textContent.length);
		return !document.body.innerText.includes(`+strconv.Quote(auditorPW)+`);
	})()`))
	if !masked {
		t.Fatal("the first password is still on the page for the screenshot")
	}
	screenshot(t, office, "admin")
	noCSPViolations(t, office, "the admin screen")

	// The auditor reads, changes nothing.
	press(t, office, "sign out", "#signout")
	fill(t, office, "staff-id", "kansa")
	fill(t, office, "staff-password", auditorPW)
	press(t, office, "sign in", "#signin-button")
	waitJS(t, office, "the auditor's screen", `document.querySelector("#signed-in")?.dataset.role === "auditor" && !!document.querySelector("#audit-total")`, 20*time.Second)
	shown := get(t, office, "what the auditor may do", eval[string](`[...document.querySelectorAll("#facilities, #code, #staff, button.revoke")].map(e => e.id || e.className).join(",")`))
	if shown != "" {
		t.Fatalf("the auditor is offered %s", shown)
	}
	if got := get(t, office, "the audit total", eval[string](`document.querySelector("#audit-total").textContent`)); !strings.Contains(got, "改ざんはありません") {
		t.Fatalf("the audit log says %q", got)
	}
}
