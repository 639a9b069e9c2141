package bill

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"time"

	"smartpass.city/smartpass/app/copay"
	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/app/role"
	"smartpass.city/smartpass/syncproto"
)

// Posted is a bill as folded: its id, its split and its payment.
type Posted struct {
	Bill
	ID    string
	Split copay.Split
	Paid  *Payment
	At    time.Time
}

// Bills is the folded part, by id.
var Bills = opkind.NewSlot("bills", func() map[string]*Posted { return map[string]*Posted{} })

// The hospital's desk posts bills and records what its cashier takes;
// both stay on the hospital's feed and are audited (money, and a
// patient's care).
func init() {
	opkind.Register(opkind.Kind{
		Name:  OpPost,
		Body:  opkind.Over(Bill.Validate, func(b Bill) string { return b.Hospital }),
		Roles: []role.Role{role.Reception},
		Feeds: opkind.Feeds{Facility: true},
		Audit: func(op syncproto.Op) (opkind.Entry, bool) {
			b, err := opkind.Decode[Bill](op)
			return opkind.Entry{Action: op.Kind, Subject: b.Resident, Detail: fmt.Sprintf("%s %s %d points", b.Hospital, b.Visit, b.Points)}, err == nil
		},
		Fold: func(p *opkind.Parts, op syncproto.Op) error {
			b, err := opkind.DecodeValid[Bill](op)
			if err != nil {
				return err
			}
			bs := *Bills.In(p)
			for _, x := range bs {
				if x.Hospital == b.Hospital && x.Visit == b.Visit {
					return fmt.Errorf("%w: visit %s has its bill (%s)", ErrInvalid, b.Visit, x.ID)
				}
			}
			sp, _ := b.Split()
			id := opkind.RecordID(op)
			bs[id] = &Posted{Bill: b, ID: id, Split: sp, At: hlc.Wall(op.HLC)}
			return nil
		},
	})
	opkind.Register(opkind.Kind{
		Name:  OpPaid,
		Body:  opkind.Over(Payment.Validate, func(p Payment) string { return p.Hospital }),
		Roles: []role.Role{role.Reception},
		Feeds: opkind.Feeds{Facility: true},
		Audit: func(op syncproto.Op) (opkind.Entry, bool) {
			p, err := opkind.Decode[Payment](op)
			return opkind.Entry{Action: op.Kind, Subject: p.Bill, Detail: p.Method + " ¥" + strconv.FormatInt(p.Amount, 10) + " " + p.Ref}, err == nil
		},
		Fold: func(p *opkind.Parts, op syncproto.Op) error {
			pay, err := opkind.DecodeValid[Payment](op)
			if err != nil {
				return err
			}
			b, ok := (*Bills.In(p))[pay.Bill]
			switch {
			case !ok || b.Hospital != pay.Hospital:
				return fmt.Errorf("%w: %s at %s", ErrNoBill, pay.Bill, pay.Hospital)
			case b.Paid != nil:
				return fmt.Errorf("%w: %s", ErrPaid, pay.Bill)
			case pay.Amount != b.Split.Patient:
				return fmt.Errorf("%w: ¥%d, the patient's part is ¥%d", ErrAmount, pay.Amount, b.Split.Patient)
			}
			b.Paid = &pay
			return nil
		},
	})
}

// Receipts are the bills of the residents named (a family's account
// page), newest first.
func Receipts(bills map[string]*Posted, residents ...string) []Posted {
	var out []Posted
	for _, b := range bills {
		if slices.Contains(residents, b.Resident) {
			out = append(out, *b)
		}
	}
	slices.SortFunc(out, func(a, b Posted) int { return cmp.Or(b.Date.Compare(a.Date), cmp.Compare(a.ID, b.ID)) })
	return out
}

// Lines are a receipt's lines, Japanese first: the total, what the
// insurer, the city and the patient pay, and how it was paid.
func (p Posted) Lines() [][2]string {
	yen := func(n int64) string { return "¥" + strconv.FormatInt(n, 10) }
	ls := [][2]string{
		{fmt.Sprintf("診療報酬 %d点（%s）", p.Split.Points, yen(p.Split.Total)), fmt.Sprintf("Fee %d points (%s)", p.Split.Points, yen(p.Split.Total))},
		{fmt.Sprintf("負担割合 %d割（%s）", p.Split.Tenths, p.Split.Bracket), fmt.Sprintf("Share %d0%%", p.Split.Tenths)},
		{"保険者負担 " + yen(p.Split.Insurer), "Insurer " + yen(p.Split.Insurer)},
	}
	if p.Split.SubsidyName != "" {
		ls = append(ls, [2]string{p.Split.SubsidyName + " " + yen(p.Split.Subsidy), "City subsidy " + yen(p.Split.Subsidy)})
	}
	ls = append(ls, [2]string{"窓口負担 " + yen(p.Split.Patient), "You pay " + yen(p.Split.Patient)})
	switch {
	case p.Split.Patient == 0:
		ls = append(ls, [2]string{"お支払いはありません", "Nothing to pay"})
	case p.Paid == nil:
		ls = append(ls, [2]string{"未払い（会計窓口でお支払いください）", "Unpaid: please pay at the cashier"})
	case p.Paid.Method == ByWallet:
		ls = append(ls, [2]string{"ウォレットで支払い済み", "Paid from the wallet"})
	default:
		ls = append(ls, [2]string{"会計窓口で支払い済み", "Paid at the cashier"})
	}
	return ls
}
