package api

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"slices"
	"smartpass.city/smartpass/server/audit"
	"strings"
	"testing"

	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/cardtest"
	"smartpass.city/smartpass/app/card/sim"
	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/app/scope"
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

// anchorsOf returns pki's anchors, revoking serials.
func anchorsOf(t *testing.T, pki *sim.PKI, revoked ...*big.Int) *jpki.Anchors {
	t.Helper()
	a := cardtest.Anchors(t, pki, revoked...)
	return &a
}

func nonce(t *testing.T, base string) []byte {
	t.Helper()
	n, err := syncproto.CardNonceAnswer(serverproc.Post(t, base+syncproto.CardNoncePath, nil))
	if err != nil {
		t.Fatal(err)
	}
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

	serial, _ := new(big.Int).SetString(revoked.serial(t), 16)
	srv := newTestServer(t, anchorsOf(t, pki, serial))
	base := srv.URL

	verify := func(p syncproto.CardProof) (syncproto.CardResult, error) {
		b, _ := json.Marshal(p)
		return syncproto.CardAnswer(serverproc.Post(t, base+syncproto.CardVerifyPath, b))
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
	if status, body := serverproc.Post(t, base+syncproto.CardVerifyPath, []byte(`{"cert":`)); status != http.StatusBadRequest || !strings.Contains(string(body), syncproto.CodeMalformed) {
		t.Errorf("truncated JSON: %d %s", status, body)
	}
	// One audit entry for the verification that passed; the eight refused
	// ones (anyone can send those) counted in one summary, written at
	// shutdown (here, now). The truncated JSON is not a verification.
	if err := srv.Audit.Summarise(); err != nil {
		t.Fatal(err)
	}
	if n := srv.auditEntries(t); n != 2 {
		t.Errorf("the audit log holds %d entries, want the verification and the refusals' summary", n)
	}
	var summary string
	srv.Audit.Verify(func(e audit.Entry) {
		if e.Action == "refusals.summary" {
			summary += e.Subject + " " + e.Detail + "\n"
		}
	})
	if !strings.Contains(summary, "card.verify.refused") || !strings.Contains(summary, "8 refused from 1 sources") {
		t.Errorf("the refusals' summary: %s", summary)
	}
}

// TestCardVerificationUnconfigured: a server with no JPKI roots says so
// instead of passing or failing cards.
func TestCardVerificationUnconfigured(t *testing.T) {
	srv := newTestServer(t, nil)
	_, err := syncproto.CardNonceAnswer(serverproc.Post(t, srv.URL+syncproto.CardNoncePath, nil))
	var e *syncproto.Error
	if !errors.As(err, &e) || e.Code != syncproto.CodeCardUnavailable {
		t.Fatalf("nonce from a server without roots: %v", err)
	}
}

// TestOfflineCardRecheck: the server publishes its anchors to every
// device, and verifies again each card a terminal checked offline as the
// op syncs: a good check is stored and audited, a forged acceptance and
// a proof presented twice are stored as refused, with the reason, and a
// check the terminal itself refused is kept as it is.
func TestOfflineCardRecheck(t *testing.T) {
	pki := cardtest.PKI(t)
	srv := newTestServer(t, anchorsOf(t, pki))
	addr := srv.Addr
	const park = "kaga-playpark"
	key := srv.Enroll(t, "park-1", park, "playpark")
	c, _ := serverproc.Dial(t, addr, "park-1", key)

	good := newPresenter(t, pki)
	checked := func(nonceByte byte, edit func(*jpki.Checked)) syncproto.Op {
		nonce := bytes.Repeat([]byte{nonceByte}, jpki.NonceLen)
		p := good.prove(t, nonce)
		rec, _, _ := cardtest.Verifier(t, pki).Offline(park, p.Nonce, p.Cert, p.Sig)
		edit(&rec)
		b, _ := json.Marshal(rec)
		return syncproto.Op{Kind: jpki.OpChecked, Body: b}
	}
	ops := []syncproto.Op{
		checked(1, func(*jpki.Checked) {}),
		checked(1, func(*jpki.Checked) {}), // the same nonce again: a replay
		checked(2, func(c *jpki.Checked) { c.Sig[0] ^= 1 }),
		checked(3, func(c *jpki.Checked) { c.Outcome, c.Reason = jpki.Refused, syncproto.CodeCardRevoked }),
	}
	for i := range ops {
		ops[i].Seq, ops[i].HLC = uint64(i+1), hlc.New(nil, 0).Now()
	}
	c.Send(&syncproto.Push{Ops: ops})
	for {
		f := c.Recv()
		if a, ok := f.(*syncproto.Ack); ok {
			if a.Acked != 4 {
				t.Fatalf("acked %d of 4", a.Acked)
			}
			break
		}
	}
	var kinds []string
	var anchors int
	for _, op := range srv.Ops(t) {
		switch {
		case op.Kind == jpki.OpAnchors:
			anchors++
		case op.Device == "park-1":
			kind := op.Kind
			if op.Kind == scope.OpRejected {
				var r scope.Rejection
				json.Unmarshal(op.Body, &r)
				kind += ": " + r.Reason
			}
			kinds = append(kinds, kind)
		}
	}
	if anchors != 1 {
		t.Errorf("%d anchors ops, want the one the server published", anchors)
	}
	if len(kinds) != 4 || kinds[0] != jpki.OpChecked || kinds[3] != jpki.OpChecked ||
		!strings.Contains(kinds[1], "presented before") || !strings.Contains(kinds[2], "signature") {
		t.Fatalf("stored: %q; want accepted, replay refused, forgery refused, refusal kept", kinds)
	}
	// A terminal pulls the anchors from its public feed.
	c.Send(&syncproto.Pull{Feed: scope.FeedPublic})
	for {
		if o, ok := c.Recv().(*syncproto.Ops); ok {
			if !slices.ContainsFunc(o.Ops, func(op syncproto.Op) bool { return op.Kind == jpki.OpAnchors }) {
				t.Fatalf("the public feed lacks the anchors: %d ops", len(o.Ops))
			}
			break
		}
	}
	srv.auditEntries(t)
}
