package card

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"regexp"

	"smartpass.city/smartpass/app/card/apdu"
)

// JPKI file identifiers.
const (
	EFAuthCert   uint16 = 0x000A // user-authentication certificate (free)
	EFAuthCACert uint16 = 0x000B // its CA certificate
	EFSignCert   uint16 = 0x0001 // signature certificate (after the password)
	EFSignCACert uint16 = 0x0002
	EFTokenInfo  uint16 = 0x0006
	efAuthKey    uint16 = 0x0017
	efAuthPIN    uint16 = 0x0018
	efSignKey    uint16 = 0x001A
	efSignPIN    uint16 = 0x001B
)

// Key names one of the card's two JPKI key pairs.
type Key int

// The JPKI keys.
const (
	// AuthKey is the user-authentication key, opened by a 4-digit PIN
	// (3 tries).
	AuthKey Key = iota
	// SignKey is the signature key, opened by a 6-16 character password
	// of A-Z and 0-9 (5 tries).
	SignKey
)

func (k Key) files() (key, pin uint16) {
	if k == SignKey {
		return efSignKey, efSignPIN
	}
	return efAuthKey, efAuthPIN
}

// Cert is the file of k's certificate.
func (k Key) Cert() uint16 {
	if k == SignKey {
		return EFSignCert
	}
	return EFAuthCert
}

// ErrPINFormat means the PIN cannot be right: it is refused before the
// card sees it, so a typo never costs a try.
var ErrPINFormat = errors.New("card: the PIN does not have the right form")

var (
	fourDigits   = regexp.MustCompile(`^[0-9]{4}$`)
	signPassword = regexp.MustCompile(`^[A-Z0-9]{6,16}$`)
)

// CheckPINFormat reports whether pin has the form key's PIN takes.
func CheckPINFormat(k Key, pin string) error {
	if k == SignKey && !signPassword.MatchString(pin) {
		return fmt.Errorf("%w: the signature password is 6 to 16 capital letters and digits", ErrPINFormat)
	}
	if k == AuthKey && !fourDigits.MatchString(pin) {
		return fmt.Errorf("%w: the PIN is 4 digits", ErrPINFormat)
	}
	return nil
}

// JPKI is the card's public personal authentication application.
type JPKI struct{ c *Card }

// OpenJPKI selects the JPKI application.
func OpenJPKI(ctx context.Context, c *Card) (*JPKI, error) {
	if err := c.SelectApp(ctx, AIDJPKI); err != nil {
		return nil, err
	}
	return &JPKI{c: c}, nil
}

// Certificate reads a certificate file (EFAuthCert, ...) as DER with
// short READ BINARYs of 256 bytes (Le = 00), the first of which carries
// the header that gives the length, as every implementation that talks
// to real cards does. An extended READ BINARY would save a few APDUs, but
// readers carry far less than a whole certificate in one message (the
// RC-S300 about 522 bytes), and one that cannot fails as a reader error,
// not with 67 00 that a fall-back could catch.
func (j *JPKI) Certificate(ctx context.Context, ef uint16) ([]byte, error) {
	if err := j.c.SelectEF(ctx, ef); err != nil {
		return nil, err
	}
	der, err := j.c.ReadBinary(ctx, 0, apdu.MaxShortLe)
	if err != nil {
		return nil, fmt.Errorf("card: read certificate %04X: %w", ef, err)
	}
	n, err := derLength(der)
	if err != nil {
		return nil, fmt.Errorf("card: certificate %04X: %w", ef, err)
	}
	if der, err = j.c.readRest(ctx, der, n); err != nil {
		return nil, fmt.Errorf("card: certificate %04X: %w", ef, err)
	}
	return der, nil
}

// readRest reads the current file on from len(got) with short READ
// BINARYs until it holds n bytes, and returns its first n (a file may be
// padded past the structure its header sizes). A file that ends sooner
// is ErrTruncated.
func (c *Card) readRest(ctx context.Context, got []byte, n int) ([]byte, error) {
	for len(got) < n {
		b, err := c.ReadBinary(ctx, len(got), min(apdu.MaxShortLe, n-len(got)))
		if errors.Is(err, apdu.ErrOffsetPastEnd) || err == nil && len(b) == 0 {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read at %d: %w", len(got), err)
		}
		got = append(got, b...)
	}
	if len(got) < n {
		return nil, fmt.Errorf("%w: %d of %d bytes", ErrTruncated, len(got), n)
	}
	return got[:n], nil
}

// ErrTruncated means a file ended before the length its header gave.
var ErrTruncated = errors.New("card: file shorter than its header says")

// derLength returns the total length of the DER SEQUENCE that head (its
// first 4 bytes) starts.
func derLength(head []byte) (int, error) {
	if len(head) < 2 || head[0] != 0x30 {
		return 0, fmt.Errorf("not a DER sequence (% X)", head)
	}
	switch l := head[1]; {
	case l < 0x80:
		return 2 + int(l), nil
	case l == 0x81 && len(head) >= 3:
		return 3 + int(head[2]), nil
	case l == 0x82 && len(head) >= 4:
		return 4 + int(head[2])<<8 + int(head[3]), nil
	}
	return 0, fmt.Errorf("DER length form % X not used on this card", head)
}

// TriesLeft returns the tries left on k's PIN, using none.
func (j *JPKI) TriesLeft(ctx context.Context, k Key) (int, error) {
	_, pin := k.files()
	if err := j.c.SelectEF(ctx, pin); err != nil {
		return 0, err
	}
	return j.c.TriesLeft(ctx)
}

// Verify presents pin for k once. It refuses a PIN of the wrong form
// without sending it.
func (j *JPKI) Verify(ctx context.Context, k Key, pin string) error {
	if err := CheckPINFormat(k, pin); err != nil {
		return err
	}
	_, ef := k.files()
	if err := j.c.SelectEF(ctx, ef); err != nil {
		return err
	}
	return j.c.Verify(ctx, []byte(pin))
}

// sha256DigestInfo is the DER prefix of a PKCS#1 v1.5 DigestInfo for
// SHA-256: the card pads, we send the DigestInfo.
var sha256DigestInfo = []byte{0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}

// Sign signs a SHA-256 digest with k (after Verify), returning the RSA
// PKCS#1 v1.5 signature.
func (j *JPKI) Sign(ctx context.Context, k Key, digest []byte) ([]byte, error) {
	if len(digest) != 32 {
		return nil, fmt.Errorf("card: sign: a SHA-256 digest has 32 bytes, not %d", len(digest))
	}
	key, _ := k.files()
	if err := j.c.SelectEF(ctx, key); err != nil {
		return nil, err
	}
	sig, err := j.c.Exchange(ctx, apdu.Command{CLA: 0x80, INS: insPSO, P1: 0x00, P2: 0x80, Data: append(append([]byte(nil), sha256DigestInfo...), digest...), Le: 0})
	if err != nil {
		return nil, fmt.Errorf("card: sign: %w", err)
	}
	return sig, nil
}

// Authenticate is the card's part of a JPKI authentication with k: it
// presents pin once (a wrong one comes back as *apdu.WrongPINError and is
// never tried again here), reads k's certificate and signs the SHA-256 of
// challenge, a nonce the verifier issued. With the PIN's tries read
// before, it takes 8 APDUs.
func (j *JPKI) Authenticate(ctx context.Context, k Key, pin string, challenge []byte) (cert, sig []byte, err error) {
	if err := j.Verify(ctx, k, pin); err != nil {
		return nil, nil, err
	}
	if cert, err = j.Certificate(ctx, k.Cert()); err != nil {
		return nil, nil, err
	}
	sum := sha256.Sum256(challenge)
	if sig, err = j.Sign(ctx, k, sum[:]); err != nil {
		return nil, nil, err
	}
	return cert, sig, nil
}
