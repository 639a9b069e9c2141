package ledger

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"smartpass.city/smartpass/server/store"
)

// Report is what Verify found.
type Report struct {
	Entries  int `json:"entries"`
	Accounts int `json:"accounts"`
	// Outstanding is the wallets' positive balances: the unused balance
	// the issuer owes (the base-date report's figure).
	Outstanding int64 `json:"outstanding"`
	// Debt is the wallets' recorded offline debt.
	Debt int64 `json:"debt"`
	// Problems lists every broken invariant (at most maxProblems).
	Problems []string `json:"problems,omitempty"`
}

// ErrBroken is wrapped by Verify when an invariant does not hold.
var ErrBroken = errors.New("ledger: invariants broken")

const maxProblems = 50

// Verify replays the journal in recs and checks the ledger's invariants:
// entries numbered without gaps, each summing to zero and decided by its
// cause once; every balance the sum of its postings; no wallet below zero
// except by the debt its entries recorded (and only payments and fares,
// both taken offline, record debt); the sum of all balances zero.
func Verify(recs store.Records) (Report, error) {
	var r Report
	problem := func(format string, args ...any) {
		if len(r.Problems) < maxProblems {
			r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
		}
	}
	err := recs.View(func(tx store.Tx) error {
		sums := map[Account]Balance{}
		var want uint64 = 1
		err := tx.Each(kindEntry, func(id string, v []byte) error {
			var e Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("ledger: entry %s: %w", id, err)
			}
			r.Entries++
			if e.Seq != want || id != seqID(e.Seq) {
				problem("entry %s holds seq %d, want %d", id, e.Seq, want)
			}
			want = e.Seq + 1
			var sum, debt int64
			for _, p := range e.Postings {
				sum += p.Amount
				b := sums[p.Account]
				before := b.Debt
				b.Balance += p.Amount
				if _, ok := p.Account.Resident(); ok {
					b.Debt = max(0, -b.Balance)
					debt += max(0, b.Debt-before)
				}
				sums[p.Account] = b
			}
			if sum != 0 {
				problem("entry %d (%s) sums to ¥%d", e.Seq, e.Cause, sum)
			}
			if debt != e.Debt {
				problem("entry %d (%s) took wallets ¥%d below zero but records ¥%d of debt", e.Seq, e.Cause, debt, e.Debt)
			}
			if e.Debt > 0 && e.Kind != KindPayment && e.Kind != KindFare {
				problem("entry %d (%s) records debt but is a %s", e.Seq, e.Cause, e.Kind)
			}
			d, ok, err := store.GetJSON[decision](tx, kindCause, e.Cause)
			if err != nil {
				return err
			}
			if !ok || d.Entry != e.Seq {
				problem("entry %d: its cause %s is decided as %+v", e.Seq, e.Cause, d)
			}
			return nil
		})
		if err != nil {
			return err
		}
		var total int64
		stored := map[Account]bool{}
		err = EachBalance(tx, func(a Account, b Balance) error {
			stored[a] = true
			r.Accounts++
			total += b.Balance
			if got := sums[a]; got != b {
				problem("%s holds %+v, its postings sum to %+v", a, b, got)
			}
			if _, ok := a.Resident(); ok {
				if b.Balance < 0 && b.Debt != -b.Balance {
					problem("%s is ¥%d below zero with ¥%d of recorded debt", a, -b.Balance, b.Debt)
				}
				r.Outstanding += max(0, b.Balance)
				r.Debt += b.Debt
			}
			return nil
		})
		if err != nil {
			return err
		}
		var missing []string
		for a := range sums {
			if !stored[a] {
				missing = append(missing, string(a))
			}
		}
		slices.Sort(missing)
		for _, a := range missing {
			problem("%s has postings but no balance", a)
		}
		if total != 0 {
			problem("the balances sum to ¥%d", total)
		}
		return nil
	})
	if err != nil {
		return r, fmt.Errorf("ledger: verify: %w", err)
	}
	if len(r.Problems) > 0 {
		return r, fmt.Errorf("%w: %d problems, the first: %s", ErrBroken, len(r.Problems), r.Problems[0])
	}
	return r, nil
}
