package main

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/server/audit"
	"smartpass.city/smartpass/syncproto"
)

// cardCheck serves the JPKI check of a My Number Card
// (syncproto.CardNoncePath, CardVerifyPath): a nonce, then the card's
// certificate and its signature over that nonce, verified against the
// configured trust anchors and revocation data. Every verification,
// passed or refused, is audited by the certificate's serial number
// (never the holder's name: a user-authentication certificate does not
// carry one).
type cardCheck struct {
	v      *jpki.Verifier // nil: no anchors configured
	nonces jpki.Nonces
	audit  *audit.Log
	logger *slog.Logger
}

func (cc *cardCheck) nonce(w http.ResponseWriter, r *http.Request) {
	if cc.v == nil {
		writeRefusal(w, http.StatusServiceUnavailable, syncproto.CodeCardUnavailable, "this server has no JPKI trust anchors configured (-jpki-roots)")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(syncproto.CardNonce{Nonce: cc.nonces.Issue()})
}

func (cc *cardCheck) verify(w http.ResponseWriter, r *http.Request) {
	if cc.v == nil {
		writeRefusal(w, http.StatusServiceUnavailable, syncproto.CodeCardUnavailable, "this server has no JPKI trust anchors configured (-jpki-roots)")
		return
	}
	var p syncproto.CardProof
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 32<<10)).Decode(&p); err != nil {
		writeRefusal(w, http.StatusBadRequest, syncproto.CodeMalformed, "the card's proof is not valid JSON")
		return
	}
	res, err := cc.check(p)
	serial := res.Serial
	if serial == "" {
		serial = "unknown"
	}
	if err != nil {
		code := cardCode(err)
		cc.audit.Note(r.RemoteAddr, "card.verify.refused", "jpki:"+serial, code)
		cc.logger.Warn("card verification refused", "remote", r.RemoteAddr, "serial", serial, "err", err)
		writeRefusal(w, http.StatusForbidden, code, err.Error())
		return
	}
	cc.audit.Note(r.RemoteAddr, "card.verify", "jpki:"+serial, res.Issuer)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(res)
}

// check verifies one proof. The nonce is used up first, so a replayed
// proof fails whatever else is wrong with it.
func (cc *cardCheck) check(p syncproto.CardProof) (syncproto.CardResult, error) {
	if err := cc.nonces.Use(p.Nonce); err != nil {
		return syncproto.CardResult{}, err
	}
	cert, err := cc.v.Certificate(p.Cert)
	if err != nil {
		return syncproto.CardResult{}, err
	}
	res := syncproto.CardResult{Serial: cert.SerialNumber.Text(16), Issuer: cert.Issuer.String(), NotAfter: cert.NotAfter}
	if err := jpki.Signature(cert, p.Nonce, p.Sig); err != nil {
		return res, err
	}
	return res, nil
}

// cardCode is the refusal code of a verification error.
func cardCode(err error) string {
	for _, c := range []struct {
		err  error
		code string
	}{
		{jpki.ErrNonce, syncproto.CodeCardNonce},
		{jpki.ErrExpired, syncproto.CodeCardExpired},
		{jpki.ErrRevoked, syncproto.CodeCardRevoked},
		{jpki.ErrSignature, syncproto.CodeCardSignature},
		{jpki.ErrNoStatus, syncproto.CodeCardNoStatus},
	} {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return syncproto.CodeCardUntrusted
}

// loadVerifier reads the JPKI trust anchors (PEM certificates) and
// revocation lists (DER or PEM, each signed by one of the anchors) a
// production server checks cards against. No roots: no verifier.
func loadVerifier(rootsFile string, crlFiles []string) (*jpki.Verifier, error) {
	if rootsFile == "" {
		if len(crlFiles) > 0 {
			return nil, errors.New("-jpki-crl needs -jpki-roots: a CRL is checked against its CA")
		}
		return nil, nil
	}
	b, err := os.ReadFile(rootsFile)
	if err != nil {
		return nil, fmt.Errorf("JPKI roots: %w", err)
	}
	var roots []*x509.Certificate
	for block, rest := pem.Decode(b); block != nil; block, rest = pem.Decode(rest) {
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("JPKI roots %s: %w", rootsFile, err)
		}
		roots = append(roots, c)
	}
	if len(roots) == 0 {
		return nil, fmt.Errorf("JPKI roots %s: no PEM certificate in it", rootsFile)
	}
	pool := x509.NewCertPool()
	for _, c := range roots {
		pool.AddCert(c)
	}
	crls := &jpki.CRLs{}
	for _, f := range crlFiles {
		der, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("JPKI CRL: %w", err)
		}
		if block, _ := pem.Decode(der); block != nil {
			der = block.Bytes
		}
		var added bool
		var last error
		for _, c := range roots {
			if last = crls.Add(der, c); last == nil {
				added = true
				break
			}
		}
		if !added {
			return nil, fmt.Errorf("JPKI CRL %s: signed by none of the roots: %w", f, last)
		}
	}
	return &jpki.Verifier{Roots: pool, Revocation: crls}, nil
}
