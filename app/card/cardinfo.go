package card

import (
	"context"
	"fmt"
	"strings"

	"smartpass.city/smartpass/app/card/internal/numbergrant"
	"smartpass.city/smartpass/app/card/tlv"
)

// Card-info application files. Only these two are selected, but for the
// number's file in the one-stop flow: the firewall refuses the others
// that hold or unlock the individual number.
const (
	efInfoPIN   uint16 = 0x0011 // 4-digit PIN, 3 tries
	efBasicFour uint16 = 0x0002 // the FF20 container of the basic four facts
	efNumber    uint16 = 0x0001 // FF 10 0C + the 12 digits: one-stop flow only
)

// ErrNoGrant is returned by IndividualNumber to a caller without the
// one-stop flow's grant.
var ErrNoGrant = fmt.Errorf("%w: reading the individual number needs the one-stop application's grant", ErrForbidden)

// IndividualNumber reads the individual number (after Verify), for the
// hometown-tax one-stop application, the one procedure the project may
// read it for. g must be the grant that only package card/onestop makes;
// any other caller gets ErrNoGrant and nothing is sent to the card. The
// number comes back as its 12 ASCII digits; the caller wraps it in a
// mynumber.Number at once.
func (ci *CardInfo) IndividualNumber(ctx context.Context, g numbergrant.Grant) (string, error) {
	if !g.Valid() {
		return "", ErrNoGrant
	}
	ci.c.numberOpen = true
	defer func() { ci.c.numberOpen = false }()
	if err := ci.c.SelectEF(ctx, efNumber); err != nil {
		return "", err
	}
	raw, err := ci.c.ReadBinary(ctx, 0, 15)
	if err != nil {
		return "", fmt.Errorf("card: read the individual number: %w", err)
	}
	// Leave the number's file selected no longer than the read.
	if err := ci.c.SelectEF(ctx, efBasicFour); err != nil {
		return "", err
	}
	if len(raw) != 15 || raw[0] != 0xFF || raw[1] != 0x10 || raw[2] != 0x0C {
		return "", fmt.Errorf("card: the individual number's file: %w: % X...", tlv.ErrMalformed, raw[:min(3, len(raw))])
	}
	return string(raw[3:]), nil
}

// Facts are the basic four facts (基本4情報) as the card holds them.
type Facts struct {
	Name      string // family and given name separated by U+3000
	Address   string
	BirthDate string // YYYYMMDD
	Sex       string // one of the Sex codes below
}

// Sex codes as cards give them. The card-info application follows ISO
// 5218 (1, 2, and 9 not applicable); the signature certificate's
// otherName 1.2.392.200149.8.5.5.3 gives 1 男, 2 女 and 3 不明, which real
// certificates carry. A person whose card says 3 must be able to enroll.
const (
	SexMale          = "1"
	SexFemale        = "2"
	SexUnknown       = "3" // 不明, in signature certificates
	SexNotApplicable = "9" // ISO 5218, in the card-info application
)

// KnownSex reports whether code is one of the Sex codes.
func KnownSex(code string) bool {
	switch code {
	case SexMale, SexFemale, SexUnknown, SexNotApplicable:
		return true
	}
	return false
}

// CardInfo is the card-info input support application (券面事項入力補助AP).
type CardInfo struct{ c *Card }

// OpenCardInfo selects the card-info application.
func OpenCardInfo(ctx context.Context, c *Card) (*CardInfo, error) {
	if err := c.SelectApp(ctx, AIDCardInfo); err != nil {
		return nil, err
	}
	return &CardInfo{c: c}, nil
}

// TriesLeft returns the tries left on the 4-digit PIN, using none.
func (ci *CardInfo) TriesLeft(ctx context.Context) (int, error) {
	if err := ci.c.SelectEF(ctx, efInfoPIN); err != nil {
		return 0, err
	}
	return ci.c.TriesLeft(ctx)
}

// Verify presents the 4-digit PIN once.
func (ci *CardInfo) Verify(ctx context.Context, pin string) error {
	if err := CheckPINFormat(AuthKey, pin); err != nil {
		return err
	}
	if err := ci.c.SelectEF(ctx, efInfoPIN); err != nil {
		return err
	}
	return ci.c.Verify(ctx, []byte(pin))
}

// BasicFour reads the basic four facts (after Verify).
func (ci *CardInfo) BasicFour(ctx context.Context) (Facts, error) {
	if err := ci.c.SelectEF(ctx, efBasicFour); err != nil {
		return Facts{}, err
	}
	raw, err := ci.c.ReadAll(ctx, 4096)
	if err != nil {
		return Facts{}, fmt.Errorf("card: read basic four facts: %w", err)
	}
	return ParseFacts(raw)
}

// ParseFacts parses the card-info application's basic-four-facts file.
func ParseFacts(raw []byte) (Facts, error) {
	outer, err := tlv.Parse(raw)
	if err != nil {
		return Facts{}, fmt.Errorf("card: basic four facts: %w", err)
	}
	body, ok := tlv.Find(outer, 0xFF20)
	if !ok {
		return Facts{}, fmt.Errorf("card: basic four facts: %w: no FF20 container", tlv.ErrMalformed)
	}
	fields, err := tlv.Parse(body)
	if err != nil {
		return Facts{}, fmt.Errorf("card: basic four facts: %w", err)
	}
	get := func(tag uint32) string {
		v, _ := tlv.Find(fields, tag)
		return strings.TrimRight(string(v), "\x00 ")
	}
	f := Facts{Name: get(0xDF22), Address: get(0xDF23), BirthDate: get(0xDF24), Sex: get(0xDF25)}
	if f.Name == "" || len(f.BirthDate) != 8 {
		return Facts{}, fmt.Errorf("card: basic four facts: %w: name %q, birth date %q", tlv.ErrMalformed, f.Name, f.BirthDate)
	}
	return f, nil
}
