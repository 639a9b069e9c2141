package furusato

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"smartpass.city/smartpass/app/jpaddress"
	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/syncproto"
)

func op(t *testing.T, kind string, seq uint64, body any) syncproto.Op {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return syncproto.Op{Device: "d1", Seq: seq, Kind: kind, Body: b}
}

var crab = Item{ID: "crab", NameJA: "加能ガニ", Donation: 10000, Cost: 3000, Local: true, Stock: 1}

// TestFold: a listing, two donations for its one gift, the second
// handover refused as out of stock, a second handover of one donation
// refused, a gift over 30% refused by the kind's rules.
func TestFold(t *testing.T) {
	var p opkind.Parts
	at := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	ops := []syncproto.Op{
		op(t, OpItem, 1, Listing{Shop: "michinoeki", Item: crab}),
		op(t, OpDonation, 2, Donation{Shop: "michinoeki", Donor: "R-000001", Amount: 10000, Item: "crab", Gift: true, Payment: "pi_1", At: at}),
		op(t, OpGift, 3, Handover{Shop: "michinoeki", Donation: "d1.2", Donor: "R-000001", Item: "crab"}),
		op(t, OpGift, 4, Handover{Shop: "michinoeki", Donation: "d1.2", Donor: "R-000001", Item: "crab"}),
		op(t, OpDonation, 5, Donation{Shop: "michinoeki", Donor: "R-000002", Amount: 10000, Item: "crab", Gift: true, Payment: "pi_2", At: at}),
		op(t, OpGift, 6, Handover{Shop: "michinoeki", Donation: "d1.5", Donor: "R-000002", Item: "crab"}),
		op(t, OpDonation, 7, Donation{Shop: "michinoeki", Donor: "R-000003", Amount: 5000, Item: "crab", Gift: true, Payment: "pi_3", At: at}),
	}
	for _, o := range ops {
		opkind.Fold(&p, o)
	}
	b := Counter.In(&p)
	if got := b.Items[ItemKey("michinoeki", "crab")].Stock; got != 0 {
		t.Errorf("stock %d after one gift of one, want 0", got)
	}
	if len(b.Donations) != 2 || b.Given["d1.2"] != "d1.3" || b.Given["d1.5"] != "" {
		t.Errorf("book %+v", b)
	}
	rs := *opkind.Rejections.In(&p)
	if len(rs) != 3 {
		t.Fatalf("rejections %+v, want 3", rs)
	}
	for i, want := range []string{"handed over already", ErrOutOfStock.Error(), "less than"} {
		if !strings.Contains(rs[i].Reason, want) {
			t.Errorf("rejection %d: %q, want %q", i, rs[i].Reason, want)
		}
	}
	k, _ := opkind.Lookup(OpItem)
	over := crab
	over.Cost = 3001
	if err := k.Validate(op(t, OpItem, 8, Listing{Shop: "michinoeki", Item: over})); !errors.Is(err, ErrCostOver30) {
		t.Errorf("an item over 30%%: %v", err)
	}
}

// payer is a payment that records what it was asked for.
type payer struct {
	asked []int64
	err   error
}

func (p *payer) Pay(_ context.Context, amount int64) (string, error) {
	p.asked = append(p.asked, amount)
	return "pay_1", p.err
}

func TestDonate(t *testing.T) {
	kaga := jpaddress.Place{Prefecture: "石川県", Municipality: "加賀市"}
	now := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	empty := crab
	empty.Stock = 0
	for _, tt := range []struct {
		name, address string
		item          Item
		gift          bool
		paid          bool
		want          error
	}{
		{"visitor", "東京都世田谷区世田谷4-21-27", crab, true, true, nil},
		{"resident: no gift, still a donation", "石川県加賀市大聖寺南町ニ41", crab, false, true, nil},
		{"out of stock: refused before payment", "東京都世田谷区世田谷4-21-27", empty, false, false, ErrOutOfStock},
		{"unparsed address: refused before payment", "世田谷4-21-27", crab, false, false, jpaddress.ErrUnparsed},
	} {
		p := &payer{}
		d, err := Donate(context.Background(), p, kaga, Sale{Shop: "michinoeki", Donor: "R-000001", Address: tt.address, Item: tt.item}, now)
		if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
			continue
		}
		if (len(p.asked) == 1) != tt.paid || d.Gift != tt.gift {
			t.Errorf("%s: paid %v, gift %v; want %v, %v", tt.name, p.asked, d.Gift, tt.paid, tt.gift)
		}
		if err == nil && (d.Amount != 10000 || d.Payment != "pay_1") {
			t.Errorf("%s: %+v", tt.name, d)
		}
	}
}

// TestOnePaymentOneDonation: a donation whose payment paid for another
// is refused by the fold; the same op folded again is not.
func TestOnePaymentOneDonation(t *testing.T) {
	var p opkind.Parts
	at := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	d := Donation{Shop: "michinoeki", Donor: "R-000001", Amount: 5000, Payment: "card:pi_1", At: at}
	first := op(t, OpDonation, 1, d)
	opkind.Fold(&p, first)
	opkind.Fold(&p, first)
	opkind.Fold(&p, op(t, OpDonation, 2, d))
	b := Counter.In(&p)
	rs := *opkind.Rejections.In(&p)
	if len(b.Donations) != 1 || len(rs) != 1 || !strings.Contains(rs[0].Reason, ErrPaymentUsed.Error()) {
		t.Fatalf("donations %v, rejections %+v", b.Donations, rs)
	}
}
