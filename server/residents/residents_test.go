package residents

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/cardtest"
	"smartpass.city/smartpass/app/card/sim"
	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/server/oplog"
	"smartpass.city/smartpass/server/store"
)

func registry(t *testing.T) *Registry {
	t.Helper()
	l, err := oplog.Open(t.TempDir(), oplog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return &Registry{Log: l, Verifier: cardtest.Verifier(t, cardtest.PKI(t)), Nonces: &jpki.Nonces{}}
}

// request has a card of p sign a fresh nonce of g bound to a new device
// key, as the PWA does.
func request(t *testing.T, g *Registry, p sim.Persona) account.Request {
	t.Helper()
	key, _, _ := ed25519.GenerateKey(nil)
	nonce := g.Nonces.Issue()
	cert, sig := cardtest.Prove(t, p, card.SignKey, p.SignPassword, account.Challenge(nonce, key))
	return account.Request{Nonce: nonce, Cert: cert, Sig: sig, Key: key}
}

func TestOpenAndRecover(t *testing.T) {
	g := registry(t)
	req := request(t, g, cardtest.Taro)
	a, err := g.Open(req)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != "R-000001" || a.Facts != cardtest.Taro.Facts {
		t.Fatalf("Open = %+v", a)
	}
	// The same request again: its nonce is spent.
	if _, err := g.Open(req); !errors.Is(err, jpki.ErrNonce) {
		t.Fatalf("a replayed request: %v, want ErrNonce", err)
	}
	// The same person with another card (a renewal, a new device): one
	// person, one account.
	again := request(t, g, cardtest.Taro)
	if _, err := g.Open(again); !errors.Is(err, ErrExists) {
		t.Fatalf("a second account for the same person: %v, want ErrExists", err)
	}
	moved := request(t, g, cardtest.Taro)
	r, err := g.Recover(moved)
	if err != nil || r.ID != a.ID {
		t.Fatalf("Recover = %+v, %v; want %s", r, err, a.ID)
	}
	// Somebody else opens the next account; recovering a person with no
	// account is refused.
	hanako := cardtest.Taro
	hanako.Facts.Name, hanako.Facts.BirthDate, hanako.Facts.Sex = "加賀\u3000花子", "19800202", "2"
	if b, err := g.Open(request(t, g, hanako)); err != nil || b.ID != "R-000002" {
		t.Fatalf("second resident: %+v, %v", b, err)
	}
	jiro := cardtest.Taro
	jiro.Facts.Name = "加賀\u3000次郎"
	if _, err := g.Recover(request(t, g, jiro)); !errors.Is(err, ErrNone) {
		t.Fatalf("recover with no account: %v, want ErrNone", err)
	}
	// Real signature certificates say 3 (不明) for some people; they
	// enroll like anyone (before, only 1, 2 and 9 were accepted).
	kaoru := cardtest.Taro
	kaoru.Facts.Name, kaoru.Facts.Sex = "加賀\u3000薫", card.SexUnknown
	if c, err := g.Open(request(t, g, kaoru)); err != nil || c.Facts.Sex != card.SexUnknown {
		t.Fatalf("a certificate with sex 3: %+v, %v", c, err)
	}
}

func TestOpenRefusals(t *testing.T) {
	g := registry(t)
	child := cardtest.Taro
	child.Facts.BirthDate = time.Now().AddDate(-15, 0, 0).Format("20060102")
	if _, err := g.Open(request(t, g, child)); !errors.Is(err, ErrTooYoung) {
		t.Fatalf("a 15-year-old: %v, want ErrTooYoung", err)
	}
	sixteen := cardtest.Taro
	sixteen.Facts.Name = "加賀\u3000十六"
	sixteen.Facts.BirthDate = time.Now().AddDate(-16, 0, 0).Format("20060102")
	if _, err := g.Open(request(t, g, sixteen)); err != nil {
		t.Fatalf("16 today: %v", err)
	}

	req := request(t, g, cardtest.Taro)
	other := req
	other.Key = make([]byte, ed25519.PublicKeySize) // the proof was made for another device
	if _, err := g.Open(other); !errors.Is(err, jpki.ErrSignature) {
		t.Fatalf("a proof moved to another device key: %v, want ErrSignature", err)
	}
	short := request(t, g, cardtest.Taro)
	short.Key = short.Key[:8]
	if _, err := g.Open(short); !errors.Is(err, ErrRequest) {
		t.Fatalf("a short key: %v, want ErrRequest", err)
	}

	// The user-authentication certificate does not carry the four facts.
	key, _, _ := ed25519.GenerateKey(nil)
	nonce := g.Nonces.Issue()
	cert, sig := cardtest.Prove(t, cardtest.Taro, card.AuthKey, cardtest.Taro.AuthPIN, account.Challenge(nonce, key))
	if _, err := g.Open(account.Request{Nonce: nonce, Cert: cert, Sig: sig, Key: key}); !errors.Is(err, jpki.ErrNoFacts) {
		t.Fatalf("the user-authentication certificate: %v, want ErrNoFacts", err)
	}
}

// sign makes a request of the account holding priv.
func sign(g *Registry, id string, priv ed25519.PrivateKey, path string, body []byte) account.Signed {
	nonce := g.Nonces.Issue()
	return account.Signed{Signer: id, Nonce: nonce, Body: body, Sig: ed25519.Sign(priv, account.Message(path, nonce, body))}
}

// A guardian adds a child read from the child's card-info application;
// the household lists them; the same child again is refused; only the
// account's device key can ask.
func TestHousehold(t *testing.T) {
	g := registry(t)
	pub, priv, _ := ed25519.GenerateKey(nil)
	nonce := g.Nonces.Issue()
	cert, sig := cardtest.Prove(t, cardtest.Taro, card.SignKey, cardtest.Taro.SignPassword, account.Challenge(nonce, pub))
	guardian, err := g.Open(account.Request{Nonce: nonce, Cert: cert, Sig: sig, Key: pub})
	if err != nil {
		t.Fatal(err)
	}
	req := sign(g, guardian.ID, priv, account.MembersPath, []byte(`{}`))
	a, body, err := g.Authenticate(account.MembersPath, req)
	if err != nil || a.ID != guardian.ID || string(body) != "{}" {
		t.Fatalf("Authenticate = %+v, %s, %v", a, body, err)
	}
	if _, _, err := g.Authenticate(account.MembersPath, req); !errors.Is(err, jpki.ErrNonce) {
		t.Fatalf("a replayed request: %v", err)
	}
	for name, bad := range map[string]account.Signed{
		"another path":    sign(g, guardian.ID, priv, account.HouseholdPath, []byte(`{}`)),
		"another account": sign(g, "R-999999", priv, account.MembersPath, []byte(`{}`)),
		"another key": func() account.Signed {
			_, other, _ := ed25519.GenerateKey(nil)
			return sign(g, guardian.ID, other, account.MembersPath, []byte(`{}`))
		}(),
	} {
		if _, _, err := g.Authenticate(account.MembersPath, bad); !errors.Is(err, ErrSigned) {
			t.Errorf("%s: %v, want ErrSigned", name, err)
		}
	}

	child := card.Facts{Name: "加賀\u3000花子", Address: cardtest.Taro.Facts.Address, BirthDate: "20180505", Sex: "2"}
	m, err := g.AddMember(guardian.ID, account.Member{Facts: child})
	if err != nil || m.Guardian != guardian.ID || m.Facts != child {
		t.Fatalf("AddMember = %+v, %v", m, err)
	}
	if _, err := g.AddMember(guardian.ID, account.Member{Facts: child}); !errors.Is(err, ErrExists) {
		t.Fatalf("the same child again: %v, want ErrExists", err)
	}
	if _, err := g.AddMember(guardian.ID, account.Member{Facts: card.Facts{Name: "x", BirthDate: "2018", Sex: "2"}}); !errors.Is(err, ErrFacts) {
		t.Fatalf("a short birth date: %v, want ErrFacts", err)
	}
	h, err := g.Household(guardian.ID)
	if err != nil || h.Guardian.ID != guardian.ID || len(h.Members) != 1 || h.Members[0].ID != m.ID {
		t.Fatalf("Household = %+v, %v", h, err)
	}
	// A family member has no device key: nobody signs as them.
	if _, _, err := g.Authenticate(account.HouseholdPath, sign(g, m.ID, priv, account.HouseholdPath, nil)); !errors.Is(err, ErrSigned) {
		t.Fatalf("a request as the child: %v, want ErrSigned", err)
	}
}

// family is a registry with Taro's account and his daughter in it.
func family(t *testing.T) (g *Registry, guardian, daughter account.Account) {
	t.Helper()
	g = registry(t)
	guardian, err := g.Open(request(t, g, cardtest.Taro))
	if err != nil {
		t.Fatal(err)
	}
	daughter, err = g.AddMember(guardian.ID, account.Member{Facts: card.Facts{Name: "加賀\u3000花子", BirthDate: "20180505", Sex: "2"}})
	if err != nil {
		t.Fatal(err)
	}
	return g, guardian, daughter
}

// Deleting an account removes it and its family members; their ids are
// never given again, and the person may open an account afresh.
func TestDelete(t *testing.T) {
	g, a, m := family(t)
	gone, err := g.Delete(a.ID)
	if err != nil || len(gone) != 2 || gone[0] != a.ID || gone[1] != m.ID {
		t.Fatalf("Delete = %v, %v", gone, err)
	}
	if _, err := g.Household(a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the deleted account's household: %v", err)
	}
	again, err := g.Open(request(t, g, cardtest.Taro))
	if err != nil || again.ID != "R-000003" {
		t.Fatalf("opened again: %+v, %v; want a new id R-000003", again, err)
	}
}

// Consents per purpose: granted and withdrawn by the holder, for anyone
// of the household only, for known purposes only.
func TestConsent(t *testing.T) {
	g, a, m := family(t)
	if err := g.SetConsent(a.ID, account.Consent{Resident: m.ID, Purpose: account.PurposeDisclosure, Granted: true}); err != nil {
		t.Fatal(err)
	}
	h, _ := g.Household(a.ID)
	if !h.Members[0].Consents[account.PurposeDisclosure] || h.Guardian.Consents[account.PurposeDisclosure] {
		t.Fatalf("consents after granting hers: %+v / %+v", h.Members[0].Consents, h.Guardian.Consents)
	}
	if err := g.SetConsent(a.ID, account.Consent{Resident: m.ID, Purpose: account.PurposeDisclosure}); err != nil {
		t.Fatal(err)
	}
	if h, _ := g.Household(a.ID); h.Members[0].Consents[account.PurposeDisclosure] {
		t.Fatal("a withdrawn consent still stands")
	}
	if err := g.SetConsent(a.ID, account.Consent{Resident: m.ID, Purpose: "marketing", Granted: true}); !errors.Is(err, ErrPurpose) {
		t.Fatalf("an unknown purpose: %v", err)
	}
	if err := g.SetConsent(a.ID, account.Consent{Resident: "R-999999", Purpose: account.PurposeMedication, Granted: true}); !errors.Is(err, ErrNotYours) {
		t.Fatalf("somebody else's consent: %v", err)
	}
}

// linkWith has card j sign a fresh nonce of g for the account of key,
// with the 4-digit PIN, as the PWA does.
func linkWith(t *testing.T, g *Registry, j *card.JPKI, key []byte) *account.CardLink {
	t.Helper()
	nonce := g.Nonces.Issue()
	cert, sig, err := j.Authenticate(context.Background(), card.AuthKey, cardtest.Taro.AuthPIN, account.LinkChallenge(nonce, key))
	if err != nil {
		t.Fatal(err)
	}
	return &account.CardLink{Nonce: nonce, Cert: cert, Sig: sig}
}

// TestCardLinks (issue 16, finding 2): a card is linked only with its
// user-authentication key's signature over a fresh nonce bound to the
// account's key, to one resident only; a family member's facts are
// card-read with their card's proof and self-declared without.
func TestCardLinks(t *testing.T) {
	g := registry(t)
	taro := cardtest.JPKI(t, cardtest.Taro)
	req := request(t, g, cardtest.Taro)
	req.Link = linkWith(t, g, taro, req.Key)
	fp := jpki.Fingerprint(req.Link.Cert)
	a, err := g.Open(req)
	if err != nil || len(a.Cards) != 1 || a.Cards[0] != fp || a.Source != account.SourceCertificate {
		t.Fatalf("open with a link: %+v, %v", a, err)
	}

	hanako := cardtest.Taro
	hanako.Facts.Name, hanako.Facts.BirthDate, hanako.Facts.Sex = "加賀\u3000花子", "19800202", "2"
	for _, tc := range []struct {
		name string
		link func(key []byte) *account.CardLink
		want error
	}{
		{"no signature", func(key []byte) *account.CardLink {
			l := linkWith(t, g, taro, key)
			l.Sig = nil
			return l
		}, jpki.ErrSignature},
		{"signed for another account's key", func([]byte) *account.CardLink {
			other, _, _ := ed25519.GenerateKey(nil)
			return linkWith(t, g, taro, other)
		}, jpki.ErrSignature},
		{"a replayed proof", func([]byte) *account.CardLink { return req.Link }, jpki.ErrNonce},
		{"a nonce never issued", func(key []byte) *account.CardLink {
			l := linkWith(t, g, taro, key)
			l.Nonce = make([]byte, 32)
			return l
		}, jpki.ErrNonce},
		{"Taro's card, proven, for Hanako", func(key []byte) *account.CardLink { return linkWith(t, g, taro, key) }, ErrCardLinked},
	} {
		r := request(t, g, hanako)
		r.Link = tc.link(r.Key)
		if _, err := g.Open(r); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// Nothing of those attempts stayed: Hanako opens hers with her card.
	r := request(t, g, hanako)
	r.Link = linkWith(t, g, cardtest.JPKI(t, hanako), r.Key)
	if b, err := g.Open(r); err != nil || len(b.Cards) != 1 {
		t.Fatalf("Hanako with her own card: %+v, %v", b, err)
	}

	// Taro recovers on a new phone with the same card: still his.
	moved := request(t, g, cardtest.Taro)
	moved.Link = linkWith(t, g, taro, moved.Key)
	if b, err := g.Recover(moved); err != nil || b.ID != a.ID || b.Cards[0] != fp {
		t.Fatalf("recover with his card: %+v, %v", b, err)
	}

	// His daughter with her card's proof over his key: card-read, her
	// card linked; his son without: self-declared; his card for a third
	// child: refused.
	holderKey := moved.Key
	girl := cardtest.Taro
	girl.Facts.Name, girl.Facts.BirthDate, girl.Facts.Sex = "加賀\u3000桜", "20180505", "2"
	gl := linkWith(t, g, cardtest.JPKI(t, girl), holderKey)
	d, err := g.AddMember(a.ID, account.Member{Facts: girl.Facts, Link: gl})
	if err != nil || d.Source != account.SourceCardRead || account.Declared(d.Source) || d.Cards[0] != jpki.Fingerprint(gl.Cert) {
		t.Fatalf("a member with her card: %+v, %v", d, err)
	}
	boy := card.Facts{Name: "加賀\u3000一郎", Address: girl.Facts.Address, BirthDate: "20160101", Sex: "1"}
	s, err := g.AddMember(a.ID, account.Member{Facts: boy})
	if err != nil || s.Source != account.SourceDeclared || !account.Declared(s.Source) || len(s.Cards) != 0 {
		t.Fatalf("a member without a card: %+v, %v", s, err)
	}
	third := card.Facts{Name: "加賀\u3000二郎", BirthDate: "20170101", Sex: "1"}
	if _, err := g.AddMember(a.ID, account.Member{Facts: third, Link: linkWith(t, g, taro, holderKey)}); !errors.Is(err, ErrCardLinked) {
		t.Fatalf("his card for a third child: %v, want ErrCardLinked", err)
	}
	if _, err := g.AddMember(a.ID, account.Member{Facts: third, Link: linkWith(t, g, cardtest.JPKI(t, girl), req.Key)}); !errors.Is(err, jpki.ErrSignature) {
		t.Fatalf("a proof made for his old phone's key: %v, want ErrSignature", err)
	}

	// Deleting the account frees the cards: Taro's links to his new one.
	if _, err := g.Delete(a.ID); err != nil {
		t.Fatal(err)
	}
	again := request(t, g, cardtest.Taro)
	again.Link = linkWith(t, g, taro, again.Key)
	if b, err := g.Open(again); err != nil || b.Cards[0] != fp {
		t.Fatalf("his card after the deletion: %+v, %v", b, err)
	}
}

// TestHouseholdCap (issue 16, finding 2): a household adds up to
// account.MaxMembers family members; a city desk raises the cap for one
// household, never below its members or beyond account.MaxCap.
func TestHouseholdCap(t *testing.T) {
	g := registry(t)
	a, err := g.Open(request(t, g, cardtest.Taro))
	if err != nil {
		t.Fatal(err)
	}
	child := func(i int) account.Member {
		return account.Member{Facts: card.Facts{Name: fmt.Sprintf("加賀\u3000子%d", i), BirthDate: "20180505", Sex: "2"}}
	}
	for i := range account.MaxMembers {
		if _, err := g.AddMember(a.ID, child(i)); err != nil {
			t.Fatalf("member %d: %v", i+1, err)
		}
	}
	if _, err := g.AddMember(a.ID, child(account.MaxMembers)); !errors.Is(err, ErrHouseholdFull) {
		t.Fatalf("member %d: %v, want ErrHouseholdFull", account.MaxMembers+1, err)
	}
	h, _ := g.Household(a.ID)
	for _, tc := range []struct {
		who string
		max int
	}{{a.ID, account.MaxMembers - 1}, {a.ID, account.MaxCap + 1}, {a.ID, 0}, {h.Members[0].ID, 12}, {"R-999999", 12}} {
		if err := g.SetCap(tc.who, tc.max, "desk-1 山田"); err == nil {
			t.Errorf("cap %d for %s: accepted", tc.max, tc.who)
		}
	}
	if err := g.SetCap(a.ID, account.MaxMembers+1, "desk-1 山田"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.AddMember(a.ID, child(account.MaxMembers)); err != nil {
		t.Fatalf("a member past the default cap, after the desk's: %v", err)
	}
	if _, err := g.AddMember(a.ID, child(account.MaxMembers+1)); !errors.Is(err, ErrHouseholdFull) {
		t.Fatalf("past the desk's cap: %v, want ErrHouseholdFull", err)
	}
	if h, _ := g.Household(a.ID); len(h.Members) != account.MaxMembers+1 {
		t.Fatalf("%d members, want %d", len(h.Members), account.MaxMembers+1)
	}
}

// TestAddAtDesk: a city desk's registration keeps how staff checked the
// person (the card-face check's score, or by sight after a refusal); a
// desk of an older build sends none and is kept as before; a check a
// desk cannot make is refused.
func TestAddAtDesk(t *testing.T) {
	g := registry(t)
	facts := func(name string) card.Facts {
		return card.Facts{Name: "加賀\u3000" + name, Address: "石川県加賀市大聖寺", BirthDate: "20150505", Sex: "1"}
	}
	for _, tc := range []struct {
		name  string
		check *account.DeskCheck
		ok    bool
	}{
		{"一郎", &account.DeskCheck{By: account.ByCardFace, Outcome: identify.Accepted, Score: 0.83}, true},
		{"二郎", &account.DeskCheck{By: account.ByStaff, Outcome: identify.Unknown, Score: 0.21}, true},
		{"三郎", nil, true},
		{"四郎", &account.DeskCheck{By: account.ByCardFace, Outcome: identify.Unknown, Score: 0.21}, false},
	} {
		acc, err := g.AddAtDesk(account.Supervised{Facts: facts(tc.name), Check: tc.check}, "desk-1 山田")
		if !tc.ok {
			if !errors.Is(err, ErrRequest) || !errors.Is(err, account.ErrDeskCheck) {
				t.Errorf("%s: %v, want ErrRequest", tc.name, err)
			}
			continue
		}
		if err != nil || acc.Source != account.SourceDesk {
			t.Fatalf("%s: %+v, %v", tc.name, acc, err)
		}
		got, err := g.DeskCheck(acc.ID)
		if err != nil || (got == nil) != (tc.check == nil) || (got != nil && *got != *tc.check) {
			t.Errorf("%s: kept %+v, %v; want %+v", tc.name, got, err, tc.check)
		}
	}
}
