package jpki_test

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/sim"
	"smartpass.city/smartpass/app/jpki"
)

// fixture is a card from a test PKI, its authentication certificate read
// through the card package, and a verifier trusting that PKI.
type fixture struct {
	pki  *sim.PKI
	j    *card.JPKI
	der  []byte
	cert *x509.Certificate
	v    *jpki.Verifier
	crls *jpki.CRLs
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	pki, err := sim.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(pki, sim.Persona{Facts: card.Facts{Name: "加賀\u3000花子", BirthDate: "19800101"}, Number: "123456789018", AuthPIN: "4321"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	j, err := card.OpenJPKI(ctx, card.New(s))
	if err != nil {
		t.Fatal(err)
	}
	der, err := j.Certificate(ctx, card.EFAuthCert)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	roots := x509.NewCertPool()
	roots.AddCert(pki.AuthCA())
	crls := &jpki.CRLs{}
	empty, err := pki.CRL(1)
	if err != nil {
		t.Fatal(err)
	}
	if err := crls.Add(empty, pki.AuthCA()); err != nil {
		t.Fatal(err)
	}
	return &fixture{pki: pki, j: j, der: der, cert: cert, v: &jpki.Verifier{Roots: roots, Revocation: crls}, crls: crls}
}

func TestNonceSignature(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	var nonces jpki.Nonces
	nonce := nonces.Issue()
	if err := f.j.Verify(ctx, card.AuthKey, "4321"); err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(nonce)
	sig, err := f.j.Sign(ctx, card.AuthKey, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	cert, err := f.v.Certificate(f.der)
	if err != nil {
		t.Fatal(err)
	}
	if err := jpki.Signature(cert, nonce, sig); err != nil {
		t.Fatal(err)
	}
	if err := nonces.Use(nonce); err != nil {
		t.Fatal(err)
	}
	if err := nonces.Use(nonce); !errors.Is(err, jpki.ErrNonce) {
		t.Fatalf("a nonce used twice: %v, want ErrNonce", err)
	}
	if err := nonces.Use([]byte("never issued")); !errors.Is(err, jpki.ErrNonce) {
		t.Fatalf("a nonce never issued: %v", err)
	}
	other := append([]byte(nil), nonce...)
	other[0] ^= 1
	if err := jpki.Signature(cert, other, sig); !errors.Is(err, jpki.ErrSignature) {
		t.Fatalf("signature over another nonce: %v, want ErrSignature", err)
	}

	now := time.Now()
	late := jpki.Nonces{TTL: time.Minute, Now: func() time.Time { return now }}
	n := late.Issue()
	now = now.Add(2 * time.Minute)
	if err := late.Use(n); !errors.Is(err, jpki.ErrNonce) {
		t.Fatalf("an expired nonce: %v", err)
	}
}

func TestCertificateRefusals(t *testing.T) {
	f := newFixture(t)
	stranger, err := sim.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	revoked, _ := f.pki.CRL(2, f.cert.SerialNumber)
	older, _ := f.pki.CRL(1)
	foreign, _ := stranger.CRL(3, f.cert.SerialNumber)

	tests := []struct {
		name string
		v    func() *jpki.Verifier
		want error
	}{
		{"expired", func() *jpki.Verifier {
			v := *f.v
			v.Now = func() time.Time { return f.cert.NotAfter.Add(24 * time.Hour) }
			return &v
		}, jpki.ErrExpired},
		{"not yet valid", func() *jpki.Verifier {
			v := *f.v
			v.Now = func() time.Time { return f.cert.NotBefore.Add(-time.Hour) }
			return &v
		}, jpki.ErrExpired},
		{"another PKI's roots", func() *jpki.Verifier {
			roots := x509.NewCertPool()
			roots.AddCert(stranger.AuthCA())
			return &jpki.Verifier{Roots: roots, Revocation: f.crls}
		}, jpki.ErrUntrusted},
		{"no revocation data", func() *jpki.Verifier {
			return &jpki.Verifier{Roots: f.v.Roots, Revocation: &jpki.CRLs{}}
		}, jpki.ErrNoStatus},
		{"revoked", func() *jpki.Verifier {
			crls := &jpki.CRLs{}
			if err := crls.Add(revoked, f.pki.AuthCA()); err != nil {
				t.Fatal(err)
			}
			// An older list arriving later does not un-revoke.
			if err := crls.Add(older, f.pki.AuthCA()); err != nil {
				t.Fatal(err)
			}
			return &jpki.Verifier{Roots: f.v.Roots, Revocation: crls}
		}, jpki.ErrRevoked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.v().Certificate(f.der); !errors.Is(err, tt.want) {
				t.Fatalf("Certificate = %v, want %v", err, tt.want)
			}
		})
	}
	if err := (&jpki.CRLs{}).Add(foreign, f.pki.AuthCA()); err == nil {
		t.Fatal("a CRL signed by another CA was accepted")
	}
	if _, err := f.v.Certificate(f.der[:len(f.der)/2]); !errors.Is(err, jpki.ErrUntrusted) {
		t.Fatalf("a truncated certificate: %v", err)
	}
}

// FuzzCertificate: certificates come from cards and terminals; no input
// may panic the verifier or pass it.
func FuzzCertificate(f *testing.F) {
	fx := newFixture(f)
	f.Add(fx.der)
	f.Add(fx.der[:100])
	f.Fuzz(func(t *testing.T, der []byte) {
		cert, err := fx.v.Certificate(der)
		if err == nil && cert.SerialNumber.Cmp(fx.cert.SerialNumber) != 0 {
			t.Fatalf("a certificate the PKI never issued passed: serial %s", cert.SerialNumber)
		}
	})
}

func TestFingerprint(t *testing.T) {
	a, b := jpki.Fingerprint([]byte("cert one")), jpki.Fingerprint([]byte("cert two"))
	if len(a) != 32 || a == b || jpki.Fingerprint([]byte("cert one")) != a {
		t.Fatalf("Fingerprint = %q, %q", a, b)
	}
}
