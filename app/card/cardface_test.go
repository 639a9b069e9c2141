package card_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"math/big"
	"testing"

	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/apdu"
	"smartpass.city/smartpass/app/card/cardtest"
	"smartpass.city/smartpass/app/card/rcs300"
	"smartpass.city/smartpass/app/card/reader"
	"smartpass.city/smartpass/app/card/sim"
	"smartpass.city/smartpass/app/card/tlv"
	"smartpass.city/smartpass/app/j2k/opjtool"
)

// TestCardFaceRead: 照合番号B opens the card-face application and the
// portrait comes back as the card holds it, decodable by OpenJPEG; the
// tries are reported without using one, and nothing else is touched
// (the simulator fails the test on any touch of 0013 or 0005).
func TestCardFaceRead(t *testing.T) {
	ctx := context.Background()
	p := cardtest.WithPhoto(t, cardtest.Taro)
	s, c := newCard(t, p)
	cf, err := card.OpenCardFace(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cf.Read(ctx); !errors.Is(err, apdu.ErrSecurityStatus) {
		t.Fatalf("face data before 照合番号B: %v, want access denied", err)
	}
	if n, err := cf.TriesLeft(ctx); err != nil || n != 10 {
		t.Fatalf("TriesLeft = %d, %v; want 10", n, err)
	}
	if err := cf.VerifyKeyB(ctx, p.FaceKeyB); err != nil {
		t.Fatal(err)
	}
	d, err := cf.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.Photo, p.FacePhoto) || d.Birth != p.Facts.BirthDate || d.Sex != p.Facts.Sex {
		t.Fatalf("face data: birth %q sex %q photo %d bytes; want %q %q %d", d.Birth, d.Sex, len(d.Photo), p.Facts.BirthDate, p.Facts.Sex, len(p.FacePhoto))
	}
	if d.PhotoHeader.Width != cardtest.PhotoWidth || d.PhotoHeader.Height != cardtest.PhotoHeight || d.PhotoHeader.Components != 1 {
		t.Fatalf("photo header %+v", d.PhotoHeader)
	}
	if d.Signed {
		t.Fatal("the face data claims a signature check no public source allows")
	}
	g, err := opjtool.Decode(ctx, d.Photo)
	if err != nil {
		t.Fatal(err)
	}
	if g.Rect.Dx() != cardtest.PhotoWidth || g.Rect.Dy() != cardtest.PhotoHeight {
		t.Fatalf("decoded %v", g.Rect)
	}
	for _, raw := range s.Log {
		if cmd, _ := apdu.ParseCommand(raw); cmd.Extended() {
			t.Errorf("an extended APDU reached the card: % X", raw)
		}
	}
	d.Clear()
	if d.Photo != nil || len(p.FacePhoto) == 0 {
		t.Fatal("Clear left the photo")
	}
}

// TestKeyB: a 照合番号B of the wrong form is never sent; a wrong one is
// sent once and reports the card's tries left; nothing retries.
func TestKeyB(t *testing.T) {
	ctx := context.Background()
	p := cardtest.WithPhoto(t, cardtest.Taro)
	p.FaceTries = 4
	s, c := newCard(t, p)
	cf, err := card.OpenCardFace(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		"",
		"2501012035123",   // 13 digits
		"250101203512345", // 15 digits
		"25010120351a34",  // a letter
		"25130120351234",  // month 13
		"25010020351234",  // day 00
		"25010119991234",  // expiry year before the card existed
		"250101 2035 1234",
		"２５０１０１２０３５１２３４", // full-width digits
	} {
		if err := cf.VerifyKeyB(ctx, bad); !errors.Is(err, card.ErrKeyBFormat) {
			t.Errorf("VerifyKeyB(%q) = %v, want ErrKeyBFormat", bad, err)
		}
	}
	if verifies(s) != 0 {
		t.Fatal("a 照合番号B of the wrong form reached the card")
	}
	var wp *apdu.WrongPINError
	if err := cf.VerifyKeyB(ctx, "25010120359999"); !errors.As(err, &wp) || wp.Remaining != 3 {
		t.Fatalf("wrong 照合番号B: %v, want 3 tries left", err)
	}
	if verifies(s) != 1 {
		t.Fatalf("%d VERIFY commands for one wrong key: something retried", verifies(s))
	}
	if _, err := cf.Read(ctx); !errors.Is(err, apdu.ErrSecurityStatus) {
		t.Fatalf("face data after a wrong key: %v", err)
	}
}

// TestCardFaceBadInput: what a damaged, forged or old card can hand the
// terminal, each refused with its own error.
func TestCardFaceBadInput(t *testing.T) {
	ctx := context.Background()
	photo := cardtest.Photo(t)
	valid := sim.FaceContainer(cardtest.WithPhoto(t, cardtest.Taro), cardtest.PKI(t).AuthCA().PublicKey.(*rsaPub))
	corruptSIZ := bytes.Clone(photo)
	corruptSIZ[5] = 0x02 // Lsiz no longer matches the components
	withPhoto := func(ph []byte) []byte {
		return sim.FaceContainer(sim.Persona{Facts: cardtest.Taro.Facts, FacePhoto: ph}, cardtest.PKI(t).AuthCA().PublicKey.(*rsaPub))
	}
	// DF27 says more bytes than the container holds: the container's own
	// length is made to match the file, the photo's is not.
	i := bytes.Index(valid, []byte{0xDF, 0x27})
	photoTooLong := bytes.Clone(valid)
	photoTooLong[i+3], photoTooLong[i+4] = 0x7F, 0xFF
	for _, tc := range []struct {
		name string
		raw  []byte
		want error
	}{
		{"not a JPEG 2000 photo", withPhoto([]byte("GIF89a not a card photo")), card.ErrCardFaceData},
		{"corrupt JPEG 2000 header", withPhoto(corruptSIZ), card.ErrCardFaceData},
		{"photo cut before its header ends", withPhoto(photo[:20]), card.ErrCardFaceData},
		{"photo larger than the file", photoTooLong, card.ErrCardFaceData},
		{"file shorter than its header", valid[:len(valid)-300], card.ErrTruncated},
		{"photo over the byte bound", withPhoto(append(bytes.Clone(photo), make([]byte, card.MaxPhotoBytes)...)), card.ErrCardFaceTooLarge},
		{"container over the file bound", withPhoto(make([]byte, card.MaxCardFaceFile)), card.ErrCardFaceTooLarge},
		{"no container", tlv.Append(nil, 0xFF10, []byte{1, 2, 3}), card.ErrCardFaceData},
		{"no photo", withPhoto(nil), card.ErrCardFaceData},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c := newCard(t, cardtest.Taro)
			s.SetCardFaceData(tc.raw)
			cf, err := card.OpenCardFace(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if err := cf.VerifyKeyB(ctx, cardtest.Taro.FaceKeyB); err != nil {
				t.Fatal(err)
			}
			if _, err := cf.Read(ctx); !errors.Is(err, tc.want) {
				t.Fatalf("Read = %v, want %v", err, tc.want)
			}
		})
	}
	// The card-face application absent (a card from before it): its own
	// error, and no VERIFY is ever sent.
	old := cardtest.Taro
	old.NoCardFace = true
	s, c := newCard(t, old)
	if _, err := card.OpenCardFace(ctx, c); !errors.Is(err, card.ErrNoCardFace) {
		t.Fatalf("old card: %v, want ErrNoCardFace", err)
	}
	if verifies(s) != 0 {
		t.Fatal("a VERIFY reached a card without the application")
	}
}

// TestCorruptPhotoBody: a photo whose header is sound and whose coded
// data is cut away passes the header check (nothing is decoded there)
// and is refused by the decoder, OpenJPEG.
func TestCorruptPhotoBody(t *testing.T) {
	ctx := context.Background()
	photo := cardtest.Photo(t)
	p := cardtest.Taro
	p.FacePhoto = bytes.Clone(photo[:len(photo)/3])
	_, c := newCard(t, p)
	cf, err := card.OpenCardFace(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := cf.VerifyKeyB(ctx, p.FaceKeyB); err != nil {
		t.Fatal(err)
	}
	d, err := cf.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if g, err := opjtool.Decode(ctx, d.Photo); !errors.Is(err, opjtool.ErrTool) {
		t.Fatalf("a photo cut to a third decoded: %v, %v", g.Rect, err)
	}
}

// removing is a USB pipe that takes the card off the reader after a
// number of transfers: the person lifts it while the photo is read.
type removing struct {
	*sim.RCS300
	after int
}

func (r *removing) In(ctx context.Context, max int) ([]byte, error) {
	if r.after--; r.after == 0 {
		r.Place(nil)
	}
	return r.RCS300.In(ctx, max)
}

// TestCardFaceReaderRemoved: a card taken off the reader in the middle of
// the photo's read is "no card", not a malformed photo.
func TestCardFaceReaderRemoved(t *testing.T) {
	ctx := context.Background()
	p := cardtest.WithPhoto(t, cardtest.Taro)
	usb := &removing{RCS300: sim.NewRCS300(cardtest.Card(t, p))}
	r, err := rcs300.Open(ctx, usb)
	if err != nil {
		t.Fatal(err)
	}
	c := card.New(r)
	cf, err := card.OpenCardFace(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := cf.VerifyKeyB(ctx, p.FaceKeyB); err != nil {
		t.Fatal(err)
	}
	usb.after = 6 // the select of 0002, then a few READ BINARYs
	if _, err := cf.Read(ctx); !errors.Is(err, reader.ErrNoCard) {
		t.Fatalf("card removed mid-read: %v, want reader.ErrNoCard", err)
	}
}

// TestFirewallCardFace: in the card-face application only 照合番号B (0012)
// and the face data (0002) may be selected.
func TestFirewallCardFace(t *testing.T) {
	ctx := context.Background()
	s, c := newCard(t, cardtest.Taro)
	if _, err := card.OpenCardFace(ctx, c); err != nil {
		t.Fatal(err)
	}
	sent := len(s.Log)
	for _, fid := range []uint16{0x0013, 0x0005, 0x0001, 0x0003, 0x0004, 0x0011} {
		if err := c.SelectEF(ctx, fid); !errors.Is(err, card.ErrForbidden) {
			t.Errorf("card-face file %04X: %v, want ErrForbidden", fid, err)
		}
	}
	if len(s.Log) != sent {
		t.Fatalf("%d refused SELECTs reached the card", len(s.Log)-sent)
	}
	for _, fid := range []uint16{0x0012, 0x0002} {
		if err := c.SelectEF(ctx, fid); err != nil {
			t.Errorf("card-face file %04X refused: %v", fid, err)
		}
	}
}

// FuzzParseFaceData: the card-face container is outside bytes.
func FuzzParseFaceData(f *testing.F) {
	photo := []byte{0xFF, 0x4F, 0xFF, 0x51, 0x00, 0x29, 0, 0, 0, 0, 0, 96, 0, 0, 0, 120, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 96, 0, 0, 0, 120, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 7, 1, 1}
	f.Add(sim.FaceContainer(sim.Persona{FacePhoto: photo}, &rsaPubSeed))
	f.Add([]byte{0xFF, 0x20, 0x82, 0x7F, 0xFF, 0xDF, 0x27})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := card.ParseFaceData(b)
		if err != nil {
			return
		}
		if len(d.Photo) == 0 || len(d.Photo) > card.MaxPhotoBytes || d.PhotoHeader.Width > card.PhotoLimits.MaxWidth || d.PhotoHeader.Height > card.PhotoLimits.MaxHeight || d.Signed {
			t.Fatalf("accepted %d-byte photo %+v", len(d.Photo), d.PhotoHeader)
		}
	})
}

type rsaPub = rsa.PublicKey

// rsaPubSeed is a public key for the fuzz seed (its value is not read).
var rsaPubSeed = rsa.PublicKey{N: big.NewInt(3233), E: 17}
