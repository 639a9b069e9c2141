package faces

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/playpark"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/app/wallet"
	"smartpass.city/smartpass/syncproto"
)

// TestProfileFor: each kind of facility learns its own part of a
// resident and nothing else; consents in the account reach the shelter
// (disclosure) and the hospital (medication).
func TestProfileFor(t *testing.T) {
	child := account.Account{ID: "R-2", Guardian: "R-1", Source: account.SourceCardRead,
		Facts:    card.Facts{Name: "加賀\u3000花子", Address: "石川県加賀市大聖寺南町", BirthDate: "20180505", Sex: "2"},
		Consents: map[string]bool{account.PurposeDisclosure: true, account.PurposeMedication: true}}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		kind  facility.Kind
		check func(string) bool
	}{
		{facility.PlayPark, func(s string) bool { return s == "elementary local R-1 false false 0" }},
		{facility.Shelter, func(s string) bool { return s == " false R-1 true false 2018" }},
		{facility.Hospital, func(s string) bool { return s == " false R-1 false true 0" }},
		// A transit operator's template profile holds nothing of her:
		// its rider facts are server/fares' (FaceFacts).
		{facility.Transit, func(s string) bool { return s == " false R-1 false false 0" }},
	} {
		p, err := profileFor(facility.Facility{ID: "f", Kind: tt.kind}, child, child.Guardian, "加賀市")
		if err != nil {
			t.Fatal(err)
		}
		local := map[bool]string{true: "local", false: "false"}[p.Local]
		got := p.BandAt(now) + " " + local + " " + p.Household + " " + map[bool]string{true: "true", false: "false"}[p.Disclose] +
			" " + map[bool]string{true: "true", false: "false"}[p.Medication] + " " + strconv.Itoa(p.BirthYear)
		if !tt.check(got) {
			t.Errorf("%s profile: %q", tt.kind, got)
		}
		if tt.kind != facility.Shelter && (p.Name != "" || p.Sex != "" || p.BirthYear != 0) {
			t.Errorf("%s learns her name, sex or birth year: %+v", tt.kind, p)
		}
		if tt.kind != facility.PlayPark && len(p.Bands) > 0 {
			t.Errorf("%s learns her age bands", tt.kind)
		}
	}
	if !playpark.Eligible(mustProfile(t, facility.PlayPark, child), now) {
		t.Error("a resident child is not eligible at the park")
	}
	// Her facts as her guardian's word only (issue 16, finding 2): every
	// facility is told, and the park grants no free entry by them.
	declared := child
	declared.Source = account.SourceDeclared
	for _, kind := range []facility.Kind{facility.PlayPark, facility.Shelter, facility.Hospital} {
		if p := mustProfile(t, kind, declared); !p.Declared {
			t.Errorf("%s is not told her facts are self-declared", kind)
		}
		if p := mustProfile(t, kind, child); p.Declared {
			t.Errorf("%s is told her card-read facts are self-declared", kind)
		}
	}
	if playpark.Eligible(mustProfile(t, facility.PlayPark, declared), now) {
		t.Error("a self-declared resident child is eligible at the park")
	}
	child.Facts.Address = "石川県小松市"
	if playpark.Eligible(mustProfile(t, facility.PlayPark, child), now) {
		t.Error("a child of another city is eligible at the park")
	}
}

func mustProfile(t *testing.T, kind facility.Kind, a account.Account) template.Profile {
	t.Helper()
	p, err := profileFor(facility.Facility{ID: "f", Kind: kind}, a, a.Guardian, "加賀市")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestShopProfile: a shop learns the name to mask, an age fact without
// the birth date, and the offline allowance the ledger gives (or that
// the wallet is blocked); no other facility learns any of it.
func TestShopProfile(t *testing.T) {
	adult := account.Account{ID: "R-1", Facts: card.Facts{Name: "加賀\u3000太郎", BirthDate: "19800401", Sex: "1"}}
	child := account.Account{ID: "R-2", Guardian: "R-1", Facts: card.Facts{Name: "加賀\u3000花子", BirthDate: "20180505", Sex: "2"}}
	always := int64(0)
	wallets := func(resident string) (template.Pay, error) {
		if resident == "R-2" {
			// Her guardian's limits, and the card on every payment.
			return template.Pay{Name: "not the ledger's to say", Blocked: true, FaceOnly: &always, PerPayment: 500, Daily: 1_000}, nil
		}
		return template.Pay{Allowance: 2_500}, nil
	}
	shop := facility.Facility{ID: "s", Kind: facility.Shop}
	for _, tt := range []struct {
		person    account.Account
		want      template.Pay
		facility  facility.Facility
		wantNoPay bool
	}{
		{adult, template.Pay{Name: "加賀\u3000太郎", Allowance: 2_500, Adult: true}, shop, false},
		{child, template.Pay{Name: "加賀\u3000花子", Blocked: true, FaceOnly: &always, PerPayment: 500, Daily: 1_000, AdultFrom: "2038-05-05"}, shop, false},
		{adult, template.Pay{}, facility.Facility{ID: "p", Kind: facility.PlayPark}, true},
	} {
		ops, err := profileOps([]facility.Facility{tt.facility}, tt.person, tt.person.ID, "加賀市", wallets)
		if err != nil || len(ops) != 1 {
			t.Fatalf("profileOps: %v, %d ops", err, len(ops))
		}
		var p template.Profile
		if err := json.Unmarshal(ops[0].Body, &p); err != nil {
			t.Fatal(err)
		}
		if tt.wantNoPay {
			if p.Pay != nil {
				t.Errorf("%s learns the wallet: %+v", tt.facility.Kind, p.Pay)
			}
			continue
		}
		if p.Pay == nil || !reflect.DeepEqual(*p.Pay, tt.want) {
			t.Errorf("%s's shop profile: %+v, want %+v", tt.person.ID, p.Pay, tt.want)
		}
		if strings.Contains(string(ops[0].Body), tt.person.Facts.BirthDate) {
			t.Errorf("the shop learns the birth date: %s", ops[0].Body)
		}
	}
}

// TestWalletResidents: the residents whose wallet stored ops moved, each
// once; a refund (naming a payment) and other kinds move nobody here.
func TestWalletResidents(t *testing.T) {
	op := func(kind string, body any) syncproto.Op {
		b, _ := json.Marshal(body)
		return syncproto.Op{Kind: kind, Body: b}
	}
	got := walletResidents([]syncproto.Op{
		op(wallet.OpPayment, wallet.Payment{Facility: "s", Resident: "R-1", Amount: 1}),
		op(wallet.OpTopUpCash, wallet.TopUpCash{Resident: "R-2", Amount: 1, Staff: "x"}),
		op(wallet.OpPayment, wallet.Payment{Facility: "s", Resident: "R-1", Amount: 2}),
		op(wallet.OpRefund, wallet.Refund{Facility: "s", Payment: "d.1", Amount: 1, Staff: "x"}),
		op(wallet.OpFreeze, wallet.Freeze{Resident: "R-3", Frozen: true, Reason: "r", Staff: "x"}),
		op(template.OpPut, template.Template{Resident: "R-4"}),
	})
	if strings.Join(got, ",") != "R-1,R-2,R-3" {
		t.Errorf("walletResidents = %v, want R-1,R-2,R-3", got)
	}
}
