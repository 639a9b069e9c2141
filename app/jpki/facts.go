package jpki

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"unicode/utf8"

	"smartpass.city/smartpass/app/card"
)

var oidSAN = asn1.ObjectIdentifier{2, 5, 29, 17}

// ErrNoFacts: the certificate does not carry the basic four facts (a
// user-authentication certificate, or not a JPKI signature certificate).
var ErrNoFacts = errors.New("jpki: the certificate does not carry the basic four facts")

// Facts reads the basic four facts from a signature certificate. The
// birth date comes back as YYYYMMDD (the card's era digit dropped).
// Verify the certificate first: Facts trusts what it reads.
func Facts(cert *x509.Certificate) (card.Facts, error) {
	var san []byte
	for _, e := range cert.Extensions {
		if e.Id.Equal(oidSAN) {
			san = e.Value
		}
	}
	if san == nil {
		return card.Facts{}, fmt.Errorf("%w: no subject alternative name", ErrNoFacts)
	}
	vals, err := otherNames(san)
	if err != nil {
		return card.Facts{}, err
	}
	f := card.Facts{Name: vals[card.OIDName.String()], Address: vals[card.OIDAddress.String()], Sex: vals[card.OIDSex.String()]}
	birth := vals[card.OIDBirthDate.String()]
	if len(birth) == 9 {
		birth = birth[1:]
	}
	f.BirthDate = birth
	if f.Name == "" || len(f.BirthDate) != 8 {
		return card.Facts{}, fmt.Errorf("%w: name or birth date missing", ErrNoFacts)
	}
	return f, nil
}

// otherNames returns the string values of a SAN extension's otherName
// entries by OID.
func otherNames(san []byte) (map[string]string, error) {
	var names []asn1.RawValue
	if rest, err := asn1.Unmarshal(san, &names); err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("%w: subject alternative name is not DER (%v)", ErrNoFacts, err)
	}
	out := make(map[string]string)
	for _, n := range names {
		if n.Class != asn1.ClassContextSpecific || n.Tag != 0 || !n.IsCompound {
			continue // not an otherName
		}
		// otherName: [0] IMPLICIT SEQUENCE { type-id, [0] EXPLICIT value }.
		var oid asn1.ObjectIdentifier
		rest, err := asn1.Unmarshal(n.Bytes, &oid)
		if err != nil {
			return nil, fmt.Errorf("%w: otherName: %v", ErrNoFacts, err)
		}
		var val, s asn1.RawValue
		if _, err := asn1.Unmarshal(rest, &val); err != nil || val.Class != asn1.ClassContextSpecific || val.Tag != 0 {
			return nil, fmt.Errorf("%w: otherName %s without its [0] value", ErrNoFacts, oid)
		}
		if _, err := asn1.Unmarshal(val.Bytes, &s); err != nil {
			return nil, fmt.Errorf("%w: otherName %s: %v", ErrNoFacts, oid, err)
		}
		switch s.Tag {
		case asn1.TagUTF8String, asn1.TagPrintableString, asn1.TagIA5String:
		default:
			return nil, fmt.Errorf("%w: otherName %s is not a string (tag %d)", ErrNoFacts, oid, s.Tag)
		}
		if !utf8.Valid(s.Bytes) {
			return nil, fmt.Errorf("%w: otherName %s is not UTF-8", ErrNoFacts, oid)
		}
		out[oid.String()] = string(s.Bytes)
	}
	return out, nil
}
