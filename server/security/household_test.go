package security

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/cardtest"
	"smartpass.city/smartpass/app/card/sim"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/app/playpark"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/server/serverproc"
	"smartpass.city/smartpass/syncproto"
)

// householdServer is a server that trusts the test JPKI, with the demo
// facilities, and the attacker's way in: its HTTP endpoints.
type householdServer struct {
	*serverproc.Proc
	base string
}

// householdStart starts the server binary with the test PKI's anchors.
func householdStart(t *testing.T) *householdServer {
	t.Helper()
	return householdStartWith(t, nil)
}

// householdStartWith starts the server binary with the test PKI's
// anchors, env added to its environment and more arguments.
func householdStartWith(t *testing.T, env []string, more ...string) *householdServer {
	t.Helper()
	a := cardtest.Anchors(t, cardtest.PKI(t))
	dir := t.TempDir()
	var roots []byte
	for _, der := range a.Roots {
		roots = append(roots, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	args := []string{"-data", filepath.Join(dir, "data"), "-assets", t.TempDir(), "-dev", "-demo", "-jpki-roots", filepath.Join(dir, "roots.pem")}
	if err := os.WriteFile(args[len(args)-1], roots, 0o600); err != nil {
		t.Fatal(err)
	}
	for i, der := range a.CRLs {
		f := filepath.Join(dir, fmt.Sprintf("ca%d.crl", i))
		if err := os.WriteFile(f, der, 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-jpki-crl", f)
	}
	addr := serverproc.FreeAddr(t)
	p := serverproc.Start(t, serverBin, env, addr, append(args, more...)...)
	p.WaitHealthy(t)
	return &householdServer{Proc: p, base: "http://" + addr}
}

// nonce asks the server for a card nonce, as anyone may.
func (s *householdServer) nonce(t *testing.T) []byte {
	t.Helper()
	n, err := syncproto.CardNonceAnswer(serverproc.Post(t, s.base+syncproto.CardNoncePath, nil))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// post sends v as JSON to path and decodes a 200 answer into out; it
// returns the status and, for a refusal, its code.
func (s *householdServer) post(t *testing.T, path string, v, out any) (int, string) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	status, body := serverproc.Post(t, s.base+path, b)
	if status != 200 {
		var e syncproto.Error
		json.Unmarshal(body, &e)
		return status, e.Code
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("%s: %v: %s", path, err, body)
		}
	}
	return status, ""
}

// householdHolder is an account's holder: the device key it signs with.
type householdHolder struct {
	id   string
	key  ed25519.PrivateKey
	pub  ed25519.PublicKey
	cert []byte // the card's user-authentication certificate
	card *card.JPKI
}

// householdAuthCert reads j's user-authentication certificate, as
// anybody holding the card for a moment can: it needs no PIN.
func householdAuthCert(t *testing.T, j *card.JPKI) []byte {
	t.Helper()
	der, err := j.Certificate(context.Background(), card.EFAuthCert)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// link has card j sign a fresh server nonce for the account key, with
// its 4-digit PIN: the proof of the fixed protocol.
func (s *householdServer) link(t *testing.T, j *card.JPKI, key ed25519.PublicKey) *account.CardLink {
	t.Helper()
	n := s.nonce(t)
	cert, sig, err := j.Authenticate(context.Background(), card.AuthKey, cardtest.Taro.AuthPIN, account.LinkChallenge(n, key))
	if err != nil {
		t.Fatal(err)
	}
	return &account.CardLink{Nonce: n, Cert: cert, Sig: sig}
}

// householdRequest is an account request as sent on the wire: the
// fields of the code before the fix (auth_cert, read without a PIN) and
// after (link), so one attack runs against both.
type householdRequest struct {
	account.Request
	AuthCert []byte `json:"auth_cert,omitempty"`
}

// householdMember is a family member as sent on the wire, both ways.
type householdMember struct {
	account.Member
	AuthCert []byte `json:"auth_cert,omitempty"`
}

// open opens the account of p with its signature certificate, and, in
// the request, whatever card link the attack puts there.
func (s *householdServer) open(t *testing.T, p sim.Persona, withLink func(key ed25519.PublicKey) (*account.CardLink, []byte)) (householdHolder, int, string) {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(nil)
	n := s.nonce(t)
	cert, sig := cardtest.Prove(t, p, card.SignKey, p.SignPassword, account.Challenge(n, pub))
	req := householdRequest{Request: account.Request{Nonce: n, Cert: cert, Sig: sig, Key: pub}}
	if withLink != nil {
		req.Link, req.AuthCert = withLink(pub)
	}
	var a account.Account
	status, code := s.post(t, account.CreatePath, req, &a)
	return householdHolder{id: a.ID, key: priv, pub: pub, cert: req.AuthCert}, status, code
}

// asHolder sends body to path signed by h's device.
func (s *householdServer) asHolder(t *testing.T, h householdHolder, path string, body, out any) (int, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	n := s.nonce(t)
	return s.post(t, path, account.Signed{Signer: h.id, Nonce: n, Body: b, Sig: ed25519.Sign(h.key, account.Message(path, n, b))}, out)
}

// face registers a template for resident at facility, so the server
// writes the facility's profile of them.
func (s *householdServer) face(t *testing.T, h householdHolder, resident, facility string) {
	t.Helper()
	tpl := template.Template{Resident: resident, Model: "test", Facilities: []string{facility}, Vec: template.Pack([]float32{0.6, 0.8})}
	if status, code := s.asHolder(t, h, account.FacePath, tpl, nil); status != 200 {
		t.Fatalf("register %s's face at %s: %d %s", resident, facility, status, code)
	}
}

// profiles returns the latest profile of each resident at facility, as
// the server published them to its terminals.
func (s *householdServer) profiles(t *testing.T, facility string) map[string]template.Profile {
	t.Helper()
	out := map[string]template.Profile{}
	for _, op := range s.Ops(t) {
		if op.Kind != template.OpProfile {
			continue
		}
		var p template.Profile
		if err := json.Unmarshal(op.Body, &p); err != nil {
			t.Fatal(err)
		}
		if p.Facility == facility {
			out[p.Resident] = p
		}
	}
	return out
}

// auditIntact stops the server and checks its audit log's hash chain.
func (s *householdServer) auditIntact(t *testing.T) {
	t.Helper()
	s.Stop(t)
	out, err := exec.Command(serverBin, "audit-verify", "-data", s.Data).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "intact") {
		t.Fatalf("audit-verify after the attack: %v\n%s", err, out)
	}
}

// householdHanako is a second adult, with her own card.
var householdHanako = func() sim.Persona {
	p := cardtest.Taro
	p.Facts.Name, p.Facts.BirthDate, p.Facts.Sex = "加賀\u3000花子", "19800202", "2"
	return p
}()

// households opens Taro's account and Hanako's, two households, with
// their own cards: the attacker and the attacked.
func (s *householdServer) households(t *testing.T) (taro, hanako householdHolder) {
	t.Helper()
	taro, status, code := s.open(t, cardtest.Taro, nil)
	if status != 200 {
		t.Fatalf("Taro opens: %d %s", status, code)
	}
	hanako, status, code = s.open(t, householdHanako, nil)
	if status != 200 {
		t.Fatalf("Hanako opens: %d %s", status, code)
	}
	return taro, hanako
}

// householdChild is an eight-year-old living in the city, made up.
func householdChild(i int) account.Member {
	return account.Member{Facts: card.Facts{Name: fmt.Sprintf("加賀\u3000架空%d", i), Address: cardtest.Taro.Facts.Address, BirthDate: time.Now().AddDate(-8, 0, 0).Format("20060102"), Sex: "2"}}
}

// TestHouseholdInventedChild (issue 16, finding 2; failed before the
// fix): a holder's phone adds a child nobody's card vouches for, living
// in the city, and registers "her" face at the play park. Before, the
// park's profile made her a local child, admitted free; now her facts
// are self-declared: the park is told so and grants no free entry by
// them, while a child added with her own card's proof still gets it.
func TestHouseholdInventedChild(t *testing.T) {
	s := householdStart(t)
	taro, status, code := s.open(t, cardtest.Taro, nil)
	if status != 200 {
		t.Fatalf("open: %d %s", status, code)
	}
	var invented account.Account
	if status, code := s.asHolder(t, taro, account.MembersPath, householdChild(0), &invented); status != 200 {
		t.Fatalf("the invented child: %d %s (refusing is a fix too, but this one stores her as self-declared)", status, code)
	}
	s.face(t, taro, invented.ID, "kaga-playpark")

	girl := cardtest.Taro
	girl.Facts = householdChild(1).Facts
	var real account.Account
	m := householdMember{Member: account.Member{Facts: girl.Facts}}
	m.Link = s.link(t, cardtest.JPKI(t, girl), taro.pub)
	if status, code := s.asHolder(t, taro, account.MembersPath, m, &real); status != 200 {
		t.Fatalf("a child with her card's proof: %d %s", status, code)
	}
	s.face(t, taro, real.ID, "kaga-playpark")

	profiles := s.profiles(t, "kaga-playpark")
	now := time.Now()
	if p := profiles[invented.ID]; playpark.Eligible(p, now) || !p.Declared {
		t.Errorf("the invented child at the park: free entry %t, marked self-declared %t; want no free entry, marked", playpark.Eligible(p, now), p.Declared)
	}
	if p := profiles[real.ID]; !playpark.Eligible(p, now) || p.Declared {
		t.Errorf("the child proven by her card at the park: free entry %t, self-declared %t; want free entry, proven", playpark.Eligible(p, now), p.Declared)
	}
	s.auditIntact(t)
}

// TestHouseholdCap (issue 16, finding 2; failed before the fix): a
// holder adds thirty-one family members. Past account.MaxMembers they
// are refused; a city desk's registrar device raises the cap for that
// household, and one more goes in.
func TestHouseholdCap(t *testing.T) {
	s := householdStart(t)
	taro, status, code := s.open(t, cardtest.Taro, nil)
	if status != 200 {
		t.Fatalf("open: %d %s", status, code)
	}
	added := 0
	for i := range 31 {
		status, code := s.asHolder(t, taro, account.MembersPath, householdChild(i), nil)
		switch {
		case status == 200:
			added++
		case code != account.CodeHouseholdFull:
			t.Fatalf("member %d: %d %s, want %s", i+1, status, code, account.CodeHouseholdFull)
		}
	}
	if added != account.MaxMembers {
		t.Fatalf("%d of 31 family members added, want the cap, %d", added, account.MaxMembers)
	}
	// The desk's override, signed by a registrar device; a play park's
	// tablet may not.
	desk := s.Enroll(t, "desk-1", "kaga-hq", "registrar")
	park := s.Enroll(t, "park-1", "kaga-playpark", "playpark")
	capAt := func(device string, key ed25519.PrivateKey, max int) (int, string) {
		b, _ := json.Marshal(account.HouseholdCap{Holder: taro.id, Max: max, Staff: "市民課 山田"})
		n := s.nonce(t)
		return s.post(t, account.DeskHouseholdPath, account.Signed{Signer: device, Nonce: n, Body: b, Sig: ed25519.Sign(key, account.Message(account.DeskHouseholdPath, n, b))}, nil)
	}
	if status, code := capAt("park-1", park.Key, 12); code != account.CodeSigned {
		t.Fatalf("a play park's tablet raises the cap: %d %s, want %s", status, code, account.CodeSigned)
	}
	if status, code := capAt("desk-1", desk.Key, account.MaxMembers+1); status != 200 {
		t.Fatalf("the desk's cap: %d %s", status, code)
	}
	if status, code := s.asHolder(t, taro, account.MembersPath, householdChild(100), nil); status != 200 {
		t.Fatalf("a member after the desk's cap: %d %s", status, code)
	}
	if _, code := s.asHolder(t, taro, account.MembersPath, householdChild(101), nil); code != account.CodeHouseholdFull {
		t.Fatalf("past the desk's cap: %s, want %s", code, account.CodeHouseholdFull)
	}
	s.auditIntact(t)
}

// TestHouseholdCardLinkProof (issue 16, finding 2; failed before the
// fix): a card is linked to an account only with its
// user-authentication key's signature, with the PIN, over a fresh server
// nonce bound to that account. Each attack sends the certificate (read
// with no PIN) in the old field and in the new one: the attack works if
// the account opens with the card linked.
func TestHouseholdCardLinkProof(t *testing.T) {
	s := householdStart(t)
	taroCard := cardtest.JPKI(t, cardtest.Taro)
	cert := householdAuthCert(t, taroCard)

	// A proof made once, for an account since deleted: its nonce is
	// spent.
	var spent *account.CardLink
	first, status, code := s.open(t, cardtest.Taro, func(key ed25519.PublicKey) (*account.CardLink, []byte) {
		spent = s.link(t, taroCard, key)
		return spent, nil
	})
	if status != 200 {
		t.Fatalf("open with the card's proof: %d %s", status, code)
	}
	if status, code := s.asHolder(t, first, account.DeletePath, struct{}{}, nil); status != 200 {
		t.Fatalf("delete: %d %s", status, code)
	}

	for _, tc := range []struct {
		name string
		link func(key ed25519.PublicKey) *account.CardLink
	}{
		{"the certificate alone", func(ed25519.PublicKey) *account.CardLink { return &account.CardLink{Cert: cert} }},
		{"a signature over a nonce the server never issued", func(key ed25519.PublicKey) *account.CardLink {
			n := make([]byte, jpki.NonceLen)
			c, sig, err := taroCard.Authenticate(context.Background(), card.AuthKey, cardtest.Taro.AuthPIN, account.LinkChallenge(n, key))
			if err != nil {
				t.Fatal(err)
			}
			return &account.CardLink{Nonce: n, Cert: c, Sig: sig}
		}},
		{"a replayed proof (its nonce used)", func(key ed25519.PublicKey) *account.CardLink {
			l := *spent
			// The replay is for the same key: the attacker resends the
			// whole proof the first device sent.
			return &l
		}},
		{"a proof made for another account's key", func(ed25519.PublicKey) *account.CardLink {
			other, _, _ := ed25519.GenerateKey(nil)
			return s.link(t, taroCard, other)
		}},
	} {
		var opened account.Account
		pub, priv := first.pub, first.key
		if !strings.HasPrefix(tc.name, "a replayed") {
			pub, priv, _ = ed25519.GenerateKey(nil)
		}
		n := s.nonce(t)
		signCert, sig := cardtest.Prove(t, cardtest.Taro, card.SignKey, cardtest.Taro.SignPassword, account.Challenge(n, pub))
		req := householdRequest{Request: account.Request{Nonce: n, Cert: signCert, Sig: sig, Key: pub, Link: tc.link(pub)}, AuthCert: cert}
		status, code := s.post(t, account.CreatePath, req, &opened)
		if status == 200 && len(opened.Cards) > 0 {
			t.Errorf("%s: the card was linked to %s", tc.name, opened.ID)
		}
		if status == 200 {
			h := householdHolder{id: opened.ID, key: priv}
			s.asHolder(t, h, account.DeletePath, struct{}{}, nil)
			continue
		}
		if code != jpki.Code(jpki.ErrSignature) && code != jpki.Code(jpki.ErrNonce) {
			t.Errorf("%s: refused with %q, want the signature's or the nonce's code", tc.name, code)
		}
	}
	s.auditIntact(t)
}

// TestHouseholdCardOneResident (issue 16, finding 2; failed before the
// fix): a card linked to Taro cannot be linked to Hanako, as a member
// of his household or with her own account, even with the card's proof
// (somebody who borrowed it and knows its PIN): the refusal says the
// card is linked and where to move it. A terminal that checks the card
// finds one resident in the profiles the server publishes.
func TestHouseholdCardOneResident(t *testing.T) {
	s := householdStart(t)
	taroCard := cardtest.JPKI(t, cardtest.Taro)
	cert := householdAuthCert(t, taroCard)
	proven := func(key ed25519.PublicKey) (*account.CardLink, []byte) { return s.link(t, taroCard, key), cert }
	taro, status, code := s.open(t, cardtest.Taro, proven)
	if status != 200 {
		t.Fatalf("Taro opens with his card: %d %s", status, code)
	}
	s.face(t, taro, taro.id, "kaga-medical")

	hanako, status, code := s.open(t, householdHanako, proven)
	if status == 200 {
		s.face(t, hanako, hanako.id, "kaga-medical")
	} else if code != account.CodeCardLinked {
		t.Errorf("Hanako with Taro's card: %d %s, want %s", status, code, account.CodeCardLinked)
	}
	if status != 200 { // her account, without a card
		if hanako, status, code = s.open(t, householdHanako, nil); status != 200 {
			t.Fatalf("Hanako without a card: %d %s", status, code)
		}
	}
	m := householdMember{Member: householdChild(0), AuthCert: cert}
	m.Link = s.link(t, taroCard, hanako.pub)
	var child account.Account
	if status, code := s.asHolder(t, hanako, account.MembersPath, m, &child); status == 200 {
		s.face(t, hanako, child.ID, "kaga-medical")
	} else if code != account.CodeCardLinked {
		t.Errorf("Taro's card for Hanako's child: %d %s, want %s", status, code, account.CodeCardLinked)
	}

	fp := jpki.Fingerprint(cert)
	var holders []string
	for id, p := range s.profiles(t, "kaga-medical") {
		if slices.Contains(p.Cards, fp) {
			holders = append(holders, id)
		}
	}
	slices.Sort(holders)
	if len(holders) != 1 || holders[0] != taro.id {
		t.Errorf("the card is on the profiles of %v at the hospital, want %s only", holders, taro.id)
	}
	s.auditIntact(t)
}
