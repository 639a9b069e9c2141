package jpki

import (
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"smartpass.city/smartpass/syncproto"
)

// A terminal cut off from the server still checks cards: the server
// publishes its trust anchors and revocation lists as an OpAnchors op on
// the public feed, which every device keeps; a terminal that cannot reach
// the server makes its own nonce, verifies the card's proof with
// Anchors.Verifier, and records the proof as an OpChecked op, which the
// server verifies again (Recheck) when the op syncs.
const (
	OpAnchors = "jpki.anchors"
	OpChecked = "card.checked"
)

// Anchors is what a verifier trusts, as bytes that travel: JPKI CA
// certificates and their revocation lists, DER.
type Anchors struct {
	Roots [][]byte `json:"roots"`
	CRLs  [][]byte `json:"crls,omitempty"`
}

// ErrAnchors is wrapped for anchors that cannot be used.
var ErrAnchors = errors.New("jpki: unusable trust anchors")

// Verifier parses the anchors into a verifier. Each CRL must be signed
// by one of the roots.
func (a Anchors) Verifier() (*Verifier, error) {
	if len(a.Roots) == 0 {
		return nil, fmt.Errorf("%w: no root certificate", ErrAnchors)
	}
	pool := x509.NewCertPool()
	var roots []*x509.Certificate
	for _, der := range a.Roots {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("%w: root: %v", ErrAnchors, err)
		}
		pool.AddCert(c)
		roots = append(roots, c)
	}
	crls := &CRLs{}
	for i, der := range a.CRLs {
		var err error
		for _, c := range roots {
			if err = crls.Add(der, c); err == nil {
				break
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%w: CRL %d is signed by none of the roots: %v", ErrAnchors, i+1, err)
		}
	}
	return &Verifier{Roots: pool, Revocation: crls}, nil
}

// Outcomes of a Checked.
const (
	Accepted = "accepted"
	Refused  = "refused"
)

// Checked is the body of an OpChecked op: a card a terminal checked
// without the server, with what the card presented.
type Checked struct {
	Facility string `json:"facility"`
	// Nonce is the terminal's own, Cert the card's certificate (DER),
	// Sig the card's signature over Nonce.
	Nonce []byte `json:"nonce"`
	Cert  []byte `json:"cert"`
	Sig   []byte `json:"sig"`
	// Serial is the certificate's, for the audit log.
	Serial  string `json:"serial"`
	Outcome string `json:"outcome"`
	// Reason says why the terminal refused the card.
	Reason string `json:"reason,omitempty"`
}

// NonceLen is the length of a nonce, a terminal's or the server's.
const NonceLen = 32

// ErrInvalid is wrapped by Checked.Validate.
var ErrInvalid = errors.New("jpki: invalid card check record")

// Validate reports whether c can be stored.
func (c Checked) Validate() error {
	switch {
	case c.Facility == "":
		return fmt.Errorf("%w: no facility", ErrInvalid)
	case len(c.Nonce) != NonceLen:
		return fmt.Errorf("%w: nonce of %d bytes", ErrInvalid, len(c.Nonce))
	case len(c.Cert) == 0 || len(c.Cert) > 4096:
		return fmt.Errorf("%w: certificate of %d bytes", ErrInvalid, len(c.Cert))
	case len(c.Sig) == 0 || len(c.Sig) > 1024:
		return fmt.Errorf("%w: signature of %d bytes", ErrInvalid, len(c.Sig))
	case len(c.Serial) > 64 || len(c.Reason) > 256:
		return fmt.Errorf("%w: serial or reason too long", ErrInvalid)
	case c.Outcome != Accepted && c.Outcome != Refused:
		return fmt.Errorf("%w: outcome %q", ErrInvalid, c.Outcome)
	}
	return nil
}

// Recheck verifies again a check a terminal accepted offline at time at:
// the certificate's chain and validity dates as of then, its revocation
// status as known now, and the signature over the terminal's nonce. (That
// the nonce was not used before is the caller's to check: it needs the
// server's store.)
func (v *Verifier) Recheck(c Checked, at time.Time) error {
	then := *v
	then.Now = func() time.Time { return at }
	cert, err := then.Certificate(c.Cert)
	if err != nil {
		return err
	}
	if got := cert.SerialNumber.Text(16); got != c.Serial {
		return fmt.Errorf("%w: serial %s recorded for a certificate with serial %s", ErrInvalid, c.Serial, got)
	}
	return Signature(cert, c.Nonce, c.Sig)
}

// Offline checks a card's proof over a terminal's own nonce, as the
// server would, and returns the record of the check for the terminal to
// sync, accepted or refused, and the certificate when it verified. The
// error says why a card was refused (Code names it).
func (v *Verifier) Offline(facility string, nonce, cert, sig []byte) (Checked, *x509.Certificate, error) {
	c := Checked{Facility: facility, Nonce: nonce, Cert: cert, Sig: sig, Outcome: Accepted}
	parsed, err := v.Certificate(cert)
	if err == nil {
		c.Serial = parsed.SerialNumber.Text(16)
		err = Signature(parsed, nonce, sig)
	} else if p, perr := x509.ParseCertificate(cert); perr == nil {
		c.Serial = p.SerialNumber.Text(16)
	}
	if err != nil {
		c.Outcome, c.Reason = Refused, Code(err)
		return c, nil, err
	}
	return c, parsed, nil
}

// Code names a verification error with the code the server's card
// check refuses it with (syncproto.CodeCard...), for the screen to word.
func Code(err error) string {
	for _, c := range []struct {
		err  error
		code string
	}{
		{ErrNonce, syncproto.CodeCardNonce},
		{ErrExpired, syncproto.CodeCardExpired},
		{ErrRevoked, syncproto.CodeCardRevoked},
		{ErrSignature, syncproto.CodeCardSignature},
		{ErrNoStatus, syncproto.CodeCardNoStatus},
		{ErrAnchors, syncproto.CodeCardUnavailable},
	} {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return syncproto.CodeCardUntrusted
}
