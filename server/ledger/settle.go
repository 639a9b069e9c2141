package ledger

import (
	"strings"

	"smartpass.city/smartpass/app/settlement"
	"smartpass.city/smartpass/server/store"
)

// MerchantLines lists what the shops took and gave back, as settlement
// lines (app/settlement): every payment and refund entry that posts to a
// merchant's account, by the cause that posted it once. A payout (the
// float paying a shop) is not a sale and is left out. The terminal is the
// device of the op that caused the entry.
func MerchantLines(recs store.Records) ([]settlement.Line, error) {
	var out []settlement.Line
	err := recs.View(func(tx store.Tx) error {
		var merchants []Account
		if err := EachBalance(tx, func(a Account, _ Balance) error {
			if strings.HasPrefix(string(a), merchantPrefix) {
				merchants = append(merchants, a)
			}
			return nil
		}); err != nil {
			return err
		}
		for _, m := range merchants {
			if err := EntriesOf(tx, m, func(e Entry) error {
				if e.Kind != KindPayment && e.Kind != KindRefund {
					return nil
				}
				var amount int64
				for _, p := range e.Postings {
					if p.Account == m {
						amount += p.Amount
					}
				}
				kind := settlement.Payment
				if amount < 0 {
					kind, amount = settlement.Refund, -amount
				}
				if amount == 0 {
					return nil
				}
				terminal := e.Cause[:max(0, strings.LastIndexByte(e.Cause, '.'))] // device.seq
				out = append(out, settlement.Line{Merchant: m.Name(), Op: e.Cause, At: e.At, Kind: kind, Amount: amount, Terminal: terminal, Original: e.Of})
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}
