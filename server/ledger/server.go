package ledger

import (
	"errors"
	"fmt"
	"time"

	"smartpass.city/smartpass/app/checkout"
	"smartpass.city/smartpass/app/wallet"
	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/syncproto"
)

// Transfer is a movement the server itself posts (not from an op): a card
// top-up the gateway confirmed, a clearing account swept to the float, a
// shop paid out. Cause decides it once.
type Transfer struct {
	Cause  string
	Kind   string // KindTopUp, KindSweep, KindPayout or KindPass
	From   Account
	To     Account
	Amount int64
	// Actor is who the audit log names (a staff member, "stripe").
	Actor string
}

// ErrAmount is returned for a transfer of no yen or of a negative amount.
var ErrAmount = errors.New("ledger: a transfer moves a positive amount")

// Post posts t unless its cause is decided already (posted false: a
// second webhook, a retried request), and records it in the audit chain.
// It never takes a wallet below zero (ErrShort).
func (l *Ledger) Post(t Transfer, now time.Time) (e Entry, posted bool, err error) {
	if t.Amount <= 0 {
		return Entry{}, false, fmt.Errorf("%w: ¥%d", ErrAmount, t.Amount)
	}
	err = l.recs.Update(func(tx store.Tx) error {
		e, posted, err = post(tx, Entry{Cause: t.Cause, Kind: t.Kind, At: now.UTC(), Postings: []Posting{
			{t.From, -t.Amount}, {t.To, t.Amount},
		}}, false)
		return err
	})
	if err != nil || !posted {
		return e, posted, err
	}
	if l.Audit != nil {
		if err := l.Audit(t.Actor, "ledger."+t.Kind, string(t.To), fmt.Sprintf("%s ¥%d from %s (entry %d)", t.Cause, t.Amount, t.From, e.Seq)); err != nil {
			return e, true, fmt.Errorf("ledger: posted entry %d but could not audit it: %w", e.Seq, err)
		}
	}
	return e, true, nil
}

// Posted reports what became of cause: its entry when posted, the
// reason when refused.
func (l *Ledger) Posted(cause string) (e Entry, refused string, ok bool, err error) {
	err = l.recs.View(func(tx store.Tx) error {
		d, done, err := decided(tx, cause)
		if err != nil || !done {
			return err
		}
		ok, refused = true, d.Refused
		if d.Entry != 0 {
			e, _, err = store.GetJSON[Entry](tx, kindEntry, seqID(d.Entry))
		}
		return err
	})
	return e, refused, ok, err
}

// Balance returns an account's balance. A wallet's is personal data:
// read it with Wallet, which audits the read.
func (l *Ledger) Balance(a Account) (b Balance, err error) {
	err = l.recs.View(func(tx store.Tx) error {
		b, err = BalanceIn(tx, a)
		return err
	})
	return b, err
}

// Wallet returns resident's statement for reader (a staff member, the
// resident's own account), recorded in the audit chain first: a read
// that cannot be audited is not made.
func (l *Ledger) Wallet(reader, resident string) (wallet.Statement, error) {
	if l.Audit != nil {
		if err := l.Audit(reader, "ledger.read", resident, "wallet statement"); err != nil {
			return wallet.Statement{}, fmt.Errorf("ledger: audit a read of %s: %w", resident, err)
		}
	}
	s := wallet.Statement{Resident: resident, Lines: []wallet.Line{}}
	mine := Wallet(resident)
	err := l.recs.View(func(tx store.Tx) error {
		b, err := BalanceIn(tx, mine)
		if err != nil {
			return err
		}
		s.Balance, s.Debt = b.Balance, b.Debt
		if s.Limits, err = l.inForce(tx, resident); err != nil {
			return err
		}
		return EntriesOf(tx, mine, func(e Entry) error {
			line := wallet.Line{Cause: e.Cause, At: e.At, Kind: e.Kind, Debt: e.Debt, Of: e.Of}
			for _, p := range e.Postings {
				if p.Account == mine {
					line.Amount += p.Amount
				} else {
					line.With = p.Account.Name()
				}
			}
			s.Lines = append(s.Lines, line)
			return nil
		})
	})
	return s, err
}

// Limits returns the limits in force on resident's wallet (no audit:
// they are the terminals' profile facts and the statement's heading,
// read with what is audited).
func (l *Ledger) Limits(resident string) (in wallet.InForce, err error) {
	err = l.recs.View(func(tx store.Tx) error {
		in, err = l.inForce(tx, resident)
		return err
	})
	return in, err
}

func (l *Ledger) inForce(tx store.Tx, resident string) (wallet.InForce, error) {
	s, _, err := store.GetJSON[settings](tx, kindWallet, resident)
	if err != nil {
		return wallet.InForce{}, err
	}
	return wallet.InForce{
		FaceOnly: s.FaceOnly, FaceOnlyDefault: min(checkout.DefaultFaceOnly, l.cfg.FaceOnlyMax), FaceOnlyMax: l.cfg.FaceOnlyMax,
		Daily: s.Daily, PerPay: s.PerPay, Guardian: s.Guardian,
	}, nil
}

// SetLimits is the records of the server's own wallet.limits op (a
// holder's setting from the account page, written by publish.Writer):
// lim kept as the wallet's limits in the transaction that stores op,
// by the rules a desk's op is kept by. op is the one the writer
// clocks before it commits (its HLC orders the setting among the
// desk's); the writer numbers it inside the commit, so the cause is
// named by the clock, which the server's writer gives each op once.
func (l *Ledger) SetLimits(lim wallet.Limits, op *syncproto.Op) func(store.Tx) error {
	return func(tx store.Tx) error {
		if err := l.CheckLimits(lim); err != nil {
			return err
		}
		cause := fmt.Sprintf("limits:%s@%d", lim.Resident, op.HLC)
		return l.setLimits(tx, cause, lim, op.HLC)
	}
}

// OfflineAllowance is what a terminal may take offline from resident's
// wallet in a day: the smaller of the balance and the city's cap, and
// nothing while the wallet holds recorded debt or is frozen (the
// facility profile carries it to the terminals).
func (l *Ledger) OfflineAllowance(resident string, cap int64) (int64, error) {
	allow, _, err := l.Offline(resident, cap)
	return allow, err
}

// Offline is OfflineAllowance with the reason a wallet has none: blocked
// is true while it is frozen, closed or holds recorded debt, so the
// terminal says that, and not that the allowance is spent.
func (l *Ledger) Offline(resident string, cap int64) (allow int64, blocked bool, err error) {
	err = l.recs.View(func(tx store.Tx) error {
		b, err := BalanceIn(tx, Wallet(resident))
		if err != nil {
			return err
		}
		s, _, err := store.GetJSON[settings](tx, kindWallet, resident)
		if err != nil {
			return err
		}
		if b.Debt > 0 || s.Frozen || s.Closed {
			blocked = true
			return nil
		}
		allow = max(0, min(b.Balance, cap))
		if s.PerPay > 0 {
			allow = min(allow, s.PerPay)
		}
		return nil
	})
	return allow, blocked, err
}

// Close marks the wallets of residents whose accounts were deleted, as
// by: an online payment from them is refused (ErrDeleted); an offline one
// taken before the terminal knew still posts, and the balance stays on
// the books.
func (l *Ledger) Close(by string, residents ...string) error {
	err := l.recs.Update(func(tx store.Tx) error {
		for _, r := range residents {
			s, _, err := store.GetJSON[settings](tx, kindWallet, r)
			if err != nil {
				return err
			}
			s.Closed = true
			if err := putJSON(tx, kindWallet, r, s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("ledger: close wallets: %w", err)
	}
	if l.Audit != nil {
		for _, r := range residents {
			if err := l.Audit(by, "ledger.close", r, "account deleted"); err != nil {
				return fmt.Errorf("ledger: closed %s but could not audit it: %w", r, err)
			}
		}
	}
	return nil
}
