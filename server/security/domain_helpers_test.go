package security

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"

	"smartpass.city/smartpass/app/admin"
	"smartpass.city/smartpass/server/serverproc"
)

// domainServer starts a demo server on its own data directory, plain
// HTTP from loopback (-dev), and waits until it answers.
func domainServer(t *testing.T) *serverproc.Proc {
	t.Helper()
	p := serverproc.Start(t, serverBin, nil, serverproc.FreeAddr(t),
		"-assets", t.TempDir(), "-data", filepath.Join(t.TempDir(), "data"), "-dev", "-demo")
	p.WaitHealthy(t)
	return p
}

// domainPost posts req as JSON to the server's path and returns the
// answer's status and body.
func domainPost(t *testing.T, p *serverproc.Proc, path string, req any) (int, []byte) {
	t.Helper()
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return serverproc.Post(t, "http://"+p.Addr+path, b)
}

// domainSignIn signs a staff member in to the admin API and returns
// their session token, failing the test when refused.
func domainSignIn(t *testing.T, p *serverproc.Proc, id, password string) string {
	t.Helper()
	status, body := domainPost(t, p, admin.SignInPath, admin.SignIn{ID: id, Password: password})
	var s admin.Session
	if status != http.StatusOK || json.Unmarshal(body, &s) != nil || s.Token == "" {
		t.Fatalf("sign in as %s: HTTP %d %s", id, status, body)
	}
	return s.Token
}
