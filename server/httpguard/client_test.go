package httpguard

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// TestResolve: the addresses one client can pick from count as one
// (issue 16, finding 9a), a port-less address is taken as it is, and
// X-Forwarded-For is believed only from a proxy configured as trusted,
// and then only its last address.
func TestResolve(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, c := range []struct {
		name, remote string
		forwarded    []string
		trusted      []netip.Prefix
		host, key    string
		loopback     bool
	}{
		{"IPv4 loopback", "127.0.0.1:4000", nil, nil, "127.0.0.1", "loopback", true},
		{"all of 127/8 is one", "127.255.1.9:1", nil, nil, "127.255.1.9", "loopback", true},
		{"IPv6 loopback", "[::1]:4000", nil, nil, "::1", "loopback", true},
		{"mapped loopback", "[::ffff:127.0.0.1]:4000", nil, nil, "::ffff:127.0.0.1", "loopback", true},
		{"IPv4", "192.0.2.7:80", nil, nil, "192.0.2.7", "192.0.2.7", false},
		{"mapped IPv4", "[::ffff:192.0.2.7]:80", nil, nil, "::ffff:192.0.2.7", "192.0.2.7", false},
		{"IPv6 counts by its /64", "[2001:db8:1:2:3:4:5:6]:443", nil, nil, "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64", false},
		{"another address of the same /64", "[2001:db8:1:2:ffff::1]:443", nil, nil, "2001:db8:1:2:ffff::1", "2001:db8:1:2::/64", false},
		{"a zone is dropped from the key", "[fe80::1%eth0]:443", nil, nil, "fe80::1%eth0", "fe80::/64", false},
		{"the next /64", "[2001:db8:1:3::1]:443", nil, nil, "2001:db8:1:3::1", "2001:db8:1:3::/64", false},
		{"port-less IPv4", "192.0.2.7", nil, nil, "192.0.2.7", "192.0.2.7", false},
		{"port-less IPv6", "2001:db8::5", nil, nil, "2001:db8::5", "2001:db8::/64", false},
		{"not an address", "not an address", nil, nil, "not an address", "not an address", false},
		{"X-Forwarded-For not trusted by default", "192.0.2.7:80", []string{"198.51.100.1"}, nil, "192.0.2.7", "192.0.2.7", false},
		{"X-Forwarded-For from an untrusted caller", "192.0.2.7:80", []string{"198.51.100.1"}, proxies, "192.0.2.7", "192.0.2.7", false},
		{"loopback forging X-Forwarded-For, nothing trusted", "127.0.0.1:1", []string{"198.51.100.1"}, nil, "127.0.0.1", "loopback", true},
		{"a trusted proxy's caller", "10.1.2.3:5000", []string{"198.51.100.1"}, proxies, "198.51.100.1", "198.51.100.1", false},
		{"a trusted proxy: only its own last address", "10.1.2.3:5000", []string{"127.0.0.1, 203.0.113.9"}, proxies, "203.0.113.9", "203.0.113.9", false},
		{"a trusted proxy: over several header lines", "[::1]:5000", []string{"127.0.0.1", "2001:db8:9::1"}, proxies, "2001:db8:9::1", "2001:db8:9::/64", false},
		{"a trusted proxy: a caller on loopback behind it", "[::1]:5000", []string{"::1"}, proxies, "::1", "loopback", true},
		{"a trusted proxy with a header that is no address", "10.1.2.3:5000", []string{"198.51.100.1, unknown"}, proxies, "10.1.2.3", "10.1.2.3", false},
		{"a trusted proxy with no header", "10.1.2.3:5000", nil, proxies, "10.1.2.3", "10.1.2.3", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Resolve(c.remote, c.forwarded, c.trusted)
			if got != (Client{Host: c.host, Key: c.key, Loopback: c.loopback}) {
				t.Errorf("Resolve(%q, %q) = %+v, want host %q key %q loopback %v", c.remote, c.forwarded, got, c.host, c.key, c.loopback)
			}
		})
	}
}

// TestWrapResolvesClient: the handler behind the guard sees the caller
// the guard resolved, and development's plain HTTP from loopback is
// judged by that caller, not by a proxy on the same machine.
func TestWrapResolvesClient(t *testing.T) {
	var seen Client
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = ClientOf(r) })
	for _, c := range []struct {
		name      string
		trusted   []netip.Prefix
		forwarded string
		want      int
		host      string
	}{
		{"no proxy trusted: a forged header is nobody", nil, "198.51.100.1", 200, "127.0.0.1"},
		{"a loopback proxy trusted: the remote caller needs TLS", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, "198.51.100.1", 403, ""},
		{"a loopback proxy trusted: a loopback caller in dev", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, "127.0.0.1", 200, "127.0.0.1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			seen = Client{}
			h := Wrap(next, Options{Dev: true, Private: []string{"/admin/api/"}, Logger: slog.New(slog.DiscardHandler), TrustedProxies: c.trusted})
			r := httptest.NewRequest("POST", "http://srv/admin/api/signin", strings.NewReader("{}"))
			r.RemoteAddr = "127.0.0.1:40000"
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("X-Forwarded-For", c.forwarded)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != c.want || seen.Host != c.host {
				t.Errorf("%d, handler saw %+v; want %d, host %q", w.Code, seen, c.want, c.host)
			}
		})
	}
	// A handler tested alone resolves the remote address, trusting
	// nobody.
	r := httptest.NewRequest("GET", "http://srv/", nil)
	r.RemoteAddr = "[2001:db8::7]:1"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	if got := ClientOf(r); got.Host != "2001:db8::7" || got.Key != "2001:db8::/64" {
		t.Errorf("ClientOf without the guard: %+v", got)
	}
}
