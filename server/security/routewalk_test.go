package security

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/server/cardpay"
	"smartpass.city/smartpass/server/cardpay/stripemock"
	"smartpass.city/smartpass/server/httpguard"
	"smartpass.city/smartpass/syncproto"
)

// routePublic are the POST endpoints that answer a caller who proves
// nothing, each for a reason: the walk fails on any other that does.
var routePublic = map[string]string{
	syncproto.CardNoncePath: "a card nonce is what a card signs to prove itself: anyone about to present a card asks for one (used once, expiring)",
}

// routeServer is a server with every optional part on: accounts (the
// test PKI's anchors), card top-ups and their webhook (stripe-mock), the
// demo's routes.
func routeServer(t *testing.T) *householdServer {
	t.Helper()
	return householdStartWith(t, []string{"SMARTPASS_STRIPE_KEY=" + stripemock.Key, "SMARTPASS_STRIPE_WEBHOOK_SECRET=whsec_security_test"},
		"-stripe-url", stripemock.Start(t, stripemock.Succeeded))
}

// routeWildcard is a {name} of a pattern.
var routeWildcard = regexp.MustCompile(`\{[^}]*\}`)

// routePosts are the paths of the table's POST patterns, with a value in
// place of each wildcard; a pattern with no method takes a POST too.
func routePosts(table []string) []string {
	var out []string
	for _, p := range table {
		method, path, ok := strings.Cut(p, " ")
		if !ok {
			method, path = "", p
		}
		if method != "" && method != http.MethodPost {
			continue
		}
		out = append(out, routeWildcard.ReplaceAllString(path, "x"))
	}
	return out
}

// TestEveryPostIsGuarded (issue 19's review): every POST endpoint the
// running server registered (its route table, from the admin socket)
// refuses a browser's request from another origin (403 cross_origin), a
// body that is not JSON (415: form-encoded, text/plain, none), and a
// JSON request that proves nobody (a 4xx that is not a server failure,
// the op log unchanged), but for the endpoints of routePublic. A new
// endpoint that skips the guard or its authentication fails here.
// Shown failing by a test route `POST /test/unguarded` answering 200
// to anyone, added to api.New and removed.
func TestEveryPostIsGuarded(t *testing.T) {
	s := routeServer(t)
	table := s.Routes(t)
	posts := routePosts(table)
	if len(posts) < 40 || !strings.Contains(strings.Join(posts, " "), account.CreatePath) || !strings.Contains(strings.Join(posts, " "), cardpay.WebhookPath) {
		t.Fatalf("the route table lists %d POST endpoints (%v); want every part's, the account API and the card webhook among them", len(posts), table)
	}
	head := func() uint64 {
		resp, err := http.Get(s.base + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var h struct{ Store struct{ Head uint64 } }
		json.NewDecoder(resp.Body).Decode(&h)
		return h.Store.Head
	}
	before := head()
	for _, path := range posts {
		for _, c := range []struct {
			name, ctype, origin, site string
			status                    int
			code                      string
		}{
			{"from another site", "application/json", "https://evil.example", "cross-site", http.StatusForbidden, httpguard.CodeCrossOrigin},
			{"from a sibling site", "application/json", "https://other.city.example", "same-site", http.StatusForbidden, httpguard.CodeCrossOrigin},
			{"form-encoded", "application/x-www-form-urlencoded", "", "", http.StatusUnsupportedMediaType, httpguard.CodeContentType},
			{"text/plain", "text/plain", s.base, "same-origin", http.StatusUnsupportedMediaType, httpguard.CodeContentType},
			{"no content type", "", "", "", http.StatusUnsupportedMediaType, httpguard.CodeContentType},
		} {
			status, body := crossSitePost(t, s.base+path, c.ctype, c.origin, c.site, []byte(`{}`))
			var e syncproto.Error
			json.Unmarshal(body, &e)
			if status != c.status || e.Code != c.code {
				t.Errorf("POST %s %s: %d %s; want %d %s", path, c.name, status, body, c.status, c.code)
			}
		}
		for _, body := range []string{`{}`, `{"signer":"R-000001","nonce":"AAAA","body":"e30=","sig":"AAAA"}`} {
			status, answer := crossSitePost(t, s.base+path, "application/json", s.base, "same-origin", []byte(body))
			why, public := routePublic[path]
			switch {
			case status >= 500:
				t.Errorf("POST %s, unauthenticated %s: a server failure %d %s; want a refusal in words", path, body, status, answer)
			case status < 400 && !public:
				t.Errorf("POST %s, unauthenticated %s: answered %d %s; want a refusal (or list it in routePublic with why)", path, body, status, answer)
			case status >= 400 && public:
				t.Errorf("POST %s is listed public (%s) but refused: %d %s", path, why, status, answer)
			}
		}
	}
	if after := head(); after != before {
		t.Errorf("the op log moved from %d to %d under requests that proved nobody", before, after)
	}
	s.auditIntact(t)
}
