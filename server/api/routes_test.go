package api

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"smartpass.city/smartpass/syncproto"
)

func TestHTTPRoutes(t *testing.T) {
	p := newTestServer(t, nil)

	resp, err := http.Get(p.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var health struct {
		Version string
		App     struct{ Built bool }
		Store   struct {
			State string
			Head  uint64
		}
	}
	json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if health.Store.State != "open" || health.Version == "" || health.App.Built {
		t.Fatalf("healthz = %+v, want an open store, a version, and built=false (no app.wasm in the test assets)", health)
	}
	if !strings.Contains(p.logs.String(), "the PWA is not built") {
		t.Fatalf("missing app.wasm not logged:\n%s", p.logs.String())
	}

	for _, path := range []string{"/no-such-page", "/web/no-such-file", "/web/../main.go"} {
		resp, err := http.Get(p.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, resp.StatusCode)
		}
	}
	for _, path := range []string{"/", "/shelter", "/hq", "/manifest.webmanifest", "/app-worker.js"} {
		resp, err := http.Get(p.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", path, resp.StatusCode)
		}
	}
	if !strings.Contains(p.logs.String(), "path=/no-such-page status=404") {
		t.Fatalf("unknown route not logged:\n%s", p.logs.String())
	}
}

// TestRegistrationRefusals: bad requests get a reason, and guessing codes
// is cut off.
func TestRegistrationRefusals(t *testing.T) {
	p := newTestServer(t, nil)
	post := func(body string) (int, syncproto.Error) {
		resp, err := http.Post(p.URL+syncproto.RegisterPath, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e syncproto.Error
		json.NewDecoder(resp.Body).Decode(&e)
		return resp.StatusCode, e
	}
	if status, e := post(`{"code":`); status != http.StatusBadRequest || e.Code != syncproto.CodeMalformed {
		t.Fatalf("truncated request: %d %+v", status, e)
	}
	if status, e := post(`{"code":"X","device":"d","public_key":"AAAA"}`); status != http.StatusBadRequest || e.Code != syncproto.CodeInvalid {
		t.Fatalf("short key: %d %+v", status, e)
	}
	key := `"public_key":"` + strings.Repeat("A", 43) + `="`
	for i := range failureLimit {
		if status, e := post(`{"code":"WRONG-0000","device":"guess",` + key + `}`); status != http.StatusForbidden || e.Code != CodeBadCode {
			t.Fatalf("wrong code %d: %d %+v", i, status, e)
		}
	}
	good := p.Code(t, "shelter-daishoji", "shelter")
	if status, e := post(`{"code":"` + good + `","device":"guess",` + key + `}`); status != http.StatusTooManyRequests || e.Code != syncproto.CodeLimit {
		t.Fatalf("after %d wrong codes: %d %+v, want 429", failureLimit, status, e)
	}
}
