package cardphoto_test

import (
	"context"
	"crypto/rsa"
	"errors"
	"image"
	"math/big"
	"slices"
	"testing"

	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/apdu"
	"smartpass.city/smartpass/app/card/cardtest"
	"smartpass.city/smartpass/app/card/reader"
	"smartpass.city/smartpass/app/card/sim"
	"smartpass.city/smartpass/app/cardphoto"
	"smartpass.city/smartpass/app/face/embed"
	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/j2k"
	"smartpass.city/smartpass/app/j2k/opjtool"
	"smartpass.city/smartpass/app/jpki"
)

// on is a reader with a simulated card on it; it counts connections, so
// a test sees a key of the wrong form never reach the reader. after,
// when set, is how many commands the connection carries before it
// answers "no card" (the card lifted off the reader).
type on struct {
	c     *sim.Card
	n     int
	after int
}

func (r *on) Connect(context.Context) (apdu.Transceiver, error) {
	r.n++
	if r.after > 0 {
		return &lifting{T: r.c, after: r.after}, nil
	}
	return r.c, nil
}

// lifting answers "no card" after a number of commands.
type lifting struct {
	T     apdu.Transceiver
	after int
}

func (l *lifting) Transmit(ctx context.Context, cmd []byte) ([]byte, error) {
	if l.after--; l.after < 0 {
		return nil, reader.ErrNoCard
	}
	return l.T.Transmit(ctx, cmd)
}

// tool decodes with Debian's opj_decompress (the browser uses the same
// library, compiled to WebAssembly) and keeps what it was given, so the
// test can see the photo's bytes overwritten afterwards.
type tool struct{ got []byte }

func (d *tool) Decode(ctx context.Context, data []byte, lim j2k.Limits) (*image.Gray, error) {
	d.got = data
	if _, err := j2k.ParseHeader(data, lim); err != nil {
		return nil, err
	}
	return opjtool.Decode(ctx, data)
}

// meanEmbedder is a stand-in for the face pipeline: a template of the
// image's size and mean grey, so a test sees the decoded pixels reach it.
func meanEmbedder(img image.Image) ([]float32, error) {
	g, ok := img.(*image.Gray)
	if !ok {
		return nil, errors.New("not grey")
	}
	var sum float32
	for _, v := range g.Pix {
		sum += float32(v)
	}
	return []float32{float32(g.Rect.Dx()), float32(g.Rect.Dy()), sum / float32(len(g.Pix))}, nil
}

func noFace(image.Image) ([]float32, error) { return nil, errors.New("no face detected") }

// TestRead: the card read with 照合番号B, each bad input a test of its
// own, with the words the screen shows and how many keys reached the
// card (never more than one; none for a key of the wrong form).
func TestRead(t *testing.T) {
	if err := opjtool.Check(); err != nil {
		t.Skip(err) // deps.sh installs libopenjp2-tools
	}
	ctx := context.Background()
	taro := cardtest.WithPhoto(t, cardtest.Taro)
	for _, tc := range []struct {
		name     string
		persona  sim.Persona
		key      string
		damage   func(c *sim.Card)
		lift     int
		embed    cardphoto.Embedder
		noDec    bool
		want     error
		words    string
		verifies int
		connects int
	}{
		{name: "right key", persona: taro, key: taro.FaceKeyB, verifies: 1, connects: 1},
		{name: "wrong key", persona: taro, key: "25010120359999", want: &apdu.WrongPINError{}, words: "cardface.err.wrong", verifies: 1, connects: 1},
		{name: "wrong form: 13 digits", persona: taro, key: "2501012035123", want: card.ErrKeyBFormat, words: "cardface.err.format"},
		{name: "wrong form: month 13", persona: taro, key: "25130120351234", want: card.ErrKeyBFormat, words: "cardface.err.format"},
		{name: "old card", persona: func() sim.Persona { p := taro; p.NoCardFace = true; return p }(), key: taro.FaceKeyB, want: card.ErrNoCardFace, words: "cardface.err.old", connects: 1},
		{name: "corrupt JPEG 2000", persona: taro, key: taro.FaceKeyB, damage: func(c *sim.Card) {
			c.SetCardFaceData(faceData(t, taro, func(b []byte) []byte { b = slices.Clone(b); b = b[:len(b)/3]; return b }))
		}, want: errDecode, words: "cardface.err.photo", verifies: 1, connects: 1},
		{name: "photo larger than the card's file", persona: taro, key: taro.FaceKeyB, damage: func(c *sim.Card) {
			c.SetCardFaceData(faceData(t, taro, func(b []byte) []byte { return append(slices.Clone(b), make([]byte, card.MaxPhotoBytes)...) }))
		}, want: card.ErrCardFaceTooLarge, words: "cardface.err.photo", verifies: 1, connects: 1},
		{name: "no face in the photo", persona: taro, key: taro.FaceKeyB, embed: noFace, want: cardphoto.ErrNoFace, words: "cardface.err.photo", verifies: 1, connects: 1},
		{name: "no decoder", persona: taro, key: taro.FaceKeyB, noDec: true, want: cardphoto.ErrNoDecoder, words: "cardface.err.decoder"},
		{name: "reader removed mid-read", persona: taro, key: taro.FaceKeyB, lift: 6, want: reader.ErrNoCard, words: "card.err.nocard", verifies: 1, connects: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := cardtest.Card(t, tc.persona)
			if tc.damage != nil {
				tc.damage(s)
			}
			r := &on{c: s, after: tc.lift}
			dec := &tool{}
			var d cardphoto.Decoder = dec
			if tc.noDec {
				d = nil
			}
			emb := tc.embed
			if emb == nil {
				emb = meanEmbedder
			}
			p, err := cardphoto.Read(ctx, r, tc.key, d, emb)
			if n := cardtest.Verifies(s); n != tc.verifies {
				t.Errorf("%d keys reached the card, want %d", n, tc.verifies)
			}
			if r.n != tc.connects {
				t.Errorf("%d connections, want %d", r.n, tc.connects)
			}
			if w := cardphoto.Explain(err); tc.words != "" && (len(w.Keys) == 0 || w.Keys[0] != tc.words) {
				t.Errorf("words %v, want %s", w, tc.words)
			}
			var wp *apdu.WrongPINError
			switch {
			case tc.want == nil && err != nil:
				t.Fatal(err)
			case tc.want == nil:
				if p.Fingerprint == "" || p.BirthYear != 1950 || p.Sex != "1" || p.Signed {
					t.Errorf("photo %+v", p)
				}
				want := jpki.Fingerprint(certOf(t, s))
				if p.Fingerprint != want {
					t.Errorf("fingerprint %s, want %s", p.Fingerprint, want)
				}
				if len(p.Template) != 3 || p.Template[0] != cardtest.PhotoWidth || p.Template[1] != cardtest.PhotoHeight {
					t.Errorf("template %v", p.Template)
				}
			case errors.As(tc.want, &wp):
				if !errors.As(err, &wp) || wp.Remaining != 9 {
					t.Fatalf("%v, want a wrong key with 9 tries left", err)
				}
			case tc.want == errDecode:
				if err == nil {
					t.Fatal("a corrupt photo was read")
				}
			case !errors.Is(err, tc.want):
				t.Fatalf("%v, want %v", err, tc.want)
			}
			for i, b := range dec.got {
				if b != 0 {
					t.Fatalf("the photo's byte %d was left in memory", i)
				}
			}
		})
	}
}

// errDecode stands for any failure of the decoder: opj_decompress's
// words are its own.
var errDecode = errors.New("the decoder's")

// faceData is the persona's card-face container with its photo changed.
func faceData(t *testing.T, p sim.Persona, photo func([]byte) []byte) []byte {
	t.Helper()
	p.FacePhoto = photo(p.FacePhoto)
	return sim.FaceContainer(p, &rsa.PublicKey{N: big.NewInt(3233), E: 17})
}

// certOf reads the card's user-authentication certificate.
func certOf(t *testing.T, s *sim.Card) []byte {
	t.Helper()
	j, err := card.OpenJPKI(context.Background(), card.New(s.Clone()))
	if err != nil {
		t.Fatal(err)
	}
	der, err := j.Certificate(context.Background(), card.EFAuthCert)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestCheckSteps: the check as a screen takes a person through it.
func TestCheckSteps(t *testing.T) {
	var c cardphoto.Check
	c.Start()
	c.KeyB = "1234"
	if _, ok := c.Take(); ok || c.Step != cardphoto.Key || c.Words.Keys[0] != "cardface.err.format" || c.KeyB != "" {
		t.Fatalf("a short key: %+v", c)
	}
	c.KeyB = cardtest.Taro.FaceKeyB
	key, ok := c.Take()
	if !ok || key != cardtest.Taro.FaceKeyB || c.Step != cardphoto.Reading || c.KeyB != "" {
		t.Fatalf("a key of the right form: %q %v %+v", key, ok, c)
	}
	if _, ok := c.Take(); ok {
		t.Fatal("a key taken twice while reading")
	}
	c.Read(cardphoto.Photo{}, &apdu.WrongPINError{Remaining: 4})
	if c.Step != cardphoto.Key || c.Tries != 4 || c.Words.Keys[0] != "cardface.err.wrong" || c.Words.Args[0] != 4 {
		t.Fatalf("a wrong key: %+v", c)
	}
	c.Read(cardphoto.Photo{}, &apdu.WrongPINError{Remaining: 0})
	if c.Step != cardphoto.Done || c.Tries != 0 || c.Words.Keys[0] != "cardface.err.blocked" {
		t.Fatalf("the last try wrong: %+v", c)
	}
	c.Start()
	c.Read(cardphoto.Photo{}, card.ErrNoCardFace)
	if c.Step != cardphoto.Done || c.Words.Keys[0] != "cardface.err.old" {
		t.Fatalf("an old card: %+v", c)
	}
}

// TestCompare: the live face against the card photo's template, at the
// measured threshold; the template is dropped either way.
func TestCompare(t *testing.T) {
	card := []float32{1, 0, 0, 0}
	for _, tc := range []struct {
		name  string
		model string
		live  []float32
		want  string
	}{
		{"the same face", embed.ModelName, []float32{1, 0.01, 0, 0}, identify.Accepted},
		{"close, under the threshold", embed.ModelName, []float32{1, 0.4, 0, 0}, identify.Unknown},
		{"another face", embed.ModelName, []float32{0, 1, 0, 0}, identify.Unknown},
		{"the same face on a network without a measured threshold", "arcface-r100/x/f32", []float32{1, 0.01, 0, 0}, identify.Unknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cardphoto.Check{Step: cardphoto.Live, Photo: cardphoto.Photo{Template: slices.Clone(card)}}
			id := c.Compare(tc.model, tc.live)
			if id.Outcome != tc.want || id.Method != identify.MethodCardFace || id.Resident != "" || c.Step != cardphoto.Done || c.Photo.Template != nil {
				t.Fatalf("%+v, check %+v", id, c)
			}
			if id.Score != c.Score || (tc.want == identify.Accepted) != (c.Words.None()) {
				t.Fatalf("score %v / %v, words %v", id.Score, c.Score, c.Words)
			}
			id.Facility = "kaga-shelter-1"
			if err := id.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
	c := cardphoto.Check{Step: cardphoto.Live, Photo: cardphoto.Photo{Template: slices.Clone(card)}}
	if id := c.Flat(); id.Outcome != identify.Flat || c.Photo.Template != nil {
		t.Fatalf("a picture held up: %+v", id)
	}
}
