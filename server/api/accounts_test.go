package api

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/cardtest"
	"smartpass.city/smartpass/app/card/sim"
	"smartpass.city/smartpass/app/fare"
	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/pass"
	"smartpass.city/smartpass/app/playpark"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/app/transit"
	"smartpass.city/smartpass/app/wallet"
	"smartpass.city/smartpass/server/fares"
	"smartpass.city/smartpass/server/ledger"
	"smartpass.city/smartpass/server/serverproc"
	"smartpass.city/smartpass/syncproto"
)

// TestAccounts: a resident opens an account with the signature
// certificate over the server's nonce; the same person again is refused
// and offered recovery, which moves the account to the new device; a
// child is refused; every attempt is audited.
func TestAccounts(t *testing.T) {
	pki := cardtest.PKI(t)
	srv := newTestServer(t, anchorsOf(t, pki))
	base := srv.URL
	before := 0

	var priv ed25519.PrivateKey // of the last device an account was opened or recovered on
	answer := func(status int, body []byte, out any) error {
		t.Helper()
		if status != 200 {
			var e syncproto.Error
			json.Unmarshal(body, &e)
			return &e
		}
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatal(err)
		}
		before++
		return nil
	}
	send := func(path string, p sim.Persona) (account.Account, error) {
		t.Helper()
		key, k, _ := ed25519.GenerateKey(nil)
		n := nonce(t, base)
		cert, sig := cardtest.Prove(t, p, card.SignKey, p.SignPassword, account.Challenge(n, key))
		b, _ := json.Marshal(account.Request{Nonce: n, Cert: cert, Sig: sig, Key: key})
		var a account.Account
		status, body := serverproc.Post(t, base+path, b)
		err := answer(status, body, &a)
		if err == nil {
			priv = k
		}
		return a, err
	}
	// asHolder sends a request signed by the account's device.
	asHolder := func(id, path string, body any, out any) error {
		t.Helper()
		b, _ := json.Marshal(body)
		n := nonce(t, base)
		req, _ := json.Marshal(account.Signed{Signer: id, Nonce: n, Body: b, Sig: ed25519.Sign(priv, account.Message(path, n, b))})
		status, resp := serverproc.Post(t, base+path, req)
		return answer(status, resp, out)
	}
	code := func(err error) string {
		var e *syncproto.Error
		if errors.As(err, &e) {
			return e.Code
		}
		return ""
	}
	a, err := send(account.CreatePath, cardtest.Taro)
	if err != nil || a.ID == "" || a.Facts != cardtest.Taro.Facts {
		t.Fatalf("open: %+v, %v", a, err)
	}
	if _, err := send(account.CreatePath, cardtest.Taro); code(err) != account.CodeExists {
		t.Fatalf("a second account: %v, want %s", err, account.CodeExists)
	}
	if b, err := send(account.RecoverPath, cardtest.Taro); err != nil || b.ID != a.ID {
		t.Fatalf("recover: %+v, %v", b, err)
	}
	child := cardtest.Taro
	child.Facts.Name, child.Facts.BirthDate = "加賀\u3000三郎", "20150505"
	if _, err := send(account.CreatePath, child); code(err) != account.CodeTooYoung {
		t.Fatalf("a child: %v, want %s", err, account.CodeTooYoung)
	}
	if _, err := send(account.RecoverPath, child); code(err) != account.CodeNone {
		t.Fatalf("recover without an account: %v, want %s", err, account.CodeNone)
	}
	// The guardian adds a child from the child's card-info application,
	// her card's user-authentication key proving she was there.
	n := nonce(t, base)
	cert, sig := cardtest.Prove(t, child, card.AuthKey, child.AuthPIN, account.LinkChallenge(n, priv.Public().(ed25519.PublicKey)))
	kid := account.Member{Facts: child.Facts, Link: &account.CardLink{Nonce: n, Cert: cert, Sig: sig}}
	var m account.Account
	if err := asHolder(a.ID, account.MembersPath, kid, &m); err != nil || m.Guardian != a.ID {
		t.Fatalf("add a member: %+v, %v", m, err)
	}
	if m.Source != account.SourceCardRead || len(m.Cards) != 1 {
		t.Fatalf("a member with her card's proof: %+v, want card-read and her card linked", m)
	}
	// A commuter pass from the child's wallet through the account API:
	// refused in the fares' own words for a start day gone by and for an
	// operator that sells no such pass (none imported here).
	today := time.Now().In(fare.JST)
	for _, tc := range []struct {
		day  time.Time
		want string
	}{
		{today.AddDate(0, 0, -1), fares.ErrPassDay.Code},
		{today, fares.ErrNoProduct.Code},
	} {
		var rec transit.PassRecord
		buy := transit.BuyPass{Resident: m.ID, Operator: "kaga-bus", Product: "z1z2-30", From: tc.day.Format(time.DateOnly), Request: "r1"}
		if err := asHolder(a.ID, transit.PassPath, buy, &rec); code(err) != tc.want {
			t.Fatalf("a pass from %s: %+v, %v; want %s", buy.From, rec, err, tc.want)
		}
	}
	kid.Link = nil
	if err := asHolder(a.ID, account.MembersPath, kid, &m); code(err) != account.CodeMember {
		t.Fatalf("the same child again: %v, want %s", err, account.CodeMember)
	}
	var h account.Household
	if err := asHolder(a.ID, account.HouseholdPath, struct{}{}, &h); err != nil || len(h.Members) != 1 || h.Members[0].Facts != child.Facts {
		t.Fatalf("household: %+v, %v", h, err)
	}
	// Her face, for the play park only; somebody else's is refused, and
	// so is a facility that does not recognise faces.
	vec := template.Pack([]float32{0.6, 0.8})
	face := template.Template{Resident: m.ID, Model: "test", Facilities: []string{"kaga-playpark"}, Vec: vec}
	var none struct{}
	if err := asHolder(a.ID, account.FacePath, face, &none); err != nil {
		t.Fatalf("register her face: %v", err)
	}
	for _, tc := range []struct {
		t    template.Template
		code string
	}{
		{template.Template{Resident: "R-999999", Model: "test", Facilities: []string{"kaga-playpark"}, Vec: vec}, account.CodeNotYours},
		{template.Template{Resident: m.ID, Model: "test", Facilities: []string{"kaga-hq"}, Vec: vec}, account.CodeConsent},
		{template.Template{Resident: m.ID, Model: "test", Vec: vec}, account.CodeConsent},
	} {
		if err := asHolder(a.ID, account.FacePath, tc.t, &none); code(err) != tc.code {
			t.Errorf("face %+v: %v, want %s", tc.t.Facilities, err, tc.code)
		}
	}
	// The server set her renewal date by her age (a child: a year).
	if err := asHolder(a.ID, account.HouseholdPath, struct{}{}, &h); err != nil {
		t.Fatal(err)
	}
	if exp := h.Members[0].FaceExpires; exp.Before(time.Now().AddDate(1, 0, -1)) || exp.After(time.Now().AddDate(1, 0, 1)) {
		t.Fatalf("her face expires %s, want a year from now", exp)
	}
	var put, del int
	for _, op := range srv.Ops(t) {
		switch op.Kind {
		case template.OpProfile:
			// The park learns her age band and that she lives in the
			// city: nothing of her name, address or birth date.
			var p template.Profile
			json.Unmarshal(op.Body, &p)
			if p.Facility != "kaga-playpark" || p.Resident != m.ID || !playpark.Eligible(p, time.Now()) || p.BandAt(time.Now()) != playpark.Elementary || p.Household != a.ID {
				t.Errorf("her profile %s, want the park's: local, elementary, her household", op.Body)
			}
			for _, secret := range []string{child.Facts.Name, child.Facts.BirthDate, child.Facts.Address, "2015"} {
				if strings.Contains(string(op.Body), secret) {
					t.Errorf("the park's profile of her holds %q: %s", secret, op.Body)
				}
			}
			put++
		case template.OpPut:
			put++
		case template.OpDelete:
			var d template.Delete
			json.Unmarshal(op.Body, &d)
			if slices.Contains(d.Facilities, "kaga-playpark") || !slices.Contains(d.Facilities, "kaga-medical") {
				t.Errorf("the template's removal names %v: want every other facility that recognises faces", d.Facilities)
			}
			del++
		}
	}
	if put != 2 || del != 1 {
		t.Errorf("%d template and profile ops and %d removals on the server, want 2 and 1", put, del)
	}
	// A QR pass for her verifies with the key the server published on
	// the public feed; none is issued for somebody outside the household.
	var qr account.Pass
	if err := asHolder(a.ID, account.PassPath, account.Person{Resident: m.ID}, &qr); err != nil {
		t.Fatalf("her pass: %v", err)
	}
	if p, err := verifyPass(t, srv, qr.Text); err != nil || p.Resident != m.ID || !p.Expires().Equal(qr.Expires) {
		t.Fatalf("her pass verifies as %+v, %v; want her, expiring %s", p, err, qr.Expires)
	}
	herPass := qr.Text
	if err := asHolder(a.ID, account.PassPath, account.Person{Resident: "R-999999"}, &qr); code(err) != account.CodeNotYours {
		t.Fatalf("a pass for somebody else: %v, want %s", err, account.CodeNotYours)
	}
	// Her wallet's statement: the guardian reads it (the read audited),
	// nobody else's.
	if _, _, err := srv.API.Ledger().Post(ledger.Transfer{Cause: "card:pi_1", Kind: ledger.KindTopUp, From: ledger.Clearing(ledger.Card), To: ledger.Wallet(m.ID), Amount: 1000, Actor: "test"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	var st wallet.Statement
	if err := asHolder(a.ID, wallet.StatementPath, account.Person{Resident: m.ID}, &st); err != nil || st.Balance != 1000 || len(st.Lines) != 1 || st.Lines[0].With != "card" {
		t.Fatalf("her statement: %+v, %v", st, err)
	}
	if err := asHolder(a.ID, wallet.StatementPath, account.Person{Resident: "R-999999"}, &st); code(err) != account.CodeNotYours {
		t.Fatalf("somebody else's statement: %v, want %s", err, account.CodeNotYours)
	}
	// A consent granted reaches the facilities that recognise her, with
	// a new profile.
	if err := asHolder(a.ID, account.ConsentPath, account.Consent{Resident: m.ID, Purpose: account.PurposeDisclosure, Granted: true}, &none); err != nil {
		t.Fatalf("consent: %v", err)
	}
	if profiles := srv.Count(t, template.OpProfile); profiles != 2 {
		t.Errorf("%d profiles of her after the consent, want the first and its renewal", profiles)
	}
	if err := asHolder(a.ID, account.FaceDeletePath, account.Person{Resident: "R-999999"}, &none); code(err) != account.CodeNotYours {
		t.Fatalf("delete somebody else's face: %v, want %s", err, account.CodeNotYours)
	}
	if err := asHolder(a.ID, account.FaceDeletePath, account.Person{Resident: m.ID}, &none); err != nil {
		t.Fatalf("delete her face: %v", err)
	}
	saved := priv
	priv = ed25519.NewKeyFromSeed(make([]byte, 32)) // a device that does not hold the account
	if err := asHolder(a.ID, account.HouseholdPath, struct{}{}, &h); code(err) != account.CodeSigned {
		t.Fatalf("household from another device: %v, want %s", err, account.CodeSigned)
	}
	// A city desk registers a resident whose card has no signature
	// certificate, supervised by a named staff member; a play park's
	// tablet may not.
	deskKey := srv.Enroll(t, "desk-1", "kaga-hq", "registrar").Key
	parkKey := srv.Enroll(t, "park-1", "kaga-playpark", "playpark").Key
	boy := account.Supervised{Facts: card.Facts{Name: "加賀\u3000五郎", Address: "石川県加賀市", BirthDate: "20140303", Sex: "1"}, Staff: "市民課 山田"}
	asDevice := func(device string, key ed25519.PrivateKey, body account.Supervised, out any) error {
		b, _ := json.Marshal(body)
		n := nonce(t, base)
		req, _ := json.Marshal(account.Signed{Signer: device, Nonce: n, Body: b, Sig: ed25519.Sign(key, account.Message(account.DeskPath, n, b))})
		status, resp := serverproc.Post(t, base+account.DeskPath, req)
		return answer(status, resp, out)
	}
	var supervised account.Account
	if err := asDevice("desk-1", deskKey, boy, &supervised); err != nil || supervised.ID == "" || supervised.Facts != boy.Facts {
		t.Fatalf("desk enrollment: %+v, %v", supervised, err)
	}
	// How staff checked: the card-face check's score, kept; a check a
	// desk cannot make (by the card-face check, which refused) is not.
	checked := boy
	checked.Facts.Name, checked.Check = "加賀\u3000六郎", &account.DeskCheck{By: account.ByCardFace, Outcome: identify.Accepted, Score: 0.97}
	if err := asDevice("desk-1", deskKey, checked, &supervised); err != nil || supervised.ID == "" {
		t.Fatalf("desk enrollment by the card-face check: %+v, %v", supervised, err)
	}
	checked.Facts.Name, checked.Check = "加賀\u3000七郎", &account.DeskCheck{By: account.ByCardFace, Outcome: identify.Unknown, Score: 0.2}
	if err := asDevice("desk-1", deskKey, checked, &supervised); code(err) != syncproto.CodeInvalid {
		t.Fatalf("by a card-face check that refused: %v, want %s", err, syncproto.CodeInvalid)
	}
	if err := asDevice("desk-1", deskKey, boy, &supervised); code(err) != account.CodeMember {
		t.Fatalf("the same person again at the desk: %v, want %s", err, account.CodeMember)
	}
	nobody := boy
	nobody.Facts.Name, nobody.Staff = "加賀\u3000四郎", " "
	if err := asDevice("desk-1", deskKey, nobody, &supervised); code(err) != account.CodeStaff {
		t.Fatalf("no staff named: %v, want %s", err, account.CodeStaff)
	}
	nobody.Staff = "市民課 山田"
	if err := asDevice("park-1", parkKey, nobody, &supervised); code(err) != account.CodeSigned {
		t.Fatalf("a play park tablet at the desk: %v, want %s", err, account.CodeSigned)
	}

	priv = saved
	if err := asHolder(a.ID, account.DeletePath, struct{}{}, &none); err != nil {
		t.Fatalf("delete the account: %v", err)
	}
	if err := asHolder(a.ID, account.HouseholdPath, struct{}{}, &h); code(err) != account.CodeSigned {
		t.Fatalf("the deleted account's household: %v, want %s", err, account.CodeSigned)
	}
	// Her wallet is closed with the account: a shop online is refused.
	pay, _ := json.Marshal(wallet.Payment{Facility: "shop-a", Resident: m.ID, Amount: 100})
	if err := srv.API.Ledger().Check("till-1", syncproto.Op{Seq: 1, Kind: wallet.OpPayment, Body: pay}); !errors.Is(err, ledger.ErrDeleted) {
		t.Fatalf("a payment from the deleted account's wallet: %v, want %v", err, ledger.ErrDeleted)
	}
	var erased int
	for _, op := range srv.Ops(t) {
		if op.Kind == template.OpPut || op.Kind == template.OpProfile {
			t.Errorf("a face or profile left on the server after the account was deleted: %s", op.Body)
		}
		if op.Kind == template.OpErased {
			erased++
		}
	}
	if erased == 0 {
		t.Error("no template erased")
	}
	if n := srv.auditEntries(t); n < 13 {
		t.Errorf("the audit log holds %d entries, want at least the 13 attempts", n)
	}

	// A restart keeps the pass key: passes issued before still verify,
	// and the key is not published again.
	srv.restart(t)
	if _, err := verifyPass(t, srv, herPass); err != nil {
		t.Fatalf("a pass issued before the restart: %v", err)
	}
	if published := srv.Count(t, pass.OpKeys); published != 1 {
		t.Fatalf("the pass key published %d times, want once", published)
	}
}

// verifyPass checks a QR pass's text as a terminal does, with the pass
// keys the server published last.
func verifyPass(t *testing.T, srv *testServer, text string) (pass.Pass, error) {
	t.Helper()
	var keys pass.Keys
	for _, op := range srv.Ops(t) {
		if op.Kind == pass.OpKeys {
			if err := json.Unmarshal(op.Body, &keys); err != nil {
				t.Fatal(err)
			}
		}
	}
	s, err := pass.Parse(text)
	if err != nil {
		return pass.Pass{}, err
	}
	return s.Verify(keys, time.Now())
}
