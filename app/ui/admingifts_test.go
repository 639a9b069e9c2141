package ui

import (
	"strings"
	"testing"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/admin"
	"smartpass.city/smartpass/app/enroll"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/furusato"
	"smartpass.city/smartpass/syncproto"
)

// itemRequest is the catalogue endpoint's request as the server reads
// it (server/furusato.ItemRequest).
type itemRequest struct {
	admin.Request
	Shop string        `json:"shop"`
	Item furusato.Item `json:"item"`
}

// TestAdminGifts: staff who manage facilities list a gift at a donation
// shop from the admin screen; figures that are not numbers are said
// before anything is sent, a gift over 30% is refused in the server's
// words, and a good one is listed.
func TestAdminGifts(t *testing.T) {
	s := &adminServer{routes: map[string]func([]byte) (any, error){}}
	handle(s, admin.API.SignIn, func(in admin.SignIn) (admin.Session, error) {
		return admin.Session{Token: "tok", Staff: admin.Staff{ID: in.ID, Name: "田中", Role: admin.Administrator}}, nil
	})
	handle(s, admin.API.Overview, func(r admin.Request) (admin.Overview, error) {
		return admin.Overview{Facilities: []facility.Facility{{ID: "kaga-michinoeki", Kind: facility.Donation, NameJA: "道の駅 かが"}, {ID: "kaga-shop", Kind: facility.Shop, NameJA: "みやげ処"}}}, nil
	})
	handle(s, admin.API.Audit, func(admin.AuditRequest) (admin.Audit, error) { return admin.Audit{}, nil })
	var listed []itemRequest
	handle(s, syncproto.Post[itemRequest, furusato.Item](furusato.ItemPath), func(r itemRequest) (furusato.Item, error) {
		if err := r.Item.Check(); err != nil {
			return furusato.Item{}, &syncproto.Error{Code: furusato.CodeCostOver30, Message: "返礼品の調達費は寄附額の3割までです。 / A gift may cost at most 30% of the donation."}
		}
		listed = append(listed, r)
		return r.Item, nil
	})
	p := &adminPage{live: liveAs(t, enroll.Enrollment{}), api: s}
	e := app.NewTestEngine()
	if err := e.Load(&adminMounted{p}); err != nil {
		t.Fatal(err)
	}
	until(t, e, "the log folded", func() bool { return p.st != nil })
	p.id, p.password = "tanaka", "pw"
	press(e, &p.live, p.signIn)
	until(t, e, "signed in", func() bool { return !p.busy && p.log != nil })
	if shops, _ := textOf(app.HTMLString(p), "gift-shop"); !strings.Contains(shops, "道の駅 かが") || strings.Contains(shops, "みやげ処") {
		t.Fatalf("the gift form offers %q: want the donation shops only", shops)
	}

	press(e, &p.live, func() {
		p.gift = giftForm{shop: "kaga-michinoeki", id: "crab", name: "加能ガニ", donation: "1万", cost: "3000", stock: "3", local: true}
	})
	press(e, &p.live, p.listGift)
	shows(t, p, "admin-error", "数字で入れてください")
	press(e, &p.live, func() { p.gift.donation, p.gift.cost = "10000", "3001" })
	press(e, &p.live, p.listGift)
	until(t, e, "refused", func() bool { return !p.busy })
	shows(t, p, "admin-error", "3割まで")
	press(e, &p.live, func() { p.gift.cost = "3000" })
	press(e, &p.live, p.listGift)
	until(t, e, "listed", func() bool { return !p.busy && p.gift.listed != "" })
	shows(t, p, "gift-listed", "加能ガニ")
	if len(listed) != 1 || listed[0].Token != "tok" || listed[0].Shop != "kaga-michinoeki" || listed[0].Item.Donation != 10000 || listed[0].Item.Stock != 3 {
		t.Fatalf("listed %+v", listed)
	}
}
