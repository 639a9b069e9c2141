package ui

import (
	"errors"
	"testing"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/card/cardtest"
	"smartpass.city/smartpass/app/cardphoto"
	"smartpass.city/smartpass/app/enroll"
	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/scope"
)

// TestDeskCardFace: at the desk, after the card's facts are read and
// before staff confirm, the card-face check runs in the shared panel
// over the simulated card. Accepted: staff see 一致 with the score, and
// the registration they confirm records the card-face check and its
// score. Refused: staff see 不一致 with the score and are told to check
// by sight; the registration records sight, with the refusal's score.
// An old card (no card-face application) and a device that cannot make
// the photo a template (no face model) are told in words and recorded
// as sight. Staff name themselves every time.
func TestDeskCardFace(t *testing.T) {
	defer UsePhotoDecoder(photoDecoder)
	UsePhotoDecoder(greyDecoder{})
	unit := func(i int) []float32 {
		v := make([]float32, 128)
		v[i] = 1
		return v
	}
	// compare stands for the live face after the turn check (natively
	// no camera): the photo's template as read, the live face's
	// embedding, the 1:1 decision of package cardmatch.
	compare := func(p *deskPage, photo, live []float32) {
		p.cf.check.Step, p.cf.check.Photo.Template = cardphoto.Live, photo
		p.deskFaceDecided(p.cf.compare(live))
	}
	for _, tc := range []struct {
		name  string
		photo bool // the card has a card-face application
		check func(t *testing.T, p *deskPage)
		words string // on the result, for staff
		err   string // in the panel's words ("" none)
		want  account.DeskCheck
		sight string // the record line
	}{
		{"accepted", true, func(t *testing.T, p *deskPage) { compare(p, unit(0), unit(0)) },
			"一致（スコア 1.00）", "", account.DeskCheck{By: account.ByCardFace, Outcome: identify.Accepted, Score: 1}, "カードの顔写真との照合（一致・スコア 1.00）"},
		{"refused", true, func(t *testing.T, p *deskPage) { compare(p, unit(0), unit(1)) },
			"不一致（スコア 0.00）", "カードの写真と顔が一致しませんでした。", account.DeskCheck{By: account.ByStaff, Outcome: identify.Unknown}, "職員の目視（顔写真との照合は不一致"},
		{"old card", false, nil,
			"目で見比べて", "古いカード", account.DeskCheck{By: account.ByStaff}, "職員の目視"},
		{"no face model", true, nil,
			"目で見比べて", "カードの写真を読み取れませんでした。", account.DeskCheck{By: account.ByStaff}, "職員の目視"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			persona := cardtest.WithPhoto(t, cardtest.Taro)
			persona.NoCardFace = !tc.photo
			sc := cardtest.Card(t, persona)
			d := &desk{}
			p := newDeskPage(liveAs(t, enroll.Enrollment{Device: "desk-1", Facility: "kaga-hq", Role: scope.Registrar}), cardOn{sc}, &checker{t: t}, d, noCamera{})
			e := load(t, &deskMounted{p}, &p.live)
			press(e, &p.live, p.connect)
			until(t, e, "connected", func() bool { return !p.busy })
			p.card.PIN = cardtest.Taro.AuthPIN
			press(e, &p.live, p.verify)
			until(t, e, "read", func() bool { return p.member != nil })
			shows(t, p, "card-face", "カードの顔写真で確認")
			shows(t, p, "desk-check", "職員の目視")

			press(e, &p.live, p.deskFaceOpen)
			shows(t, p, "cardface", "照合番号B")
			p.cf.check.KeyB = cardtest.Taro.FaceKeyB
			press(e, &p.live, p.deskFaceRead)
			until(t, e, "the card read", func() bool { return p.cf.check.Step == cardphoto.Done })
			if tc.check != nil {
				// The photo read, with a face model: the live face.
				press(e, &p.live, func() { tc.check(t, p) })
			}
			shows(t, p, "cardface-result", tc.words)
			shows(t, p, "cardface-error", tc.err)
			shows(t, p, "desk-check", tc.sight)

			p.staff = "市民課 山田"
			press(e, &p.live, p.enroll)
			until(t, e, "registered", func() bool { return !p.busy })
			shows(t, p, "desk-ok", "R-000042")
			if len(d.got) != 1 || d.got[0].Staff != "市民課 山田" || d.got[0].Check == nil {
				t.Fatalf("registered %+v", d.got)
			}
			if got := *d.got[0].Check; got.By != tc.want.By || got.Outcome != tc.want.Outcome || got.Score < tc.want.Score-0.01 || got.Score > tc.want.Score+0.01 {
				t.Errorf("recorded %+v, want %+v", got, tc.want)
			}
			if p.cf.check.Step != cardphoto.Idle || p.decided != (identify.Identification{}) {
				t.Errorf("the check outlived the registration: %+v, %+v", p.cf.check, p.decided)
			}
		})
	}
}

// TestDeskCardFaceNoCamera: a desk whose camera cannot open says so in
// words while the check waits for the live face, and staff's
// registration is by sight.
func TestDeskCardFaceNoCamera(t *testing.T) {
	d := &desk{}
	sc := cardtest.Card(t, cardtest.WithPhoto(t, cardtest.Taro))
	p := newDeskPage(liveAs(t, enroll.Enrollment{Device: "desk-1", Facility: "kaga-hq", Role: scope.Registrar}), cardOn{sc}, &checker{t: t}, d, noCamera{})
	e := load(t, &deskMounted{p}, &p.live)
	p.member = &cardtest.Taro.Facts
	press(e, &p.live, p.deskFaceOpen)
	press(e, &p.live, func() { p.cf.check.Step, p.scan.camErr = cardphoto.Live, errors.New("no camera") })
	shows(t, p, "face-guide", "カメラが使えません")
	shows(t, p, "desk-check", "職員の目視")
	p.staff = "市民課 山田"
	press(e, &p.live, p.enroll)
	until(t, e, "registered", func() bool { return !p.busy })
	if len(d.got) != 1 || d.got[0].Check == nil || *d.got[0].Check != (account.DeskCheck{By: account.ByStaff}) {
		t.Fatalf("registered %+v", d.got)
	}
}
