package card

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"smartpass.city/smartpass/app/card/apdu"
	"smartpass.city/smartpass/app/card/tlv"
	"smartpass.city/smartpass/app/j2k"
)

// Card-face application files: the only two the firewall lets a caller
// select there (cardFaceEF).
const (
	efFaceKeyB uint16 = 0x0012 // 照合番号B: the 14 digits printed on the front
	efFaceData uint16 = 0x0002 // FF20 container: facts, images, photo, signature
)

// cardFaceEF are the card-face application's files our flow uses. The
// application also holds 照合番号A (0013) and the number's image (0005):
// rather than list what is forbidden there, the firewall allows only
// these.
var cardFaceEF = []uint16{efFaceKeyB, efFaceData}

// Bounds of the card-face data, so a card (or something pretending to be
// one) cannot make a terminal read or decode without end. A real
// container holds two small PNGs, a few-kilobyte photo, a key and a
// signature; 32 KiB is several times that.
const (
	MaxCardFaceFile = 32 * 1024
	// MaxPhotoBytes bounds the JPEG 2000 photo (DF27) itself.
	MaxPhotoBytes = 16 * 1024
)

// PhotoLimits bound the photo's pixels, checked on its header before any
// decoder sees it. The card's portrait is a few hundred pixels a side.
var PhotoLimits = j2k.Limits{MaxWidth: 1024, MaxHeight: 1024, MaxComponents: 1}

// Errors of the card-face application. Use errors.Is; a wrong 照合番号B is
// *apdu.WrongPINError with the tries the card reports, a blocked key
// apdu.ErrPINBlocked.
var (
	// ErrNoCardFace: the card has no card-face application (6A 82 on
	// its SELECT): a card issued before it existed.
	ErrNoCardFace = errors.New("card: this card has no card-face application (an older card)")
	// ErrKeyBFormat: the 照合番号B typed cannot be right; it was not sent.
	ErrKeyBFormat = errors.New("card: 照合番号B must be 14 digits: birth date YYMMDD as printed, expiry year, security code")
	// ErrCardFaceData: the container is not what the card-face
	// application holds (malformed, photo missing or not JPEG 2000).
	ErrCardFaceData = errors.New("card: card-face data malformed")
	// ErrCardFaceTooLarge: the container or the photo is larger than a
	// card's (MaxCardFaceFile, MaxPhotoBytes, PhotoLimits).
	ErrCardFaceTooLarge = errors.New("card: card-face data larger than a card holds")
)

// keyB is the form of 照合番号B: YYMMDD (the era year, so any two digits),
// a four-digit expiry year, a four-digit security code.
var keyB = regexp.MustCompile(`^[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])20[0-9]{2}[0-9]{4}$`)

// CheckKeyBFormat reports whether s has the form of 照合番号B. Spaces and
// hyphens people type between the groups are not removed: the screen
// offers three fields.
func CheckKeyBFormat(s string) error {
	if !keyB.MatchString(s) {
		return fmt.Errorf("%w (%d characters)", ErrKeyBFormat, len(s))
	}
	return nil
}

// CardFace is the card-face confirmation application (券面事項確認AP).
type CardFace struct{ c *Card }

// OpenCardFace selects the card-face application; ErrNoCardFace when the
// card has none.
func OpenCardFace(ctx context.Context, c *Card) (*CardFace, error) {
	if err := c.SelectApp(ctx, AIDCardFace); err != nil {
		if errors.Is(err, apdu.ErrFileNotFound) {
			return nil, fmt.Errorf("%w: %w", ErrNoCardFace, err)
		}
		return nil, err
	}
	return &CardFace{c: c}, nil
}

// TriesLeft returns the tries left on 照合番号B, using none.
func (cf *CardFace) TriesLeft(ctx context.Context) (int, error) {
	if err := cf.c.SelectEF(ctx, efFaceKeyB); err != nil {
		return 0, err
	}
	return cf.c.TriesLeft(ctx)
}

// VerifyKeyB presents 照合番号B once. A key of the wrong form is refused
// before anything is sent (ErrKeyBFormat); a wrong one comes back as
// *apdu.WrongPINError with the tries left, and nothing here tries again.
func (cf *CardFace) VerifyKeyB(ctx context.Context, key string) error {
	if err := CheckKeyBFormat(key); err != nil {
		return err
	}
	if err := cf.c.SelectEF(ctx, efFaceKeyB); err != nil {
		return err
	}
	return cf.c.Verify(ctx, []byte(key))
}

// FaceData is the card-face container (EF 0002) as the card holds it.
type FaceData struct {
	Birth, Sex string
	// PublicKey is DF24, the key the card signs its face data with
	// (exponent and modulus as TLVs, per public readers of the card).
	PublicKey           []byte
	NamePNG, AddressPNG []byte
	// Photo is DF27, the portrait as JPEG 2000 (greyscale), and
	// PhotoHeader its header, read and bounded before any decoding.
	Photo       []byte
	PhotoHeader j2k.Header
	// Signature is DF28, over hashes of DF22–24, DF25–26 and DF27. It
	// is not verified: no public source gives the key that certifies
	// DF24, so a signature checked with DF24 alone proves nothing (see
	// README). Signed is therefore always false.
	Signature []byte
	Signed    bool
}

// Clear overwrites the photo and the images, so the portrait is not kept
// in memory after the check (the caller drops the value too).
func (d *FaceData) Clear() {
	for _, b := range [][]byte{d.Photo, d.NamePNG, d.AddressPNG} {
		clear(b)
	}
	d.Photo, d.NamePNG, d.AddressPNG, d.PhotoHeader = nil, nil, nil, j2k.Header{}
}

// Read reads and parses the card-face container (after VerifyKeyB). The
// file is read in short chunks to the length its header gives, bounded by
// MaxCardFaceFile; a file that ends earlier is ErrTruncated.
func (cf *CardFace) Read(ctx context.Context) (FaceData, error) {
	if err := cf.c.SelectEF(ctx, efFaceData); err != nil {
		return FaceData{}, err
	}
	head, err := cf.c.ReadBinary(ctx, 0, apdu.MaxShortLe)
	if err != nil {
		return FaceData{}, fmt.Errorf("card: read card-face data: %w", err)
	}
	n, err := containerLength(head)
	if err != nil {
		return FaceData{}, err
	}
	if n > MaxCardFaceFile {
		return FaceData{}, fmt.Errorf("%w: container of %d bytes (at most %d)", ErrCardFaceTooLarge, n, MaxCardFaceFile)
	}
	raw, err := cf.c.readRest(ctx, head, n)
	if err != nil {
		return FaceData{}, fmt.Errorf("card: card-face data: %w", err)
	}
	return ParseFaceData(raw)
}

// containerLength returns the length of the FF20 element that head starts.
func containerLength(head []byte) (int, error) {
	if len(head) < 3 || head[0] != 0xFF || head[1] != 0x20 {
		return 0, fmt.Errorf("%w: no FF20 container (% X)", ErrCardFaceData, head[:min(3, len(head))])
	}
	switch l := head[2]; {
	case l < 0x80:
		return 3 + int(l), nil
	case l == 0x81 && len(head) >= 4:
		return 4 + int(head[3]), nil
	case l == 0x82 && len(head) >= 5:
		return 5 + int(head[3])<<8 + int(head[4]), nil
	}
	return 0, fmt.Errorf("%w: container length form % X", ErrCardFaceData, head[:min(5, len(head))])
}

// ParseFaceData parses the card-face container: outside bytes, bounded
// and checked here before anything decodes the photo.
func ParseFaceData(raw []byte) (FaceData, error) {
	if len(raw) > MaxCardFaceFile {
		return FaceData{}, fmt.Errorf("%w: %d bytes", ErrCardFaceTooLarge, len(raw))
	}
	outer, err := tlv.Parse(raw)
	if err != nil {
		return FaceData{}, fmt.Errorf("%w: %w", ErrCardFaceData, err)
	}
	body, ok := tlv.Find(outer, 0xFF20)
	if !ok {
		return FaceData{}, fmt.Errorf("%w: no FF20 container", ErrCardFaceData)
	}
	fields, err := tlv.Parse(body)
	if err != nil {
		return FaceData{}, fmt.Errorf("%w: %w", ErrCardFaceData, err)
	}
	get := func(tag uint32) []byte { v, _ := tlv.Find(fields, tag); return v }
	text := func(tag uint32) string { return strings.TrimRight(string(get(tag)), "\x00 ") }
	d := FaceData{
		Birth: text(0xDF22), Sex: text(0xDF23), PublicKey: get(0xDF24),
		NamePNG: get(0xDF25), AddressPNG: get(0xDF26), Photo: get(0xDF27), Signature: get(0xDF28),
	}
	if len(d.Photo) == 0 {
		return FaceData{}, fmt.Errorf("%w: no photo (DF27)", ErrCardFaceData)
	}
	if len(d.Photo) > MaxPhotoBytes {
		return FaceData{}, fmt.Errorf("%w: photo of %d bytes (at most %d)", ErrCardFaceTooLarge, len(d.Photo), MaxPhotoBytes)
	}
	h, err := j2k.ParseHeader(d.Photo, PhotoLimits)
	if errors.Is(err, j2k.ErrTooLarge) {
		return FaceData{}, fmt.Errorf("%w: %w", ErrCardFaceTooLarge, err)
	}
	if err != nil {
		return FaceData{}, fmt.Errorf("%w: photo: %w", ErrCardFaceData, err)
	}
	d.PhotoHeader = h
	return d, nil
}
