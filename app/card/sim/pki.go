package sim

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"time"
)

// PKI is a test JPKI: one CA for user-authentication certificates and one
// for signature certificates, made at run time. It stands in for J-LIS in
// tests and in the demo; its CA certificates are the trust anchors the
// server is configured with there.
type PKI struct {
	auth, sign ca
	serial     int64
}

type ca struct {
	cert *x509.Certificate
	key  *rsa.PrivateKey
}

// NewPKI makes the two test CAs.
func NewPKI() (*PKI, error) {
	p := &PKI{serial: 1000}
	var err error
	if p.auth, err = newCA("JPKI for user authentication"); err != nil {
		return nil, err
	}
	if p.sign, err = newCA("JPKI for digital signature"); err != nil {
		return nil, err
	}
	return p, nil
}

// AuthCA and SignCA are the CA certificates.
func (p *PKI) AuthCA() *x509.Certificate { return p.auth.cert }

// SignCA is the signature CA's certificate.
func (p *PKI) SignCA() *x509.Certificate { return p.sign.cert }

func newCA(ou string) (ca, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return ca{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Country: []string{"JP"}, Organization: []string{"JPKI"}, OrganizationalUnit: []string{ou, "Smart Pass test CA"}},
		NotBefore:             time.Now().Add(-24 * time.Hour),
		NotAfter:              time.Now().Add(10 * 365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return ca{}, err
	}
	cert, err := x509.ParseCertificate(der)
	return ca{cert: cert, key: key}, err
}

// issue makes an end-entity certificate. A user-authentication
// certificate has an opaque subject (cn empty): it does not say who.
func (p *PKI) issue(by ca, pub *rsa.PublicKey, cn string) ([]byte, error) {
	p.serial++
	subject := pkix.Name{Country: []string{"JP"}, CommonName: cn}
	if cn == "" {
		subject.CommonName = big.NewInt(p.serial).Text(16) // opaque
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial),
		Subject:      subject,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(5 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	return x509.CreateCertificate(rand.Reader, tmpl, by.cert, pub, by.key)
}

// CRL returns a revocation list of the authentication CA revoking the
// given serial numbers, numbered n.
func (p *PKI) CRL(n int64, revoked ...*big.Int) ([]byte, error) {
	var entries []x509.RevocationListEntry
	for _, s := range revoked {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: s, RevocationTime: time.Now().Add(-time.Minute)})
	}
	return x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    big.NewInt(n),
		ThisUpdate:                time.Now().Add(-time.Hour),
		NextUpdate:                time.Now().Add(24 * time.Hour),
		RevokedCertificateEntries: entries,
	}, p.auth.cert, p.auth.key)
}
