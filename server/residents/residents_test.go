package residents

import (
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/cardtest"
	"smartpass.city/smartpass/app/card/sim"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/server/oplog"
)

func registry(t *testing.T) *Registry {
	t.Helper()
	l, err := oplog.Open(t.TempDir(), oplog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	v, err := cardtest.PKI(t).Verifier()
	if err != nil {
		t.Fatal(err)
	}
	return &Registry{Log: l, Verifier: v, Nonces: &jpki.Nonces{}}
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
	if _, err := g.Household(a.ID); !errors.Is(err, oplog.ErrNotFound) {
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
