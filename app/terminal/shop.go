package terminal

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"smartpass.city/smartpass/app/checkout"
	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/state"
	"smartpass.city/smartpass/app/wallet"
	"smartpass.city/smartpass/syncproto"
)

// Payer is what a shop's till knows of the resident a face (or a pass)
// matched, from the profile the server wrote for the shop: ok is false
// when the shop holds no wallet facts for them. Online, the balance is
// the server's to judge (the hub refuses a short or frozen wallet in its
// own words), so the till does not refuse by an old figure; offline it
// is the allowance as of the last sync, and a blocked wallet (recorded
// debt, frozen) takes no offline payment.
func Payer(st *state.State, resident string, offline bool) (p checkout.Payer, ok bool) {
	prof, found := st.Profiles[resident]
	if !found || prof.Pay == nil {
		return p, false
	}
	pay := prof.Pay
	p = checkout.Payer{
		Resident: resident, Wallet: resident, Name: pay.Name, FaceOnly: pay.FaceOnly,
		Balance: wallet.MaxAmount,
		Age:     checkout.AgeFact{Adult: pay.Adult, From: pay.AdultFrom},
	}
	if pay.PerPayment > 0 || pay.Daily > 0 {
		// What was spent today online is the server's to count (it
		// refuses past the daily limit); the till adds its own offline.
		p.Guardian = &checkout.Guardian{PerPayment: pay.PerPayment, Daily: pay.Daily}
	}
	if offline {
		p.Balance, p.Debt = pay.Allowance, pay.Blocked
	}
	return p, true
}

// Sale is one of the shop's payments as its till lists them for a
// refund: the op's id (what a refund names), the amount, what has been
// refunded of it, and whether the server refused it.
type Sale struct {
	ID       string
	At       time.Time
	Amount   int64
	Refunded int64
	Offline  bool
	Refused  string // the server's words, when it refused the payment
	Posted   bool   // the server stored it
}

// Left is what may still be refunded of s.
func (s Sale) Left() int64 { return max(0, s.Amount-s.Refunded) }

// Sales lists the payments taken at facility in ops, newest first, with
// what the refunds in ops (not refused) gave back of each. rejected is
// the fold's list, where the server's refusals are.
func Sales(ops []syncproto.Op, rejected []state.Rejected, facility string) []Sale {
	refused := make(map[string]string)
	for _, r := range rejected {
		refused[wallet.ID(r.Op)] = Words(r.Reason)
	}
	var sales []Sale
	refunds := make(map[string]int64)
	for _, op := range ops {
		id := wallet.ID(op)
		switch op.Kind {
		case wallet.OpPayment:
			var p wallet.Payment
			if err := json.Unmarshal(op.Body, &p); err != nil || p.Facility != facility {
				continue
			}
			sales = append(sales, Sale{ID: id, At: hlc.Wall(op.HLC), Amount: p.Amount, Offline: p.Offline, Refused: refused[id], Posted: op.Global != 0})
		case wallet.OpRefund:
			var r wallet.Refund
			if err := json.Unmarshal(op.Body, &r); err != nil || r.Facility != facility || refused[id] != "" {
				continue
			}
			refunds[r.Payment] += r.Amount
		}
	}
	for i := range sales {
		sales[i].Refunded = refunds[sales[i].ID]
	}
	slices.SortStableFunc(sales, func(a, b Sale) int { return cmp.Compare(b.At.UnixNano(), a.At.UnixNano()) })
	return sales
}

// Outcome is what became of an op the till recorded: refused by the
// server (with its words), stored by it, or still to be sent.
func Outcome(ops []syncproto.Op, rejected []state.Rejected, sent syncproto.Op) (refused string, posted bool) {
	id := wallet.ID(sent)
	for _, r := range rejected {
		if wallet.ID(r.Op) == id {
			return Words(r.Reason), false
		}
	}
	for _, op := range slices.Backward(ops) {
		if op.Device == sent.Device && op.Seq == sent.Seq {
			return "", op.Global != 0
		}
	}
	return "", false
}

// Words are the server's words in a refusal as the fold keeps it
// ("refused by the server: 日本語 / English"), without the prefix.
func Words(reason string) string {
	return strings.TrimPrefix(reason, "refused by the server: ")
}
