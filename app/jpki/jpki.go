// Package jpki checks what a My Number Card presents: that a certificate
// chains to a configured JPKI trust anchor, is within its validity dates
// and not revoked, and that a signature over a nonce the verifier issued
// was made by that certificate's key, once. The same code runs on the
// server and, offline, on a terminal with cached anchors and revocation
// data; the server checks again when the terminal syncs.
package jpki

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Errors of verification. Use errors.Is.
var (
	ErrUntrusted = errors.New("jpki: the certificate does not chain to a trusted JPKI root")
	ErrExpired   = errors.New("jpki: the certificate is outside its validity dates")
	ErrRevoked   = errors.New("jpki: the certificate is revoked")
	ErrSignature = errors.New("jpki: the signature does not verify with the certificate")
	ErrNonce     = errors.New("jpki: the nonce was not issued here, was used already, or expired")
	ErrNoStatus  = errors.New("jpki: no revocation data covers the certificate")
)

// Checker says whether a certificate is revoked: a CRL file (CRLs), or
// the national OCSP service through a registered verifier.
type Checker interface {
	Revoked(cert, issuer *x509.Certificate) (bool, error)
}

// Verifier verifies certificates and signatures against its anchors.
type Verifier struct {
	Roots      *x509.CertPool
	Revocation Checker
	// Now is the clock (time.Now when nil); a terminal offline uses its
	// own.
	Now func() time.Time
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// Fingerprint names a certificate for lookups: the hex SHA-256 of its
// DER, shortened. A resident's user-authentication certificate is linked
// to them by its fingerprint, so a terminal that checked a card knows
// whose it is from the facility's profiles, offline.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:16])
}

// Certificate parses der and verifies it: chain, dates, revocation. It
// returns the certificate and the issuer it chained to.
func (v *Verifier) Certificate(der []byte) (*x509.Certificate, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUntrusted, err)
	}
	now := v.now()
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return nil, fmt.Errorf("%w: valid %s to %s", ErrExpired, cert.NotBefore.Format(time.DateOnly), cert.NotAfter.Format(time.DateOnly))
	}
	chains, err := cert.Verify(x509.VerifyOptions{Roots: v.Roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUntrusted, err)
	}
	if v.Revocation == nil {
		return nil, fmt.Errorf("%w: no revocation checker configured", ErrNoStatus)
	}
	revoked, err := v.Revocation.Revoked(cert, chains[0][1])
	if err != nil {
		return nil, err
	}
	if revoked {
		return nil, fmt.Errorf("%w: serial %s", ErrRevoked, cert.SerialNumber.Text(16))
	}
	return cert, nil
}

// Signature checks that sig is the card's PKCS#1 v1.5 SHA-256 signature
// of msg by cert's key.
func Signature(cert *x509.Certificate, msg, sig []byte) error {
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("%w: not an RSA key", ErrSignature)
	}
	digest := sha256.Sum256(msg)
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
		return fmt.Errorf("%w: %v", ErrSignature, err)
	}
	return nil
}

// CRLs is a Checker over revocation lists, each checked against its
// issuer's signature when added.
type CRLs struct {
	mu    sync.RWMutex
	lists map[string]*x509.RevocationList // by issuer's raw subject
}

// Add parses a DER CRL and keeps it if issuer signed it.
func (c *CRLs) Add(der []byte, issuer *x509.Certificate) error {
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		return fmt.Errorf("jpki: CRL: %w", err)
	}
	if err := rl.CheckSignatureFrom(issuer); err != nil {
		return fmt.Errorf("jpki: CRL not signed by %s: %w", issuer.Subject, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lists == nil {
		c.lists = make(map[string]*x509.RevocationList)
	}
	if old := c.lists[string(issuer.RawSubject)]; old != nil && old.Number.Cmp(rl.Number) > 0 {
		return nil // an older list never replaces a newer one
	}
	c.lists[string(issuer.RawSubject)] = rl
	return nil
}

// Revoked implements Checker.
func (c *CRLs) Revoked(cert, issuer *x509.Certificate) (bool, error) {
	c.mu.RLock()
	rl := c.lists[string(issuer.RawSubject)]
	c.mu.RUnlock()
	if rl == nil {
		return false, fmt.Errorf("%w: no CRL from %s", ErrNoStatus, issuer.Subject)
	}
	for _, e := range rl.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(cert.SerialNumber) == 0 {
			return true, nil
		}
	}
	return false, nil
}

// Nonces issues challenges for the card to sign, each usable once within
// a lifetime. Issuing costs the same however many are outstanding: the
// nonces wait in issue order, so the expired are dropped from the front,
// and at most MaxOutstanding are kept (a flood of requests for nonces
// pushes out the oldest instead of growing the server without bound).
type Nonces struct {
	TTL time.Duration
	Now func() time.Time
	// MaxOutstanding bounds the nonces kept (default 65,536: a card check
	// every 5 ms for the whole lifetime).
	MaxOutstanding int

	mu     sync.Mutex
	issued map[[nonceSize]byte]time.Time
	order  []issuedNonce // issue order; order[head:] are live or used
	head   int
}

const nonceSize = 32

// issuedNonce is a nonce in issue order, with when it was issued.
type issuedNonce struct {
	nonce [nonceSize]byte
	at    time.Time
}

// Issue returns a new 32-byte nonce.
func (n *Nonces) Issue() []byte {
	var b [nonceSize]byte
	rand.Read(b[:])
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.issued == nil {
		n.issued = make(map[[nonceSize]byte]time.Time)
	}
	now := n.now()
	for n.head < len(n.order) && (now.Sub(n.order[n.head].at) > n.ttl() || len(n.order)-n.head >= n.max()) {
		n.drop()
	}
	if n.head > len(n.order)/2 { // reuse the dropped half
		n.order = append(n.order[:0], n.order[n.head:]...)
		n.head = 0
	}
	n.issued[b] = now
	n.order = append(n.order, issuedNonce{nonce: b, at: now})
	return b[:]
}

// drop forgets the oldest nonce (used already or not).
func (n *Nonces) drop() {
	o := n.order[n.head]
	if at, ok := n.issued[o.nonce]; ok && at.Equal(o.at) {
		delete(n.issued, o.nonce)
	}
	n.order[n.head] = issuedNonce{}
	n.head++
}

// Use consumes a nonce: it succeeds once per issued nonce.
func (n *Nonces) Use(nonce []byte) error {
	if len(nonce) != nonceSize {
		return ErrNonce
	}
	k := [nonceSize]byte(nonce)
	n.mu.Lock()
	defer n.mu.Unlock()
	at, ok := n.issued[k]
	delete(n.issued, k)
	if !ok || n.now().Sub(at) > n.ttl() {
		return ErrNonce
	}
	return nil
}

func (n *Nonces) max() int {
	if n.MaxOutstanding > 0 {
		return n.MaxOutstanding
	}
	return 1 << 16
}

func (n *Nonces) ttl() time.Duration {
	if n.TTL > 0 {
		return n.TTL
	}
	return 5 * time.Minute
}

func (n *Nonces) now() time.Time {
	if n.Now != nil {
		return n.Now()
	}
	return time.Now()
}
