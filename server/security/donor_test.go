package security

import (
	"encoding/json"
	"net/http"
	"testing"

	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/cardtest"
	"smartpass.city/smartpass/app/card/sim"
	"smartpass.city/smartpass/app/facility"
	rules "smartpass.city/smartpass/app/furusato"
	"smartpass.city/smartpass/app/mynumber"
	"smartpass.city/smartpass/server/httpguard"
	"smartpass.city/smartpass/syncproto"
)

// donorApplication is h's one-stop application for donation, its form
// signed by the card of p (h's own, or not) over a fresh server nonce.
func (s *householdServer) donorApplication(t *testing.T, h householdHolder, holderFacts card.Facts, p sim.Persona, donation rules.Given) rules.Application {
	t.Helper()
	var st rules.Statement
	if status, code := s.asHolder(t, h, rules.DonationsPath, rules.Year{}, &st); status != http.StatusOK {
		t.Fatalf("%s's donations: %d %s", h.id, status, code)
	}
	n, err := mynumber.Parse(p.Number)
	if err != nil {
		t.Fatal(err)
	}
	nonce := s.nonce(t)
	req := rules.Application{Donation: donation.ID, Reading: "カガ タロウ", Phone: "0761-00-0000", Salaried: true, FiveOrFewer: true, Number: p.Number, Nonce: nonce}
	form := rules.Form{City: st.City, Facts: holderFacts, Reading: req.Reading, Phone: req.Phone, Donated: donation.At, Amount: donation.Amount, Salaried: true, FiveOrFewer: true}
	msg, err := rules.Message(nonce, form, n)
	if err != nil {
		t.Fatal(err)
	}
	req.Cert, req.Sig = cardtest.Prove(t, p, card.SignKey, p.SignPassword, msg)
	return req
}

// TestDonorAttacks (issue 19's review, findings F1–F5; none worked on
// the code as it stood): the hometown-tax donor's endpoints on the real
// server. A donation counter records Taro's donation; then, refused
// each in its own code: his application signed with Hanako's card,
// Hanako applying for his donation, his application from another site
// or as text/plain, and, after his own application is taken, the same
// signed application again (its card nonce spent). Hanako's page lists
// none of his donations.
func TestDonorAttacks(t *testing.T) {
	s := householdStart(t)
	taro, hanako := s.households(t)
	s.Facility(t, facility.Facility{ID: "michinoeki-kaga", Kind: facility.Donation, NameJA: "道の駅 加賀", NameEN: "Michi-no-eki Kaga"})
	counter := domainDevice{t: t, p: s.Proc, id: "counter-1", key: s.Enroll(t, "counter-1", "michinoeki-kaga", "counter")}
	// Paid in cash at the counter first: the server records a donation
	// only against a payment it took.
	sale := rules.CounterSale{Donor: taro.id, Amount: 10000, Method: rules.PayCash, Staff: "職員 山田", Request: "sale-1"}
	status, answer := crossSitePost(t, s.base+rules.CounterPayPath, "application/json", "", "", s.envelope(t, "counter-1", counter.key.Key, rules.CounterPayPath, sale))
	var paid rules.CounterPaid
	if status != http.StatusOK || json.Unmarshal(answer, &paid) != nil {
		t.Fatalf("the counter's cash payment: %d %s", status, answer)
	}
	if refused, _ := counter.push(domainOp(t, 1, rules.OpDonation, paid.Donation)); len(refused) != 0 {
		t.Fatalf("the counter's donation: %v", refused[0])
	}
	var st rules.Statement
	if status, code := s.asHolder(t, taro, rules.DonationsPath, rules.Year{}, &st); status != http.StatusOK || len(st.Donations) != 1 {
		t.Fatalf("Taro's donations: %d %s %+v", status, code, st)
	}
	donation := st.Donations[0]

	for _, a := range []struct {
		finding, name string
		as            householdHolder
		app           rules.Application
		ctype, origin string
		site          string
		status        int
		code          string
	}{
		{"F1", "Taro's application signed with Hanako's card", taro, s.donorApplication(t, taro, cardtest.Taro.Facts, householdHanako, donation), "application/json", "", "", http.StatusForbidden, rules.CodeNotYourCard},
		{"F2", "Hanako applying for Taro's donation with her card", hanako, s.donorApplication(t, hanako, householdHanako.Facts, householdHanako, donation), "application/json", "", "", http.StatusNotFound, rules.CodeNoDonation},
		{"F3", "Taro's application from another site's page", taro, s.donorApplication(t, taro, cardtest.Taro.Facts, cardtest.Taro, donation), "application/json", "https://evil.example", "cross-site", http.StatusForbidden, httpguard.CodeCrossOrigin},
		{"F3", "Taro's application as text/plain", taro, s.donorApplication(t, taro, cardtest.Taro.Facts, cardtest.Taro, donation), "text/plain", "", "", http.StatusUnsupportedMediaType, httpguard.CodeContentType},
	} {
		status, code := s.attack(t, rules.OneStopPath, a.ctype, a.origin, a.site, s.envelope(t, a.as.id, a.as.key, rules.OneStopPath, a.app))
		if status != a.status || code != a.code {
			t.Errorf("%s %s: %d %q; want %d %q", a.finding, a.name, status, code, a.status, a.code)
		}
	}
	own := s.donorApplication(t, taro, cardtest.Taro.Facts, cardtest.Taro, donation)
	if status, code := s.asHolder(t, taro, rules.OneStopPath, own, nil); status != http.StatusOK {
		t.Fatalf("Taro's own application: %d %s", status, code)
	}
	if status, code := s.asHolder(t, taro, rules.OneStopPath, own, nil); status != http.StatusForbidden || code != syncproto.CodeCardNonce {
		t.Errorf("F4 the application again (its card nonce spent): %d %q; want 403 %q", status, code, syncproto.CodeCardNonce)
	}
	var hers rules.Statement
	if status, code := s.asHolder(t, hanako, rules.DonationsPath, rules.Year{}, &hers); status != http.StatusOK || len(hers.Donations) != 0 || len(hers.Applications) != 0 {
		t.Errorf("F5 Hanako's donor page: %d %s %+v; want nothing of Taro's", status, code, hers)
	}
	s.auditIntact(t)
}
