package jpki_test

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"testing"

	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/cardtest"
	"smartpass.city/smartpass/app/jpki"
)

// The four facts come back from a signature certificate read off the
// card, as the card-info application holds them; the authentication
// certificate does not say who.
func TestFacts(t *testing.T) {
	ctx := context.Background()
	j, err := card.OpenJPKI(ctx, card.New(cardtest.Card(t, cardtest.Taro)))
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Verify(ctx, card.SignKey, cardtest.Taro.SignPassword); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ef   uint16
		want error
	}{{card.EFSignCert, nil}, {card.EFAuthCert, jpki.ErrNoFacts}} {
		der, err := j.Certificate(ctx, tc.ef)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		f, err := jpki.Facts(cert)
		if !errors.Is(err, tc.want) {
			t.Fatalf("Facts(EF %04X) = %v, want %v", tc.ef, err, tc.want)
		}
		if tc.want == nil && f != cardtest.Taro.Facts {
			t.Fatalf("Facts = %+v, want %+v", f, cardtest.Taro.Facts)
		}
	}
}

func san(t testing.TB, names ...asn1.RawValue) []byte {
	der, err := asn1.Marshal(names)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func withSAN(b []byte) *x509.Certificate {
	return &x509.Certificate{Extensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 17}, Value: b}}}
}

func TestFactsRefusals(t *testing.T) {
	name, _ := card.OtherName(card.OIDName, "加賀\u3000花子")
	birth, _ := card.OtherName(card.OIDBirthDate, "319800101")
	short, _ := card.OtherName(card.OIDBirthDate, "1980")
	notUTF8 := name
	notUTF8.Bytes = append([]byte(nil), name.Bytes...)
	notUTF8.Bytes[len(notUTF8.Bytes)-1] = 0xFF
	dns := asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 2, Bytes: []byte("example.jp")}
	for _, tc := range []struct {
		name string
		cert *x509.Certificate
	}{
		{"no SAN", &x509.Certificate{}},
		{"birth date only", withSAN(san(t, birth))},
		{"short birth date", withSAN(san(t, name, short))},
		{"name not UTF-8", withSAN(san(t, notUTF8, birth))},
		{"DNS names only", withSAN(san(t, dns))},
		{"not DER", withSAN([]byte{0x30, 0x05, 0xA0})},
	} {
		if _, err := jpki.Facts(tc.cert); !errors.Is(err, jpki.ErrNoFacts) {
			t.Errorf("%s: Facts = %v, want ErrNoFacts", tc.name, err)
		}
	}
	if f, err := jpki.Facts(withSAN(san(t, dns, name, birth))); err != nil || f.BirthDate != "19800101" {
		t.Fatalf("name and birth date among other names: %+v, %v", f, err)
	}
}

// FuzzFacts: a certificate's SAN is outside bytes.
func FuzzFacts(f *testing.F) {
	name, _ := card.OtherName(card.OIDName, "加賀")
	birth, _ := card.OtherName(card.OIDBirthDate, "319800101")
	f.Add(san(f, name, birth))
	f.Add([]byte{0x30, 0x03, 0xA0, 0x01, 0x06})
	f.Fuzz(func(t *testing.T, b []byte) {
		facts, err := jpki.Facts(withSAN(b))
		if err == nil && (facts.Name == "" || len(facts.BirthDate) != 8) {
			t.Fatalf("accepted facts without a name or birth date: %+v", facts)
		}
		if err != nil && !errors.Is(err, jpki.ErrNoFacts) {
			t.Fatalf("an error of no known kind: %v", err)
		}
	})
}
