package api

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/cardtest"
	"smartpass.city/smartpass/app/card/sim"
	"smartpass.city/smartpass/app/checkout"
	"smartpass.city/smartpass/app/state"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/app/terminal"
	"smartpass.city/smartpass/app/wallet"
	"smartpass.city/smartpass/server/ledger"
	"smartpass.city/smartpass/server/serverproc"
	"smartpass.city/smartpass/syncproto"
)

// walletHolder is an account's holder on the test server: who, and the
// device key that signs their requests.
type walletHolder struct {
	id  string
	key ed25519.PrivateKey
}

// openAccount opens p's account from a new device key.
func openAccount(t *testing.T, srv *testServer, p sim.Persona) walletHolder {
	t.Helper()
	pub, key, _ := ed25519.GenerateKey(nil)
	n := nonce(t, srv.URL)
	cert, sig := cardtest.Prove(t, p, card.SignKey, p.SignPassword, account.Challenge(n, pub))
	b, _ := json.Marshal(account.Request{Nonce: n, Cert: cert, Sig: sig, Key: pub})
	var a account.Account
	if err := holderAnswer(serverproc.Post(t, srv.URL+account.CreatePath, b))(&a); err != nil {
		t.Fatalf("open %s's account: %v", p.Facts.Name, err)
	}
	return walletHolder{id: a.ID, key: key}
}

// send posts body to path signed by h, decoding a 200 answer into out;
// a refusal is its *syncproto.Error.
func (h walletHolder) send(t *testing.T, srv *testServer, path string, body, out any) error {
	t.Helper()
	b, _ := json.Marshal(body)
	n := nonce(t, srv.URL)
	req, _ := json.Marshal(account.Signed{Signer: h.id, Nonce: n, Body: b, Sig: ed25519.Sign(h.key, account.Message(path, n, b))})
	return holderAnswer(serverproc.Post(t, srv.URL+path, req))(out)
}

// holderAnswer decodes an answer: into out when 200, else its refusal.
func holderAnswer(status int, body []byte) func(out any) error {
	return func(out any) error {
		if status != 200 {
			e := &syncproto.Error{}
			json.Unmarshal(body, e)
			return e
		}
		if out == nil {
			return nil
		}
		return json.Unmarshal(body, out)
	}
}

// refusalCode is a refusal's code, or "".
func refusalCode(err error) string {
	if e, ok := errors.AsType[*syncproto.Error](err); ok {
		return e.Code
	}
	return ""
}

// TestWalletSettings: Taro, holder of his household, sets his daughter's
// wallet limits from the account page's endpoint: the server writes its
// wallet.limits op, the ledger enforces them at once (an online payment
// over the per-payment limit refused), her statement shows them, and
// the shop's profile of her carries them, so the till asks her second
// factor above her face-only limit and refuses above the per-payment
// one. Refused in their words, nothing changed: another household's
// member, a face-only limit above the city's bound, a guardian's limits
// on his own wallet, a per-payment limit above the daily one.
func TestWalletSettings(t *testing.T) {
	srv := newTestServer(t, anchorsOf(t, cardtest.PKI(t)))
	taro := openAccount(t, srv, cardtest.Taro)
	hanakoP := cardtest.Taro
	hanakoP.Facts.Name, hanakoP.Facts.BirthDate, hanakoP.Facts.Sex = "加賀\u3000花子", "19800202", "2"
	hanako := openAccount(t, srv, hanakoP)

	var kid account.Account
	girl := account.Member{Facts: card.Facts{Name: "加賀\u3000三子", Address: cardtest.Taro.Facts.Address, BirthDate: time.Now().AddDate(-9, 0, 0).Format("20060102"), Sex: "2"}}
	if err := taro.send(t, srv, account.MembersPath, girl, &kid); err != nil {
		t.Fatalf("add his daughter: %v", err)
	}
	face := template.Template{Resident: kid.ID, Model: "test", Facilities: []string{"kaga-shop"}, Vec: template.Pack([]float32{0.6, 0.8})}
	if err := taro.send(t, srv, account.FacePath, face, nil); err != nil {
		t.Fatalf("her face at the shop: %v", err)
	}
	audited := srv.auditEntries(t)

	one := int64(1_000)
	var st wallet.Statement
	set := wallet.Settings{Resident: kid.ID, FaceOnly: &one, Daily: 3_000, PerPay: 2_000}
	if err := taro.send(t, srv, wallet.SettingsPath, set, &st); err != nil {
		t.Fatalf("her limits: %v", err)
	}
	in := st.Limits
	if in.FaceOnly == nil || *in.FaceOnly != 1_000 || in.Daily != 3_000 || in.PerPay != 2_000 || in.Guardian != taro.id || in.FaceOnlyMax != checkout.DefaultFaceOnlyMax {
		t.Fatalf("the limits in force after setting them: %+v", in)
	}
	if n := srv.auditEntries(t); n <= audited {
		t.Errorf("the setting is not in the audit log (%d entries, %d before)", n, audited)
	}

	// The server's op, and the shop's profile written after it.
	var limitsOps int
	var prof template.Profile
	for _, op := range srv.Ops(t) {
		switch op.Kind {
		case wallet.OpLimits:
			var l wallet.Limits
			json.Unmarshal(op.Body, &l)
			if op.Device != "server" || l.Resident != kid.ID || l.Guardian != taro.id || l.PerPay != 2_000 {
				t.Errorf("the limits op: %s by %s", op.Body, op.Device)
			}
			limitsOps++
		case template.OpProfile:
			var p template.Profile
			json.Unmarshal(op.Body, &p)
			if p.Facility == "kaga-shop" && p.Resident == kid.ID {
				prof = p
			}
		}
	}
	if limitsOps != 1 {
		t.Fatalf("%d wallet.limits ops, want 1", limitsOps)
	}
	if prof.Pay == nil || prof.Pay.FaceOnly == nil || *prof.Pay.FaceOnly != 1_000 || prof.Pay.PerPayment != 2_000 || prof.Pay.Daily != 3_000 {
		t.Fatalf("the shop's profile of her: %+v", prof.Pay)
	}

	// The ledger enforces them on an online payment.
	pay, _ := json.Marshal(wallet.Payment{Facility: "kaga-shop", Resident: kid.ID, Amount: 2_500})
	if err := srv.API.Ledger().Check("till-1", syncproto.Op{Seq: 1, Kind: wallet.OpPayment, Body: pay}); !errors.Is(err, ledger.ErrPerPayment) {
		t.Errorf("¥2,500 online past her ¥2,000 a payment: %v, want %v", err, ledger.ErrPerPayment)
	}

	// The till, from the profile: ¥800 by face alone, ¥1,500 asks the
	// card or pass, ¥2,500 refused before she taps.
	fold := &state.State{Profiles: map[string]template.Profile{kid.ID: prof}}
	for _, c := range []struct {
		amount int64
		step   checkout.Step
	}{{800, checkout.Done}, {1_500, checkout.Second}, {2_500, checkout.Refused}} {
		payer, ok := terminal.Payer(fold, kid.ID, false)
		p := checkout.Start(checkout.Policy{}, false, checkout.Allowance{})
		if err := p.Keyed(c.amount); err != nil || !ok {
			t.Fatalf("¥%d: %v (payer found %v)", c.amount, err, ok)
		}
		if p.Face(payer, true, time.Now()) == nil {
			p.Tap(time.Now())
		}
		if p.Step != c.step {
			t.Errorf("¥%d at the till: step %d, want %d (%v)", c.amount, p.Step, c.step, p.Refusal)
		}
	}

	// Refusals, each in its words; nothing written.
	ten := int64(10_001)
	for _, c := range []struct {
		name string
		who  walletHolder
		set  wallet.Settings
		code string
	}{
		{"another household's member", hanako, wallet.Settings{Resident: kid.ID, FaceOnly: &ten}, account.CodeNotYours},
		{"a face-only limit above the city's bound", taro, wallet.Settings{Resident: kid.ID, FaceOnly: &ten}, ledger.ErrFaceOnlyMax.Code},
		{"a guardian's limits on his own wallet", taro, wallet.Settings{Resident: taro.id, Daily: 1_000}, wallet.CodeNotGuarded},
		{"a payment limit above the daily one", taro, wallet.Settings{Resident: kid.ID, Daily: 1_000, PerPay: 2_000}, wallet.CodeLimits},
	} {
		st = wallet.Statement{}
		err := c.who.send(t, srv, wallet.SettingsPath, c.set, &st)
		if refusalCode(err) != c.code {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
		if e, ok := errors.AsType[*syncproto.Error](err); ok && e.Message == "" {
			t.Errorf("%s: refused without words", c.name)
		}
	}
	st = wallet.Statement{}
	if err := taro.send(t, srv, wallet.StatementPath, account.Person{Resident: kid.ID}, &st); err != nil || st.Limits.PerPay != 2_000 || *st.Limits.FaceOnly != 1_000 {
		t.Fatalf("her limits after the refusals: %+v, %v", st.Limits, err)
	}

	// His own face-only limit: 0, the card every time; the default kept
	// for nobody else.
	zero := int64(0)
	st = wallet.Statement{}
	if err := taro.send(t, srv, wallet.SettingsPath, wallet.Settings{Resident: taro.id, FaceOnly: &zero}, &st); err != nil || st.Limits.FaceOnly == nil || *st.Limits.FaceOnly != 0 {
		t.Fatalf("his own face-only limit 0: %+v, %v", st.Limits, err)
	}
	st = wallet.Statement{}
	if err := hanako.send(t, srv, wallet.StatementPath, account.Person{Resident: hanako.id}, &st); err != nil || st.Limits.FaceOnly != nil || st.Limits.FaceOnlyDefault != checkout.DefaultFaceOnly {
		t.Fatalf("her own limits untouched: %+v, %v", st.Limits, err)
	}
}
