package card

import "encoding/asn1"

// The signature certificate carries the holder's basic four facts as
// otherName entries of its subject alternative name, under J-LIS's arc
// 1.2.392.200149.8.5.5. The assignment below agrees across an openssl
// dump of a real card's signature certificate published with its values
// blanked (.1 name, .4 "era digit + YYYYMMDD", .3 sex, .5 address, .2 and
// .6 zeros) and two independent verifier implementations; one older OID
// table swaps .5 and .6, which the dump contradicts. They sit here, with
// the Facts they carry, so that the verifier (app/jpki) and the test PKI
// (app/card/sim) share them without importing each other.
var (
	OIDName               = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 1}
	OIDNameSubstitutes    = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 2} // substitute-character codes
	OIDSex                = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 3}
	OIDBirthDate          = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 4}
	OIDAddress            = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 5}
	OIDAddressSubstitutes = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 6}
)

// OtherName encodes one otherName entry with a UTF8String value, as the
// signature certificate carries each fact (the test PKI issues them).
func OtherName(oid asn1.ObjectIdentifier, value string) (asn1.RawValue, error) {
	str, err := asn1.MarshalWithParams(value, "utf8")
	if err != nil {
		return asn1.RawValue{}, err
	}
	body, err := asn1.Marshal(oid)
	if err != nil {
		return asn1.RawValue{}, err
	}
	wrapped, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: str})
	if err != nil {
		return asn1.RawValue{}, err
	}
	return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: append(body, wrapped...)}, nil
}
