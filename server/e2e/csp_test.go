package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"smartpass.city/smartpass/app/route"
	"smartpass.city/smartpass/server/serverproc"
)

// cspRecorder is a script run in every document before the page's own:
// it keeps each Content-Security-Policy violation the page reports.
const cspRecorder = `window.cspViolations = [];
document.addEventListener("securitypolicyviolation", e =>
	window.cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " + e.sourceFile + ":" + e.lineNumber));`

// recordCSP installs cspRecorder in the browser's every new document.
func recordCSP(t *testing.T, ctx context.Context) {
	t.Helper()
	run(t, ctx, "record CSP violations", 10*time.Second, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspRecorder})
		return chromedp.Void{}, err
	})
}

// noCSPViolations fails the test if the page reported a violation.
func noCSPViolations(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	if v := get(t, ctx, "CSP violations", eval[[]string](`window.cspViolations || ["the recorder did not run"]`)); len(v) > 0 {
		t.Errorf("%s: the Content-Security-Policy blocked %q", page, v)
	}
}

// TestAppRunsUnderCSP (issue 16, finding 8): the server's strict
// Content-Security-Policy lets go-app's loader compile and run the
// WebAssembly app, its styles, and the demo's USB shim, with no
// violation reported on any page. (TestAdminScreen records violations
// too, with QR codes drawn as data: pictures; that no other origin may
// frame a page, security.TestSecurityHeaders checks on the headers.)
func TestAppRunsUnderCSP(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	startServer(t, addr, t.TempDir())
	ctx := browser(t)
	recordCSP(t, ctx)
	for _, p := range []string{route.Home, route.Setup, route.Card, route.Account, route.Admin} {
		run(t, ctx, "open "+p, 60*time.Second, chromedp.Navigate("http://"+addr+p))
		waitJS(t, ctx, "the app drawn on "+p, `!!document.querySelector("header") && !document.querySelector(".shell")`, 60*time.Second)
		noCSPViolations(t, ctx, p)
	}
}
