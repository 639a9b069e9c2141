package security

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/admin"
	"smartpass.city/smartpass/server/serverproc"
)

// crossSitePost posts body to url the way a browser does from a page
// (origin "" for a request with no Origin, as from curl).
func crossSitePost(t *testing.T, url, ctype, origin, fetchSite string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if fetchSite != "" {
		req.Header.Set("Sec-Fetch-Site", fetchSite)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// Finding 3's cross-site part, and every state-changing endpoint (issue
// 16): a page on another site could POST text/plain (a "simple" request,
// no preflight) to the staff sign-in and to the account endpoints; five
// wrong passwords that way locked the administrator out. Now a state
// change must be JSON (415 otherwise) and, from a browser, same-origin
// (403 otherwise); the refused attempts never reach the sign-in, so the
// right password still works. Failed before the fix: the text/plain
// sign-ins were read (401, then 429 locked) and the right password was
// refused.
func TestCrossSitePostsAreRefused(t *testing.T) {
	dir := t.TempDir()
	p := serverproc.Start(t, serverBin, nil, serverproc.FreeAddr(t), "-data", dir+"/data", "-assets", dir, "-dev", "-demo")
	p.WaitHealthy(t)
	password := p.Staff(t, admin.Staff{ID: "officer", Name: "係員", Role: admin.Administrator})
	base := "http://" + p.Addr
	wrong, _ := json.Marshal(admin.SignIn{ID: "officer", Password: "wrong-password"})
	attacks := []struct {
		name, path, ctype, origin, site string
		want                            int
	}{
		{"text/plain sign-in from another site", admin.SignInPath, "text/plain", "https://evil.example", "cross-site", http.StatusUnsupportedMediaType},
		{"form sign-in from another site", admin.SignInPath, "application/x-www-form-urlencoded", "https://evil.example", "cross-site", http.StatusUnsupportedMediaType},
		{"sign-in with no content type", admin.SignInPath, "", "", "", http.StatusUnsupportedMediaType},
		{"JSON sign-in from another site", admin.SignInPath, "application/json", "https://evil.example", "cross-site", http.StatusForbidden},
		{"JSON sign-in from a sibling site", admin.SignInPath, "application/json", "https://other.city.example", "same-site", http.StatusForbidden},
		{"JSON sign-in with another Origin only", admin.SignInPath, "application/json", "http://evil.example", "", http.StatusForbidden},
		{"text/plain account recovery from another site", account.RecoverPath, "text/plain", "https://evil.example", "cross-site", http.StatusUnsupportedMediaType},
		{"JSON account from another site", account.CreatePath, "application/json", "https://evil.example", "cross-site", http.StatusForbidden},
		{"text/plain device registration from another site", "/devices/register", "text/plain", "https://evil.example", "cross-site", http.StatusUnsupportedMediaType},
	}
	for _, a := range attacks {
		for range 6 { // more than the sign-in's lock-out allows
			status, b := crossSitePost(t, base+a.path, a.ctype, a.origin, a.site, wrong)
			if status != a.want {
				t.Errorf("%s: %d %s; want %d", a.name, status, b, a.want)
				break
			}
		}
	}
	// The browser's own page, same-origin, with the right password: the
	// attempts above did not count against the account.
	right, _ := json.Marshal(admin.SignIn{ID: "officer", Password: password})
	status, b := crossSitePost(t, base+admin.SignInPath, "application/json; charset=utf-8", base, "same-origin", right)
	if status != http.StatusOK {
		t.Fatalf("the right password after the cross-site attempts: %d %s", status, b)
	}
	// A client that is not a browser (no Origin, no Sec-Fetch-Site), JSON:
	// served as before.
	if status, b := crossSitePost(t, base+admin.SignInPath, "application/json", "", "", right); status != http.StatusOK {
		t.Fatalf("a JSON sign-in with no Origin: %d %s", status, b)
	}
	crossSiteAuditIntact(t, dir+"/data")
}

// crossSiteAuditIntact fails the test unless `server audit-verify` finds
// the audit log's hash chain intact after an attack.
func crossSiteAuditIntact(t *testing.T, data string) {
	t.Helper()
	out, err := exec.Command(serverBin, "audit-verify", "-data", data).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "intact") {
		t.Fatalf("audit-verify after the attack: %v\n%s", err, out)
	}
}
