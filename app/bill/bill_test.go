package bill

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"smartpass.city/smartpass/app/copay"
	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/syncproto"
)

var today = time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC)

func d(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }

type log struct {
	ops []syncproto.Op
	p   opkind.Parts
}

func (l *log) add(kind string, body any) (syncproto.Op, string) {
	b, _ := json.Marshal(body)
	op := syncproto.Op{Device: "desk", Seq: uint64(len(l.ops) + 1), HLC: hlc.Make(today.Add(time.Duration(len(l.ops))*time.Minute).UnixMilli(), 0), Kind: kind, Body: b}
	l.ops = append(l.ops, op)
	before := len(*opkind.Rejections.In(&l.p))
	opkind.Fold(&l.p, op)
	if rs := *opkind.Rejections.In(&l.p); len(rs) > before {
		return op, rs[len(rs)-1].Reason
	}
	return op, ""
}

type wallet struct{ charged int64 }

func (w *wallet) Charge(_ context.Context, resident string, yen int64, memo string) (string, error) {
	if yen > 5000 {
		return "", errors.New("balance too low")
	}
	w.charged += yen
	return "w-" + resident, nil
}

func TestBillToReceipt(t *testing.T) {
	l := &log{}
	son := Bill{Hospital: "hospA", Visit: "r1", Resident: "son", Patient: "A-77", Date: today, Points: 853, Birth: d("2019-05-10"), Income: copay.General}
	mother := Bill{Hospital: "hospA", Visit: "r2", Resident: "mother", Patient: "A-12", Date: today, Points: 1234, Birth: d("1990-01-01"), Income: copay.General}
	sonOp, _ := l.add(OpPost, son)
	motherOp, _ := l.add(OpPost, mother)
	if _, why := l.add(OpPost, son); !strings.Contains(why, "has its bill") {
		t.Errorf("a second bill for one visit: %q", why)
	}
	bills := *Bills.In(&l.p)
	sb, mb := bills[opkind.RecordID(sonOp)], bills[opkind.RecordID(motherOp)]
	// His co-payment is ¥0 with the city's subsidy; without it, his
	// class's share (3割 of ¥8,530, rounded).
	without, _ := copay.Compute(son.Points, copay.Patient{Birth: son.Birth}, today, copay.Subsidy{})
	if sb.Split.Patient != 0 || sb.Split.Subsidy != without.Patient || without.Patient != 2560 {
		t.Errorf("son's split %+v, without the subsidy %+v", sb.Split, without)
	}
	if mb.Split.Patient != 3700 {
		t.Errorf("mother's part %d, want 3700", mb.Split.Patient)
	}

	// His ¥0 is settled without any wallet.
	p, err := Pay(context.Background(), nil, *sb)
	if err != nil || p.Amount != 0 {
		t.Errorf("son's payment %+v %v", p, err)
	}
	// Hers: no wallet yet, so the cashier.
	if _, err := Pay(context.Background(), nil, *mb); !errors.Is(err, ErrNoWallet) {
		t.Errorf("without a wallet: %v", err)
	}
	cases := []struct {
		name string
		pay  Payment
		want string
	}{
		{"the wrong amount", Payment{Hospital: "hospA", Bill: mb.ID, Method: Cashier, Amount: 3000}, "not the patient's part"},
		{"another hospital's bill", Payment{Hospital: "hospB", Bill: mb.ID, Method: Cashier, Amount: 3700}, "no such bill"},
		{"at the cashier", Payment{Hospital: "hospA", Bill: mb.ID, Method: Cashier, Amount: 3700}, ""},
		{"twice", Payment{Hospital: "hospA", Bill: mb.ID, Method: Cashier, Amount: 3700}, "paid already"},
	}
	for _, c := range cases {
		if _, why := l.add(OpPaid, c.pay); c.want == "" && why != "" || !strings.Contains(why, c.want) {
			t.Errorf("%s: %q, want %q", c.name, why, c.want)
		}
	}
	rs := Receipts(*Bills.In(&l.p), "mother", "son")
	if len(rs) != 2 {
		t.Fatalf("receipts %+v", rs)
	}
	var paid Posted
	for _, r := range rs {
		if r.Resident == "mother" {
			paid = r
		}
	}
	lines := paid.Lines()
	if last := lines[len(lines)-1][0]; last != "会計窓口で支払い済み" || !strings.Contains(lines[len(lines)-2][0], "¥3700") {
		t.Errorf("receipt %v", lines)
	}
}

func TestWalletSeam(t *testing.T) {
	w := &wallet{}
	posted := Posted{Bill: Bill{Hospital: "hospA", Resident: "mother", Date: today}, ID: "desk.2", Split: copay.Split{Patient: 3700}}
	p, err := Pay(context.Background(), w, posted)
	if err != nil || p.Method != ByWallet || p.Ref != "w-mother" || w.charged != 3700 || p.Validate() != nil {
		t.Errorf("wallet payment %+v %v", p, err)
	}
	posted.Split.Patient = 9000
	if _, err := Pay(context.Background(), w, posted); err == nil {
		t.Error("a wallet that refuses is a payment")
	}
	posted.Paid = &p
	if _, err := Pay(context.Background(), w, posted); !errors.Is(err, ErrPaid) {
		t.Errorf("paying twice: %v", err)
	}
	for _, bad := range []Payment{{Hospital: "h", Bill: "b", Method: ByWallet, Amount: 1}, {Hospital: "h", Bill: "b", Method: Cashier, Amount: 1, Ref: "w"}, {Hospital: "h", Bill: "b", Method: "cash", Amount: 1}} {
		if err := bad.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if err := (Bill{Hospital: "h", Visit: "v", Resident: "r", Patient: "p", Date: today, Points: -1, Birth: d("1990-01-01")}).Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative points: %v", err)
	}
}
