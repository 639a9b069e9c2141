package main

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"testing"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/cardtest"
	"smartpass.city/smartpass/app/card/sim"
	"smartpass.city/smartpass/server/serverproc"
	"smartpass.city/smartpass/syncproto"
)

// TestAccounts: a resident opens an account with the signature
// certificate over the server's nonce; the same person again is refused
// and offered recovery, which moves the account to the new device; a
// child is refused; every attempt is audited.
func TestAccounts(t *testing.T) {
	pki := cardtest.PKI(t)
	addr := serverproc.FreeAddr(t)
	data := t.TempDir()
	srv := startServer(t, addr, append([]string{"-data", data}, jpkiFlags(t, pki)...)...)
	srv.WaitHealthy(t)
	base := "http://" + addr
	before := 0

	send := func(path string, p sim.Persona) (account.Account, error) {
		t.Helper()
		key, _, _ := ed25519.GenerateKey(nil)
		n := nonce(t, base)
		cert, sig := cardtest.Prove(t, p, card.SignKey, p.SignPassword, account.Challenge(n, key))
		b, _ := json.Marshal(account.Request{Nonce: n, Cert: cert, Sig: sig, Key: key})
		status, body := post(t, base+path, b)
		if status != 200 {
			var e syncproto.Error
			json.Unmarshal(body, &e)
			return account.Account{}, &e
		}
		var a account.Account
		if err := json.Unmarshal(body, &a); err != nil {
			t.Fatal(err)
		}
		before++
		return a, nil
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
	srv.Stop(t)
	if n := auditEntries(t, data); n != 5 {
		t.Errorf("the audit log holds %d entries, want the 5 attempts", n)
	}
}
