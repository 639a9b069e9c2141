// Package sim is a software My Number Card: the JPKI, card-info and
// card-face applications with their files, access rules, PIN counters
// that lock, and real RSA keys and certificates from a test JPKI CA made
// at run time. It answers APDU bytes exactly as CARD.md describes the
// card, so the card package's code runs against it unchanged, in tests
// and in the demo.
//
// The simulator also watches the law: any SELECT or READ of a file that
// holds or unlocks the individual number is recorded in Violations, and
// tests fail on it. The firewall in package card should make that
// impossible; this is the second line.
package sim

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"
	"sync"

	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/apdu"
	"smartpass.city/smartpass/app/card/tlv"
)

// Persona describes the card's holder and state.
type Persona struct {
	Facts        card.Facts
	Number       string // the individual number, only to prove it never leaves
	AuthPIN      string // 4 digits, also the card-info PIN here
	SignPassword string // 6-16 of A-Z 0-9; "" for a PIN-less card (no signature certificate)
	AuthTries    int    // tries left on the auth PIN (default 3)
	SignTries    int    // tries left on the signature password (default 5)
	// FaceKeyB is 照合番号B, the 14 digits printed on the front that open
	// the card-face application; FacePhoto its portrait (DF27, JPEG
	// 2000 as the card holds it). FaceTries is the tries left on the key
	// (default 10).
	FaceKeyB  string
	FacePhoto []byte
	FaceTries int
	// NoCardFace makes an older card without the card-face application:
	// its SELECT answers 6A 82.
	NoCardFace bool
}

type pin struct {
	value      string
	tries, max int
}

type key struct {
	priv *rsa.PrivateKey
	pin  uint16 // the PIN file that opens it
}

type file struct {
	data []byte
	pin  uint16 // 0: free to read
}

type application struct {
	files     map[uint16]file
	pins      map[uint16]*pin
	keys      map[uint16]key
	forbidden map[uint16]bool
}

// Card is a simulated card. It is safe for concurrent use (one command
// at a time, as on a real card).
type Card struct {
	mu       sync.Mutex
	apps     map[string]*application
	app      *application
	appName  string
	ef       uint16
	verified map[uint16]bool

	// ShortOnly makes the card refuse extended-length APDUs (67 00), as
	// some reader and card pairs do.
	ShortOnly bool
	// Violations lists every attempt to reach the individual number.
	Violations []string
	// AllowNumber lets the card-info application's number file (0001) be
	// selected and read after its PIN, as the one-stop application's
	// flow does (package card/onestop); NumberReads counts those reads.
	// Off, a touch of the file is a violation like any other.
	AllowNumber bool
	NumberReads int
	// Log holds every command received, hex, for tests.
	Log [][]byte
}

// New makes a card for p with keys and certificates issued by pki.
func New(pki *PKI, p Persona) (*Card, error) {
	if p.AuthTries == 0 {
		p.AuthTries = 3
	}
	if p.SignTries == 0 {
		p.SignTries = 5
	}
	authKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	authCert, err := pki.issue(pki.auth, &authKey.PublicKey, nil)
	if err != nil {
		return nil, err
	}
	jpki := &application{
		files: map[uint16]file{
			card.EFAuthCert:   {data: authCert},
			card.EFAuthCACert: {data: pki.auth.cert.Raw},
			card.EFSignCACert: {data: pki.sign.cert.Raw},
			card.EFTokenInfo:  {data: append([]byte("JPKIAPICCTOKEN2"), make([]byte, 145)...)},
		},
		pins: map[uint16]*pin{0x0018: {value: p.AuthPIN, tries: p.AuthTries, max: 3}},
		keys: map[uint16]key{0x0017: {priv: authKey, pin: 0x0018}},
	}
	if p.SignPassword != "" {
		signKey, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		signCert, err := pki.issue(pki.sign, &signKey.PublicKey, &p.Facts)
		if err != nil {
			return nil, err
		}
		jpki.files[card.EFSignCert] = file{data: signCert, pin: 0x001B}
		jpki.pins[0x001B] = &pin{value: p.SignPassword, tries: p.SignTries, max: 5}
		jpki.keys[0x001A] = key{priv: signKey, pin: 0x001B}
		jpki.files[0x0008] = file{data: []byte{0x8F, 0x8F, 0x00}}
	}
	facts := tlv.Append(nil, 0xDF21, []byte{0, 0, 0, 0})
	facts = tlv.Append(facts, 0xDF22, []byte(p.Facts.Name))
	facts = tlv.Append(facts, 0xDF23, []byte(p.Facts.Address))
	facts = tlv.Append(facts, 0xDF24, []byte(p.Facts.BirthDate))
	facts = tlv.Append(facts, 0xDF25, []byte(p.Facts.Sex))
	info := &application{
		files: map[uint16]file{
			0x0002: {data: tlv.Append(nil, 0xFF20, facts), pin: 0x0011},
			0x0001: {data: append([]byte{0xFF, 0x10, 0x0C}, p.Number...), pin: 0x0011},
		},
		pins:      map[uint16]*pin{0x0011: {value: p.AuthPIN, tries: 3, max: 3}, 0x0014: {value: p.Number, tries: 10, max: 10}},
		forbidden: map[uint16]bool{0x0001: true, 0x0014: true, 0x0003: true},
	}
	if p.FaceTries == 0 {
		p.FaceTries = 10
	}
	face := &application{
		files: map[uint16]file{
			0x0005: {data: []byte("image of the individual number")},
			0x0002: {data: FaceContainer(p, &authKey.PublicKey), pin: 0x0012},
		},
		pins: map[uint16]*pin{
			0x0013: {value: p.Number, tries: 10, max: 10},
			0x0012: {value: p.FaceKeyB, tries: p.FaceTries, max: 10},
		},
		forbidden: map[uint16]bool{0x0013: true, 0x0005: true},
	}
	apps := map[string]*application{
		string(card.AIDJPKI):     jpki,
		string(card.AIDCardInfo): info,
		string(card.AIDCardFace): face,
	}
	if p.NoCardFace {
		delete(apps, string(card.AIDCardFace))
	}
	return &Card{apps: apps, verified: make(map[uint16]bool)}, nil
}

// FaceContainer builds the card-face application's EF 0002 for p as
// public readers of real cards describe it: FF20 around DF21 (offsets),
// DF22 birth date, DF23 sex, DF24 the card's public key (exponent and
// modulus as TLVs), DF25/DF26 the name and address images, DF27 the
// portrait, DF28 a signature. The simulator's images are placeholders and
// its signature is 256 zero bytes: nothing checks it (see package card).
func FaceContainer(p Persona, pub *rsa.PublicKey) []byte {
	key := tlv.Append(nil, 0x02, big.NewInt(int64(pub.E)).Bytes())
	key = tlv.Append(key, 0x02, pub.N.Bytes())
	f := tlv.Append(nil, 0xDF21, make([]byte, 12))
	f = tlv.Append(f, 0xDF22, []byte(p.Facts.BirthDate))
	f = tlv.Append(f, 0xDF23, []byte(p.Facts.Sex))
	f = tlv.Append(f, 0xDF24, key)
	f = tlv.Append(f, 0xDF25, []byte("\x89PNG name image"))
	f = tlv.Append(f, 0xDF26, []byte("\x89PNG address image"))
	f = tlv.Append(f, 0xDF27, p.FacePhoto)
	f = tlv.Append(f, 0xDF28, make([]byte, 256))
	return tlv.Append(nil, 0xFF20, f)
}

// SetCardFaceData replaces the card-face application's EF 0002 with raw,
// as a damaged or forged card would hold it (tests of bad input).
func (c *Card) SetCardFaceData(raw []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a := c.apps[string(card.AIDCardFace)]; a != nil {
		files := maps.Clone(a.files)
		files[0x0002] = file{data: raw, pin: 0x0012}
		a.files = files
	}
}

// Clone returns the same card as c was made (its keys, certificates and
// files) with its own PIN counters and nothing selected: the demo puts
// one persona's card, the same physical card, on every reader session,
// so its certificates stay the same across sessions.
func (c *Card) Clone() *Card {
	c.mu.Lock()
	defer c.mu.Unlock()
	apps := make(map[string]*application, len(c.apps))
	for name, a := range c.apps {
		pins := make(map[uint16]*pin, len(a.pins))
		for id, p := range a.pins {
			copied := *p
			pins[id] = &copied
		}
		apps[name] = &application{files: a.files, pins: pins, keys: a.keys, forbidden: a.forbidden}
	}
	return &Card{apps: apps, verified: make(map[uint16]bool)}
}

// Transmit implements apdu.Transceiver.
func (c *Card) Transmit(_ context.Context, raw []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Log = append(c.Log, bytes.Clone(raw))
	cmd, err := apdu.ParseCommand(raw)
	if err != nil {
		return sw(apdu.SWWrongLength), nil
	}
	return c.handle(cmd), nil
}

func sw(s uint16) []byte { return []byte{byte(s >> 8), byte(s)} }

func ok(data []byte) []byte { return apdu.Response{Data: data, SW: apdu.SWOK}.Encode() }

// findApp finds the application SELECT by DF name reaches: as ISO 7816-4
// allows and real cards do, a name that is only the start of an AID
// selects the first application whose AID begins with it.
func (c *Card) findApp(name []byte) (string, bool) {
	if _, ok := c.apps[string(name)]; ok {
		return string(name), true
	}
	if len(name) == 0 {
		return "", false
	}
	names := slices.Sorted(maps.Keys(c.apps))
	for _, n := range names {
		if strings.HasPrefix(n, string(name)) {
			return n, true
		}
	}
	return "", false
}

func (c *Card) handle(cmd apdu.Command) []byte {
	switch {
	case cmd.INS == 0xA4 && cmd.P1 == 0x04:
		name, found := c.findApp(cmd.Data)
		if !found {
			return sw(apdu.SWFileNotFound)
		}
		c.app, c.appName, c.ef = c.apps[name], name, 0
		clear(c.verified)
		return sw(apdu.SWOK)
	case cmd.INS == 0xA4 && cmd.P1 == 0x02:
		if c.app == nil || len(cmd.Data) != 2 {
			return sw(apdu.SWFileNotFound)
		}
		fid := uint16(cmd.Data[0])<<8 | uint16(cmd.Data[1])
		if c.app.forbidden[fid] && !c.numberAllowed(fid) {
			c.Violations = append(c.Violations, fmt.Sprintf("SELECT %04X in % X", fid, []byte(c.appName)))
		}
		_, isFile := c.app.files[fid]
		_, isPIN := c.app.pins[fid]
		_, isKey := c.app.keys[fid]
		if !isFile && !isPIN && !isKey {
			return sw(apdu.SWFileNotFound)
		}
		c.ef = fid
		return sw(apdu.SWOK)
	case cmd.INS == 0xB0:
		return c.read(cmd)
	case cmd.INS == 0x20:
		return c.verify(cmd)
	case cmd.CLA == 0x80 && cmd.INS == 0x2A && cmd.P1 == 0x00 && cmd.P2 == 0x80:
		return c.sign(cmd)
	}
	return sw(apdu.SWINSNotSupported)
}

func (c *Card) read(cmd apdu.Command) []byte {
	if cmd.P1&0x80 != 0 {
		// Short file id in P1: the simulator treats the named file as
		// read, and watches it like a SELECT.
		sfi := uint16(cmd.P1 & 0x1F)
		if c.app != nil && c.app.forbidden[sfi] {
			c.Violations = append(c.Violations, fmt.Sprintf("READ BINARY by short id %02X", sfi))
		}
		return sw(apdu.SWFileNotFound)
	}
	if c.app == nil {
		return sw(apdu.SWConditions)
	}
	f, isFile := c.app.files[c.ef]
	if !isFile {
		return sw(apdu.SWConditions)
	}
	if c.app.forbidden[c.ef] && !c.numberAllowed(c.ef) {
		c.Violations = append(c.Violations, fmt.Sprintf("READ BINARY of %04X", c.ef))
	}
	if f.pin != 0 && !c.verified[f.pin] {
		return sw(apdu.SWSecurityStatus)
	}
	if c.numberAllowed(c.ef) {
		c.NumberReads++
	}
	off := int(cmd.P1)<<8 | int(cmd.P2)
	if off > len(f.data) {
		return sw(apdu.SWWrongP1P2)
	}
	n := cmd.Le
	if n == apdu.NoLe || (c.ShortOnly && cmd.Extended()) {
		return sw(apdu.SWWrongLength)
	}
	end := min(off+n, len(f.data))
	return ok(f.data[off:end])
}

// numberAllowed reports whether fid is the number file of the card-info
// application while AllowNumber is on.
func (c *Card) numberAllowed(fid uint16) bool {
	return c.AllowNumber && fid == 0x0001 && c.appName == string(card.AIDCardInfo)
}

func (c *Card) verify(cmd apdu.Command) []byte {
	if c.app == nil {
		return sw(apdu.SWConditions)
	}
	p, isPIN := c.app.pins[c.ef]
	if !isPIN {
		return sw(apdu.SWConditions)
	}
	if c.app.forbidden[c.ef] {
		c.Violations = append(c.Violations, fmt.Sprintf("VERIFY against %04X", c.ef))
	}
	if p.tries == 0 {
		return sw(apdu.SWPINBlocked)
	}
	if len(cmd.Data) == 0 {
		return sw(0x63C0 | uint16(p.tries)) // tries left, none used
	}
	if string(cmd.Data) != p.value {
		p.tries--
		return sw(0x63C0 | uint16(p.tries))
	}
	p.tries = p.max
	c.verified[c.ef] = true
	return sw(apdu.SWOK)
}

func (c *Card) sign(cmd apdu.Command) []byte {
	if c.app == nil {
		return sw(apdu.SWConditions)
	}
	k, isKey := c.app.keys[c.ef]
	if !isKey {
		return sw(apdu.SWConditions)
	}
	if !c.verified[k.pin] {
		return sw(apdu.SWSecurityStatus)
	}
	// The card pads the DigestInfo it is given (PKCS#1 v1.5) and signs.
	sig, err := rsa.SignPKCS1v15(nil, k.priv, crypto.Hash(0), cmd.Data)
	if err != nil {
		return sw(apdu.SWWrongData)
	}
	return ok(sig)
}
