package ui

import (
	"context"
	"image"
	"strings"
	"testing"
	"time"

	"smartpass.city/smartpass/app/card/cardtest"
	"smartpass.city/smartpass/app/cardphoto"
	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/j2k"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/app/synclog"
	"smartpass.city/smartpass/app/template"
)

// greyDecoder stands for the browser's codec: a blank portrait of the
// header's size (the page test is about the screen, not the pixels).
type greyDecoder struct{}

func (greyDecoder) Decode(_ context.Context, data []byte, lim j2k.Limits) (*image.Gray, error) {
	h, err := j2k.ParseHeader(data, lim)
	if err != nil {
		return nil, err
	}
	return image.NewGray(image.Rect(0, 0, h.Width, h.Height)), nil
}

// TestCardFacePage: a shelter's identify screen in go-app's test engine
// takes a person through the card-face check over the simulated card: a
// key of the wrong form is refused on screen and never reaches the card;
// a wrong one reaches it once and the screen shows the tries the card
// reports; the right one reads the photo, which this device's missing
// face model cannot make a template of, in words. An accepted person the
// shelter holds no profile of is checked in with the reading staff type.
func TestCardFacePage(t *testing.T) {
	p, e, log := identifyOn(t, synclog.NewMemStore("sh-1"), enrolledAs{Device: "sh-1", Facility: "shelter-daishoji", Role: scope.Shelter})
	sc := cardtest.Card(t, cardtest.WithPhoto(t, cardtest.Taro))
	p.till.reader = cardOn{sc}
	defer UsePhotoDecoder(photoDecoder)
	UsePhotoDecoder(greyDecoder{})
	if !cardFaceAt(p.enr.Role) {
		t.Fatal("a shelter offers no card-face check")
	}

	p.cardFaceOpen()
	p.cf.check.KeyB = "2501012035"
	p.cardFaceRead()
	if p.cf.check.Step != cardphoto.Key || p.cardFaceWords() != tr(langJA, "cardface.err.format") || cardtest.Verifies(sc) != 0 {
		t.Fatalf("a short key: step %v, words %q, %d keys sent", p.cf.check.Step, p.cardFaceWords(), cardtest.Verifies(sc))
	}

	p.cf.check.KeyB = "25010120359999"
	p.cardFaceRead()
	until(t, e, "the wrong key answered", func() bool { return p.cf.check.Step == cardphoto.Key && p.cf.check.Tries == 9 })
	if w := p.cardFaceWords(); !strings.Contains(w, "9") || cardtest.Verifies(sc) != 1 {
		t.Fatalf("a wrong key: words %q, %d keys sent", w, cardtest.Verifies(sc))
	}

	p.cf.check.KeyB = cardtest.Taro.FaceKeyB
	p.cardFaceRead()
	until(t, e, "the photo read", func() bool { return p.cf.check.Step == cardphoto.Done })
	if w := p.cardFaceWords(); w != tr(langJA, "cardface.err.photo") || cardtest.Verifies(sc) != 2 {
		t.Fatalf("no face model: words %q, %d keys sent", w, cardtest.Verifies(sc))
	}
	p.cf.end()
	if p.cf.check.Step != cardphoto.Idle {
		t.Fatal("the check did not end")
	}

	// Closed while the card is read: what the read brings back is
	// dropped, not shown in a check nobody opened.
	p.cardFaceOpen()
	p.cf.check.KeyB = cardtest.Taro.FaceKeyB
	p.cardFaceRead()
	p.cf.end()
	until(t, e, "the read done", func() bool { return cardtest.Verifies(sc) == 3 })
	for deadline := time.Now().Add(300 * time.Millisecond); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		e.ConsumeAll()
	}
	if p.cf.check.Step != cardphoto.Idle || !p.cf.check.Words.None() {
		t.Fatalf("a read after the check closed came back: %+v", p.cf.check)
	}

	// Accepted (as Compare decides, tested in package cardphoto), no
	// profile here: staff type the reading.
	p.cardFaceOpen()
	p.cf.check.Step, p.cf.check.Outcome, p.cf.accepted = cardphoto.Done, identify.Accepted, true
	p.cf.check.Photo = cardphoto.Photo{BirthYear: 1950, Sex: "1"}
	p.cf.kana = "taro"
	p.cardFaceCheckIn()
	if p.cardFaceWords() != tr(langJA, "cardface.err.kana") || p.arrival != nil {
		t.Fatalf("a reading not in katakana: words %q, arrival %+v", p.cardFaceWords(), p.arrival)
	}
	p.cf.kana = "カガタロウ"
	p.cardFaceCheckIn()
	if p.arrival == nil || p.outcome != identify.Accepted || p.cf.check.Step != cardphoto.Idle {
		t.Fatalf("checked in: arrival %+v, outcome %q, step %v", p.arrival, p.outcome, p.cf.check.Step)
	}
	until(t, e, "the record kept", func() bool {
		ops, _ := log.Ops(t.Context())
		for _, op := range ops {
			if op.Kind == shelter.OpEvacueeAdd && strings.Contains(string(op.Body), "カガタロウ") && strings.Contains(string(op.Body), `"birth_year":1950`) {
				return true
			}
		}
		return false
	})
}

// TestCardFaceAccepted: an accepted person this terminal holds a profile
// of with this card goes on as the card path goes (checked in at a
// shelter, the reception panel opened); one it holds none of goes to the
// reading at a shelter and to the staff panel at reception. A refusal
// goes nowhere. Each outcome is recorded, naming nobody.
func TestCardFaceAccepted(t *testing.T) {
	for _, tc := range []struct {
		name     string
		role     scope.Role
		facility string
		profile  bool
		consent  bool // a template of theirs lists the facility
		outcome  string
		check    func(p *identifyPage) bool
	}{
		{"shelter, a profile here", scope.Shelter, "shelter-daishoji", true, true, identify.Accepted, func(p *identifyPage) bool {
			return p.arrival != nil && p.arrival.name == "加賀　太郎" && p.cf.check.Step == cardphoto.Idle
		}},
		{"shelter, no profile", scope.Shelter, "shelter-daishoji", false, false, identify.Accepted, func(p *identifyPage) bool {
			return p.arrival == nil && p.cf.accepted && p.cf.check.Step == cardphoto.Done
		}},
		{"reception, a profile here", scope.Reception, "kaga-medical", true, true, identify.Accepted, func(p *identifyPage) bool {
			return p.rx != nil && p.rx.resident == "R-1" && p.cf.check.Step == cardphoto.Idle
		}},
		{"reception, no profile", scope.Reception, "kaga-medical", false, false, identify.Accepted, func(p *identifyPage) bool {
			return p.rx != nil && p.rx.resident == "" && p.cf.check.Step == cardphoto.Idle
		}},
		// A profile still listing the card after the consent was
		// withdrawn: nobody is named, as with no profile.
		{"shelter, consent withdrawn", scope.Shelter, "shelter-daishoji", true, false, identify.Accepted, func(p *identifyPage) bool {
			return p.arrival == nil && p.cf.accepted && p.cf.check.Step == cardphoto.Done
		}},
		{"refused", scope.Shelter, "shelter-daishoji", true, true, identify.Unknown, func(p *identifyPage) bool {
			return p.arrival == nil && !p.cf.accepted && p.cf.check.Step == cardphoto.Done
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, e, log := identifyOn(t, synclog.NewMemStore("t-1"), enrolledAs{Device: "t-1", Facility: tc.facility, Role: tc.role})
			const fp = "00112233445566778899aabbccddeeff"
			if tc.profile {
				prof := template.Profile{Resident: "R-1", Facility: tc.facility, Cards: []string{fp}, Name: "加賀　太郎", BirthYear: 1950, Sex: "1"}
				if _, err := log.Record(t.Context(), template.OpProfile, prof); err != nil {
					t.Fatal(err)
				}
				// Their consent to this facility, which the card path's
				// rule (terminal.CardHolder) asks of a card's holder; a
				// template for elsewhere when it was withdrawn here.
				facs := []string{tc.facility}
				if !tc.consent {
					facs = []string{"kaga-playpark"}
				}
				tpl := template.Template{Resident: "R-1", Model: "m", Facilities: facs, Vec: template.Pack([]float32{1, 0})}
				if _, err := log.Record(t.Context(), template.OpPut, tpl); err != nil {
					t.Fatal(err)
				}
				until(t, e, "the profile and template folded", func() bool { return len(p.st.Profiles) == 1 && len(p.st.Templates) == 1 })
			}
			p.cardFaceOpen()
			p.cf.check.Step, p.cf.check.Outcome = cardphoto.Done, tc.outcome
			p.cf.check.Photo = cardphoto.Photo{Fingerprint: fp, BirthYear: 1950, Sex: "1"}
			p.cardFaceDecided(identify.Identification{Method: identify.MethodCardFace, Outcome: tc.outcome, Score: 0.97})
			if !tc.check(p) {
				t.Fatalf("arrival %+v, rx %+v, check %+v", p.arrival, p.rx, p.cf.check)
			}
			until(t, e, "the outcome recorded", func() bool {
				ops, _ := log.Ops(t.Context())
				for _, op := range ops {
					if op.Kind == identify.OpIdentified && strings.Contains(string(op.Body), `"method":"card-face","outcome":"`+tc.outcome+`"`) && !strings.Contains(string(op.Body), "resident") {
						return true
					}
				}
				return false
			})
		})
	}
}
