package sim

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"fmt"
	"math/big"
	"time"

	"smartpass.city/smartpass/app/card"
)

// PKI is a test JPKI: one CA for user-authentication certificates and one
// for signature certificates, made at run time. It stands in for J-LIS in
// tests and in the demo; its CA certificates are the trust anchors the
// server is configured with there.
type PKI struct {
	auth, sign ca
	serial     int64
	// Expired makes the certificates issued from now on out of date.
	Expired bool
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
// certificate (facts nil) has an opaque subject: it does not say who. A
// signature certificate carries the basic four facts as otherNames of its
// subject alternative name, as J-LIS's do.
func (p *PKI) issue(by ca, pub *rsa.PublicKey, facts *card.Facts) ([]byte, error) {
	p.serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial),
		Subject:      pkix.Name{Country: []string{"JP"}, CommonName: big.NewInt(p.serial).Text(16)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(5 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	if p.Expired {
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-6*365*24*time.Hour), time.Now().Add(-24*time.Hour)
	}
	if facts != nil {
		san, err := factsSAN(*facts)
		if err != nil {
			return nil, err
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, san)
	}
	return x509.CreateCertificate(rand.Reader, tmpl, by.cert, pub, by.key)
}

// factsSAN is the subject alternative name of a signature certificate.
func factsSAN(f card.Facts) (pkix.Extension, error) {
	var names []asn1.RawValue
	for _, v := range []struct {
		oid   asn1.ObjectIdentifier
		value string
	}{
		{card.OIDName, f.Name},
		{card.OIDBirthDate, "3" + f.BirthDate}, // the era digit comes first
		{card.OIDSex, f.Sex},
		{card.OIDAddress, f.Address},
		{card.OIDNameSubstitutes, "00000"},
		{card.OIDAddressSubstitutes, "0000000000000000000000"},
	} {
		n, err := card.OtherName(v.oid, v.value)
		if err != nil {
			return pkix.Extension{}, err
		}
		names = append(names, n)
	}
	der, err := asn1.Marshal(names)
	return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 17}, Value: der}, err
}

// CRL returns a revocation list of the authentication CA revoking the
// given serial numbers, numbered n.
func (p *PKI) CRL(n int64, revoked ...*big.Int) ([]byte, error) {
	return p.auth.crl(n, revoked)
}

func (c ca) crl(n int64, revoked []*big.Int) ([]byte, error) {
	// Dates from the CA's own, so the same list comes out the same bytes
	// (the demo server publishes its anchors only when they change).
	var entries []x509.RevocationListEntry
	for _, s := range revoked {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: s, RevocationTime: c.cert.NotBefore})
	}
	return x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    big.NewInt(n),
		ThisUpdate:                c.cert.NotBefore,
		NextUpdate:                c.cert.NotAfter,
		RevokedCertificateEntries: entries,
	}, c.cert, c.key)
}

// Trust returns what a verifier of this PKI trusts: its two CA
// certificates, and revocation lists of both revoking the given serial
// numbers, DER, as the server and terminals are configured with in tests
// and the demo (jpki.Anchors carries them; the simulator does not import
// the verifier, which imports the card).
func (p *PKI) Trust(revoked ...*big.Int) (roots, crls [][]byte, err error) {
	for _, c := range []ca{p.auth, p.sign} {
		der, err := c.crl(1, revoked)
		if err != nil {
			return nil, nil, err
		}
		roots = append(roots, c.cert.Raw)
		crls = append(crls, der)
	}
	return roots, crls, nil
}

// pkiFile is a PKI saved: each CA's certificate and key, DER.
type pkiFile struct {
	AuthCert, AuthKey, SignCert, SignKey []byte
}

// MarshalBinary saves the PKI's CAs, so a demo server keeps them across
// restarts (terminals keep trusting the cards it simulates).
func (p *PKI) MarshalBinary() ([]byte, error) {
	return json.Marshal(pkiFile{
		AuthCert: p.auth.cert.Raw, AuthKey: x509.MarshalPKCS1PrivateKey(p.auth.key),
		SignCert: p.sign.cert.Raw, SignKey: x509.MarshalPKCS1PrivateKey(p.sign.key),
	})
}

// LoadPKI reads a PKI saved by MarshalBinary. Its certificates' serial
// numbers continue from the clock, not from where it stopped.
func LoadPKI(b []byte) (*PKI, error) {
	var f pkiFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("sim: load PKI: %w", err)
	}
	p := &PKI{serial: time.Now().UnixMilli()}
	for _, c := range []struct {
		cert, key []byte
		to        *ca
	}{{f.AuthCert, f.AuthKey, &p.auth}, {f.SignCert, f.SignKey, &p.sign}} {
		cert, err := x509.ParseCertificate(c.cert)
		if err != nil {
			return nil, fmt.Errorf("sim: load PKI: %w", err)
		}
		key, err := x509.ParsePKCS1PrivateKey(c.key)
		if err != nil {
			return nil, fmt.Errorf("sim: load PKI: %w", err)
		}
		*c.to = ca{cert: cert, key: key}
	}
	return p, nil
}
