package httpguard

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestWrap: what reaches the handler, and the answer of what does not.
func TestWrap(t *testing.T) {
	reached := false
	h := Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true }),
		Options{Dev: true, Private: []string{"/accounts", "/admin/api/"}, Logger: slog.New(slog.DiscardHandler)})
	for _, c := range []struct {
		name, method, path, remote, ctype, origin, site string
		tls                                             bool
		want                                            int
		code                                            string
	}{
		{"a page", "GET", "/", "192.0.2.1:1", "", "", "", false, 200, ""},
		{"JSON from the page", "POST", "/card/nonce", "192.0.2.1:1", "application/json", "http://srv", "same-origin", false, 200, ""},
		{"JSON with charset", "POST", "/card/nonce", "192.0.2.1:1", "application/json; charset=utf-8", "", "", false, 200, ""},
		{"text/plain", "POST", "/card/nonce", "192.0.2.1:1", "text/plain", "", "", false, 415, CodeContentType},
		{"no content type", "DELETE", "/card/nonce", "192.0.2.1:1", "", "", "", false, 415, CodeContentType},
		{"JSON-ish", "POST", "/card/nonce", "192.0.2.1:1", "application/jsonp", "", "", false, 415, CodeContentType},
		{"cross-site", "POST", "/card/nonce", "192.0.2.1:1", "application/json", "https://evil.example", "cross-site", false, 403, CodeCrossOrigin},
		{"another Origin, no Sec-Fetch-Site", "POST", "/card/nonce", "192.0.2.1:1", "application/json", "https://evil.example", "", false, 403, CodeCrossOrigin},
		{"account over plain HTTP, off loopback", "POST", "/accounts/face", "192.0.2.1:1", "application/json", "", "", false, 403, CodeNeedsTLS},
		{"account root over plain HTTP, off loopback", "POST", "/accounts", "192.0.2.1:1", "application/json", "", "", false, 403, CodeNeedsTLS},
		{"not an account path", "POST", "/accountsx", "192.0.2.1:1", "application/json", "", "", false, 200, ""},
		{"admin API over plain HTTP, off loopback", "POST", "/admin/api/signin", "[2001:db8::1]:1", "application/json", "", "", false, 403, CodeNeedsTLS},
		{"admin page over plain HTTP", "GET", "/admin", "192.0.2.1:1", "", "", "", false, 200, ""},
		{"admin API over plain HTTP, loopback, dev", "POST", "/admin/api/signin", "127.0.0.9:1", "application/json", "", "", false, 200, ""},
		{"admin API over plain HTTP, ::1, dev", "POST", "/admin/api/signin", "[::1]:1", "application/json", "", "", false, 200, ""},
		{"admin API over TLS", "POST", "/admin/api/signin", "192.0.2.1:1", "application/json", "", "", true, 200, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			reached = false
			r := httptest.NewRequest(c.method, "http://srv"+c.path, strings.NewReader("{}"))
			r.RemoteAddr = c.remote
			if c.ctype != "" {
				r.Header.Set("Content-Type", c.ctype)
			}
			if c.origin != "" {
				r.Header.Set("Origin", c.origin)
			}
			if c.site != "" {
				r.Header.Set("Sec-Fetch-Site", c.site)
			}
			if c.tls {
				r.TLS = &tls.ConnectionState{}
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != c.want || reached != (c.want == 200) {
				t.Fatalf("%d (handler reached: %v), want %d", w.Code, reached, c.want)
			}
			var e struct{ Code, Message string }
			if c.code != "" && (json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Code != c.code || !strings.Contains(e.Message, " / ")) {
				t.Fatalf("answer %s, want code %s with a Japanese / English message", w.Body, c.code)
			}
			if w.Header().Get("Content-Security-Policy") != CSP || w.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Fatalf("headers %v", w.Header())
			}
			if got := w.Header().Get("Strict-Transport-Security"); (got != "") != c.tls {
				t.Fatalf("HSTS %q over TLS=%v", got, c.tls)
			}
		})
	}
}

// TestInternal (issue 16, generic 500s): a failure's cause goes to the
// log, never to the client, which gets the same sentence whatever it was.
// Before the fix the admin API answered "the server could not do it: " +
// the error, and the account endpoints the error itself.
func TestInternal(t *testing.T) {
	var log bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&log, nil))
	cause := errors.New("badger: open /srv/data/000042.vlog: permission denied")
	w := httptest.NewRecorder()
	Internal(w, httptest.NewRequest("POST", "/admin/api/code", nil), logger, "admin API", cause)
	var e struct{ Code, Message string }
	if w.Code != 500 || json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Code != CodeInternal || e.Message != InternalMessage {
		t.Fatalf("answer %d %s", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), "badger") || strings.Contains(w.Body.String(), "/srv") {
		t.Fatalf("the answer leaks the cause: %s", w.Body)
	}
	if !strings.Contains(log.String(), "000042.vlog") || !strings.Contains(log.String(), "/admin/api/code") {
		t.Fatalf("the cause is not logged: %s", log.String())
	}
}
