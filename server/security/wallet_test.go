package security

import (
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/transit"
	"smartpass.city/smartpass/app/wallet"
	"smartpass.city/smartpass/server/cardpay"
	"smartpass.city/smartpass/server/httpguard"
	"smartpass.city/smartpass/syncproto"
)

// envelope is body signed for path as signer with key over a fresh
// server nonce: the request a holder's device sends, as JSON bytes.
func (s *householdServer) envelope(t *testing.T, signer string, key ed25519.PrivateKey, path string, body any) []byte {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	n := s.nonce(t)
	var sig []byte
	if key != nil {
		sig = ed25519.Sign(key, account.Message(path, n, b))
	}
	out, err := json.Marshal(account.Signed{Signer: signer, Nonce: n, Body: b, Sig: sig})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// attack sends a prepared request and returns its status and refusal
// code ("" for a 200).
func (s *householdServer) attack(t *testing.T, path, ctype, origin, site string, body []byte) (int, string) {
	t.Helper()
	status, answer := crossSitePost(t, s.base+path, ctype, origin, site, body)
	if status == http.StatusOK {
		return status, ""
	}
	var e syncproto.Error
	json.Unmarshal(answer, &e)
	return status, e.Code
}

// statement is resident's wallet statement as h reads it.
func (s *householdServer) statement(t *testing.T, h householdHolder, resident string) wallet.Statement {
	t.Helper()
	var st wallet.Statement
	if status, code := s.asHolder(t, h, wallet.StatementPath, account.Person{Resident: resident}, &st); status != http.StatusOK {
		t.Fatalf("%s reads %s's statement: %d %s", h.id, resident, status, code)
	}
	return st
}

// TestWalletAttacks (issue 19's review, findings W1–W7; none worked on
// the code as it stood): the endpoints added with the wallet, attacked
// over HTTP on the real server with a real stripe-mock. Taro tops up
// his own wallet by card (¥3,000, the mock's intent having received
// ¥3,000); then, each refused with its own code and nothing posted: a
// top-up of another household's wallet, with a forged or absent
// signature, replayed, from another origin, form-encoded or text/plain,
// for an amount other than the intent received; reading another
// household's statement; buying another household's member a pass;
// setting another household's member's wallet limits, or one's own from
// another site or as text/plain (W12).
// Afterwards each wallet holds what it did and the books verify.
func TestWalletAttacks(t *testing.T) {
	s := routeServer(t)
	taro, hanako := s.households(t)
	topUp := func(resident string, amount int64, request string) wallet.CardTopUp {
		return wallet.CardTopUp{Resident: resident, Amount: amount, PaymentMethod: "pm_card_visa", Request: request}
	}
	own := s.envelope(t, taro.id, taro.key, wallet.CardTopUpPath, topUp(taro.id, 3000, "own-1"))
	var res wallet.CardResult
	status, answer := crossSitePost(t, s.base+wallet.CardTopUpPath, "application/json", s.base, "same-origin", own)
	if json.Unmarshal(answer, &res); status != http.StatusOK || !res.Posted || res.Balance != 3000 {
		t.Fatalf("Taro's own card top-up: %d %s", status, answer)
	}

	_, mallory, _ := ed25519.GenerateKey(nil)
	faceOnlyMax := int64(10_000) // an attacker's wish: the face alone pays up to the city's bound
	asJSON := func(body []byte) []byte { return body }
	asForm := func(body []byte) []byte { return []byte(url.Values{"request": {string(body)}}.Encode()) }
	for _, a := range []struct {
		finding, name string
		path          string
		body          []byte
		encode        func([]byte) []byte
		ctype, origin string
		site          string
		status        int
		code          string
	}{
		{"W1", "a top-up of another household's wallet", wallet.CardTopUpPath, s.envelope(t, taro.id, taro.key, wallet.CardTopUpPath, topUp(hanako.id, 3000, "other-1")), asJSON, "application/json", "", "", http.StatusForbidden, account.CodeNotYours},
		{"W2", "a top-up signed with another key", wallet.CardTopUpPath, s.envelope(t, taro.id, mallory, wallet.CardTopUpPath, topUp(taro.id, 3000, "forged-1")), asJSON, "application/json", "", "", http.StatusForbidden, account.CodeSigned},
		{"W2", "a top-up with no signature", wallet.CardTopUpPath, s.envelope(t, taro.id, nil, wallet.CardTopUpPath, topUp(taro.id, 3000, "unsigned-1")), asJSON, "application/json", "", "", http.StatusForbidden, account.CodeSigned},
		{"W2", "Taro's signature, sent as Hanako's", wallet.CardTopUpPath, s.envelope(t, hanako.id, taro.key, wallet.CardTopUpPath, topUp(hanako.id, 3000, "as-hanako-1")), asJSON, "application/json", "", "", http.StatusForbidden, account.CodeSigned},
		{"W3", "the top-up replayed", wallet.CardTopUpPath, own, asJSON, "application/json", "", "", http.StatusForbidden, syncproto.CodeCardNonce},
		{"W4", "a top-up from another site's page", wallet.CardTopUpPath, s.envelope(t, taro.id, taro.key, wallet.CardTopUpPath, topUp(taro.id, 3000, "xsite-1")), asJSON, "application/json", "https://evil.example", "cross-site", http.StatusForbidden, httpguard.CodeCrossOrigin},
		{"W5", "a top-up form-encoded", wallet.CardTopUpPath, s.envelope(t, taro.id, taro.key, wallet.CardTopUpPath, topUp(taro.id, 3000, "form-1")), asForm, "application/x-www-form-urlencoded", "https://evil.example", "cross-site", http.StatusUnsupportedMediaType, httpguard.CodeContentType},
		{"W5", "a top-up as text/plain", wallet.CardTopUpPath, s.envelope(t, taro.id, taro.key, wallet.CardTopUpPath, topUp(taro.id, 3000, "text-1")), asJSON, "text/plain", "https://evil.example", "cross-site", http.StatusUnsupportedMediaType, httpguard.CodeContentType},
		{"W6", "a top-up of ¥5,000 the gateway received ¥3,000 for", wallet.CardTopUpPath, s.envelope(t, taro.id, taro.key, wallet.CardTopUpPath, topUp(taro.id, 5000, "more-1")), asJSON, "application/json", "", "", http.StatusConflict, cardpay.ErrMismatch.Code},
		{"W7", "another household's statement", wallet.StatementPath, s.envelope(t, taro.id, taro.key, wallet.StatementPath, account.Person{Resident: hanako.id}), asJSON, "application/json", "", "", http.StatusForbidden, account.CodeNotYours},
		{"W7", "a pass for another household's member", transit.PassPath, s.envelope(t, taro.id, taro.key, transit.PassPath, transit.BuyPass{Resident: hanako.id, Operator: "kaga-bus", Product: "month", From: "2026-12-03", Request: "pass-1"}), asJSON, "application/json", "", "", http.StatusForbidden, account.CodeNotYours},
		{"W12", "another household's member's wallet limits", wallet.SettingsPath, s.envelope(t, taro.id, taro.key, wallet.SettingsPath, wallet.Settings{Resident: hanako.id, FaceOnly: &faceOnlyMax}), asJSON, "application/json", "", "", http.StatusForbidden, account.CodeNotYours},
		{"W12", "wallet limits set from another site's page", wallet.SettingsPath, s.envelope(t, taro.id, taro.key, wallet.SettingsPath, wallet.Settings{Resident: taro.id, FaceOnly: &faceOnlyMax}), asJSON, "application/json", "https://evil.example", "cross-site", http.StatusForbidden, httpguard.CodeCrossOrigin},
		{"W12", "wallet limits as text/plain", wallet.SettingsPath, s.envelope(t, taro.id, taro.key, wallet.SettingsPath, wallet.Settings{Resident: taro.id, FaceOnly: &faceOnlyMax}), asJSON, "text/plain", "https://evil.example", "cross-site", http.StatusUnsupportedMediaType, httpguard.CodeContentType},
	} {
		status, code := s.attack(t, a.path, a.ctype, a.origin, a.site, a.encode(a.body))
		if status != a.status || code != a.code {
			t.Errorf("%s %s: %d %q; want %d %q", a.finding, a.name, status, code, a.status, a.code)
		}
	}

	if st := s.statement(t, taro, taro.id); st.Balance != 3000 || len(st.Lines) != 1 || st.Lines[0].Kind != "topup" {
		t.Errorf("Taro's wallet after the attacks: %+v; want the one ¥3,000 top-up", st)
	}
	if st := s.statement(t, hanako, hanako.id); st.Balance != 0 || len(st.Lines) != 0 || st.Limits.FaceOnly != nil {
		t.Errorf("Hanako's wallet after the attacks: %+v; want nothing, her limits the city's default", st)
	}
	if st := s.statement(t, taro, taro.id); st.Limits.FaceOnly != nil {
		t.Errorf("Taro's face-only limit set from another site: %+v", st.Limits)
	}
	if out := domainCommand(t, s.Proc, "ledger-verify"); !strings.Contains(out, "ledger intact") {
		t.Errorf("ledger-verify after the attacks: %s", out)
	}
	s.auditIntact(t)
}
