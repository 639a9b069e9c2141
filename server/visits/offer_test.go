package visits_test

import (
	"slices"
	"testing"
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/appointment"
	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/medical"
	"smartpass.city/smartpass/app/visit"
)

// TestOffered: the account page's reads. Both demo hospitals are
// offered with the departments they publish slots for and the kinds
// they exchange; a slot's free places fall when it is booked; the
// household's consents are listed, in force until withdrawn.
func TestOffered(t *testing.T) {
	c := newCity(t)
	_, ms := c.open(card.Facts{Name: "加賀\u3000花子", Address: "石川県加賀市大聖寺南町ニ41", BirthDate: "19880312", Sex: "2"})
	var son account.Account
	if err := callAccount(c, ms, account.API.AddMember, account.Member{Facts: card.Facts{Name: "加賀\u3000ゆうと", Address: "石川県加賀市大聖寺南町ニ41", BirthDate: "20210605", Sex: "1"}}, &son); err != nil {
		t.Fatal(err)
	}
	places := must(c, ms, visit.API.Places, account.None{})
	byID := map[string]visit.Place{}
	for _, p := range places {
		byID[p.ID] = p
	}
	if a := byID[hospitalA]; a.NameJA == "" || !slices.Contains(a.Departments, "pediatrics") || !slices.Contains(a.Kinds, medical.Checkups) {
		t.Errorf("hospital A offered as %+v", a)
	}
	if b := byID[hospitalB]; slices.Contains(b.Departments, "pediatrics") || slices.Contains(b.Kinds, medical.Checkups) || !slices.Contains(b.Kinds, medical.Allergies) {
		t.Errorf("hospital B offered as %+v", b)
	}

	tomorrow := time.Now().In(appointment.JST).AddDate(0, 0, 1)
	y, m, d := tomorrow.Date()
	ten := time.Date(y, m, d, 10, 0, 0, 0, appointment.JST)
	free := func() int {
		for _, o := range must(c, ms, visit.API.Slots, visit.Slots{Hospital: hospitalA, Department: "pediatrics"}) {
			if o.Start.Equal(ten) {
				return o.Free
			}
		}
		return -1
	}
	if n := free(); n != 3 {
		t.Fatalf("tomorrow 10:00 has %d places free, want 3", n)
	}
	must(c, ms, visit.API.Book, visit.Book{Hospital: hospitalA, Department: "pediatrics", Start: ten, Resident: son.ID})
	if n := free(); n != 2 {
		t.Errorf("after booking, %d places free, want 2", n)
	}
	refused(c, ms, visit.API.Slots, visit.Slots{Hospital: "shelter-daishoji", Department: "pediatrics"}, visit.CodeHospital)

	if got := must(c, ms, visit.API.Consents, account.None{}); len(got) != 0 {
		t.Fatalf("consents before any: %+v", got)
	}
	must(c, ms, visit.API.Consent, visit.Consent{Resident: son.ID, Hospital: hospitalB, Kind: medical.Allergies, Days: 30})
	got := must(c, ms, visit.API.Consents, account.None{})
	if len(got) != 1 || !got[0].InForce || got[0].Kind != medical.Allergies || got[0].Until.Sub(got[0].Given) != 30*24*time.Hour {
		t.Fatalf("consents: %+v", got)
	}
	must(c, ms, visit.API.Withdraw, visit.Withdraw{Resident: son.ID, Hospital: hospitalB})
	if got := must(c, ms, visit.API.Consents, account.None{}); len(got) != 1 || got[0].InForce || got[0].Revoked.IsZero() {
		t.Fatalf("consents after withdrawal: %+v", got)
	}
}
