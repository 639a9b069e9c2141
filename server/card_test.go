package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/cardtest"
	"smartpass.city/smartpass/app/card/sim"
	"smartpass.city/smartpass/server/serverproc"
	"smartpass.city/smartpass/syncproto"
)

// presenter is a card at a terminal: it signs what the server gives it.
type presenter struct {
	j   *card.JPKI
	pin string
}

func newPresenter(t *testing.T, pki *sim.PKI) *presenter {
	t.Helper()
	s, err := sim.New(pki, cardtest.Taro)
	if err != nil {
		t.Fatal(err)
	}
	j, err := card.OpenJPKI(context.Background(), card.New(s))
	if err != nil {
		t.Fatal(err)
	}
	return &presenter{j: j, pin: cardtest.Taro.AuthPIN}
}

// prove has the card sign nonce.
func (p *presenter) prove(t *testing.T, nonce []byte) syncproto.CardProof {
	t.Helper()
	cert, sig, err := p.j.Authenticate(context.Background(), card.AuthKey, p.pin, nonce)
	if err != nil {
		t.Fatal(err)
	}
	return syncproto.CardProof{Nonce: nonce, Cert: cert, Sig: sig}
}

func (p *presenter) serial(t *testing.T) string {
	der, err := p.j.Certificate(context.Background(), card.EFAuthCert)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c.SerialNumber.Text(16)
}

func post(t *testing.T, url string, body []byte) (int, []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func nonce(t *testing.T, base string) []byte {
	t.Helper()
	n, err := syncproto.CardNonceAnswer(post(t, base+syncproto.CardNoncePath, nil))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func auditEntries(t *testing.T, data string) int {
	t.Helper()
	out, err := command(t, "audit-verify", "-data", data)
	m := regexp.MustCompile(`intact: (\d+) entries`).FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("audit-verify: %v\n%s", err, out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestCardVerification: a production server configured with JPKI roots
// and revocation lists from files verifies a card's proof over a nonce
// it issued, and refuses each kind of bad proof with its own code; every
// verification is audited.
func TestCardVerification(t *testing.T) {
	pki := cardtest.PKI(t)
	good := newPresenter(t, pki)
	revoked := newPresenter(t, pki)
	pki.Expired = true
	expired := newPresenter(t, pki)
	pki.Expired = false
	stranger, err := sim.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	foreign := newPresenter(t, stranger)

	dir := t.TempDir()
	var roots []byte
	for _, c := range []*x509.Certificate{pki.AuthCA(), pki.SignCA()} {
		roots = append(roots, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	serial, _ := new(big.Int).SetString(revoked.serial(t), 16)
	crl, err := pki.CRL(1, serial)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"roots.pem": roots, "auth.crl": crl} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	addr := serverproc.FreeAddr(t)
	data := t.TempDir()
	srv := startServer(t, addr, "-data", data, "-jpki-roots", filepath.Join(dir, "roots.pem"), "-jpki-crl", filepath.Join(dir, "auth.crl"))
	srv.WaitHealthy(t)
	base := "http://" + addr

	verify := func(p syncproto.CardProof) (syncproto.CardResult, error) {
		b, _ := json.Marshal(p)
		return syncproto.CardAnswer(post(t, base+syncproto.CardVerifyPath, b))
	}
	proof := good.prove(t, nonce(t, base))
	res, err := verify(proof)
	if err != nil || res.Serial != good.serial(t) {
		t.Fatalf("a good card: %+v, %v", res, err)
	}
	tampered := good.prove(t, nonce(t, base))
	tampered.Sig[10] ^= 1
	otherNonce := good.prove(t, nonce(t, base))
	otherNonce.Nonce = nonce(t, base) // issued, but not what the card signed

	for _, tc := range []struct {
		name  string
		proof syncproto.CardProof
		code  string
	}{
		{"replayed", proof, syncproto.CodeCardNonce},
		{"nonce never issued", good.prove(t, []byte("made up by the terminal, 32 byte")), syncproto.CodeCardNonce},
		{"another CA", foreign.prove(t, nonce(t, base)), syncproto.CodeCardUntrusted},
		{"expired", expired.prove(t, nonce(t, base)), syncproto.CodeCardExpired},
		{"revoked", revoked.prove(t, nonce(t, base)), syncproto.CodeCardRevoked},
		{"tampered signature", tampered, syncproto.CodeCardSignature},
		{"signature over another nonce", otherNonce, syncproto.CodeCardSignature},
		{"truncated certificate", func() syncproto.CardProof {
			p := good.prove(t, nonce(t, base))
			p.Cert = p.Cert[:len(p.Cert)/2]
			return p
		}(), syncproto.CodeCardUntrusted},
	} {
		_, err := verify(tc.proof)
		var e *syncproto.Error
		if !errors.As(err, &e) || e.Code != tc.code {
			t.Errorf("%s: %v, want refusal %s", tc.name, err, tc.code)
		}
	}
	if status, body := post(t, base+syncproto.CardVerifyPath, []byte(`{"cert":`)); status != http.StatusBadRequest || !strings.Contains(string(body), syncproto.CodeMalformed) {
		t.Errorf("truncated JSON: %d %s", status, body)
	}
	srv.Stop(t)
	// One audit entry per verification, passed or refused (the truncated
	// JSON is not a verification).
	if n := auditEntries(t, data); n != 9 {
		t.Errorf("the audit log holds %d entries, want the 9 verifications", n)
	}
}

// TestCardVerificationUnconfigured: a server with no JPKI roots says so
// instead of passing or failing cards.
func TestCardVerificationUnconfigured(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	startServer(t, addr, "-data", t.TempDir()).WaitHealthy(t)
	_, err := syncproto.CardNonceAnswer(post(t, "http://"+addr+syncproto.CardNoncePath, nil))
	var e *syncproto.Error
	if !errors.As(err, &e) || e.Code != syncproto.CodeCardUnavailable {
		t.Fatalf("nonce from a server without roots: %v", err)
	}
	// A CRL without roots, or roots that are not certificates, stop the
	// server at start with a message.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "junk.pem"), []byte("not a certificate"), 0o600)
	for _, args := range [][]string{
		{"-jpki-crl", filepath.Join(dir, "x.crl")},
		{"-jpki-roots", filepath.Join(dir, "junk.pem")},
	} {
		out, err := command(t, append([]string{"serve", "-addr", "127.0.0.1:0", "-data", t.TempDir()}, args...)...)
		if err == nil || !strings.Contains(out, "JPKI") && !strings.Contains(out, "jpki") {
			t.Errorf("serve %v: %v\n%s", args, err, out)
		}
	}
}
