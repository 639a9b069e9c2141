// Package ledger is the city wallet's money: a double-entry, append-only
// journal in the server's private records (through the store seam, so it
// runs on any engine), with every account's balance kept in the same
// transaction as the entry that moves it, so reading one is O(1).
//
// Every entry names its cause (the op that caused it, or the gateway's
// payment for a card top-up) and a cause is decided once: a resent op, a
// second webhook, a transaction run again on fresh data posts nothing.
// Every entry's postings sum to zero, so no yen is created or lost by
// construction; Verify checks it, and that the balances are the sums of
// their postings, and that no wallet is below zero except by recorded
// debt.
//
// Signs: a posting adds to its account's balance. A wallet's balance is
// what the resident may spend (the issuer owes it); a merchant's is what
// the city owes the shop; a top-up clearing account goes negative by the
// money taken in at the desk or by card, until swept to the issuer's
// float; the float goes negative by the money the issuer holds. The sum
// of all balances is always zero.
package ledger

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"smartpass.city/smartpass/server/store"
)

// Account names an account of the ledger.
type Account string

// Method is a way money comes into wallets.
type Method string

// The top-up methods, each with its clearing account.
const (
	Cash Method = "cash"
	Card Method = "card"
)

// Float is the issuer's float: the money it holds for the wallets and the
// shops not yet paid out.
const Float Account = "float"

const (
	walletPrefix   = "wallet:"
	merchantPrefix = "merchant:"
	transitPrefix  = "transit:"
	clearingPrefix = "clearing:"
	donationPrefix = "donations:"
)

// Wallet is a resident's wallet.
func Wallet(resident string) Account { return Account(walletPrefix + resident) }

// Merchant is a shop's account (its facility id).
func Merchant(facility string) Account { return Account(merchantPrefix + facility) }

// Transit is a transit operator's account.
func Transit(operator string) Account { return Account(transitPrefix + operator) }

// Clearing is the top-up clearing account of a method.
func Clearing(m Method) Account { return Account(clearingPrefix + string(m)) }

// Donations is the city's account of the hometown-tax donations taken
// at a donation shop's counter (its facility id): the money is the
// city's, not the shop's, so it is kept apart from Merchant.
func Donations(shop string) Account { return Account(donationPrefix + shop) }

// Resident returns the resident whose wallet a is, if it is one.
func (a Account) Resident() (string, bool) {
	return strings.CutPrefix(string(a), walletPrefix)
}

// Name is the account's name without its kind: a resident's or a shop's
// id, a top-up method.
func (a Account) Name() string {
	if _, name, ok := strings.Cut(string(a), ":"); ok {
		return name
	}
	return string(a)
}

// Posting moves Amount yen into Account (out of it when negative).
type Posting struct {
	Account Account `json:"account"`
	Amount  int64   `json:"amount"`
}

// Entry kinds: what an entry records.
const (
	KindTopUp   = "topup"
	KindPayment = "payment"
	KindRefund  = "refund"
	KindSweep   = "sweep"  // a clearing account's money reaches the float
	KindPayout  = "payout" // the float pays a shop what it is owed
	// KindDonation is a hometown-tax donation paid at a counter (by card
	// or in cash) into the city's Donations account.
	KindDonation = "donation"
)

// Entry is one journal entry.
type Entry struct {
	Seq uint64 `json:"seq"`
	// Cause names what caused it: an op (device.seq) or a gateway's
	// payment ("card:" and its id); decided once.
	Cause string `json:"cause"`
	Kind  string `json:"kind"`
	// Of links a refund to the payment it reverses (that payment's cause).
	Of       string    `json:"of,omitempty"`
	Postings []Posting `json:"postings"`
	// Debt is the yen of this entry recorded as a wallet's debt: the part
	// of an offline payment the wallet did not hold.
	Debt int64     `json:"debt,omitempty"`
	At   time.Time `json:"at"`
}

// Balance is an account's balance and, for a wallet, the part of a
// negative balance that is recorded offline debt (always all of it).
type Balance struct {
	Balance int64 `json:"balance"`
	Debt    int64 `json:"debt,omitempty"`
}

// The record kinds of the ledger in the private records.
const (
	kindEntry   = "ledger.entry"   // %016x seq -> Entry
	kindCause   = "ledger.cause"   // cause -> decision
	kindBalance = "ledger.balance" // account -> Balance
	kindPayment = "ledger.payment" // payment cause -> payment
	kindPending = "ledger.pending" // payment cause -> []pendingRefund
	kindHead    = "ledger.head"    // "head" -> the last entry's seq
	kindWallet  = "ledger.wallet"  // resident -> settings
	kindSpent   = "ledger.spent"   // resident/date -> yen paid that day
)

// byAccount names the index of an account's entries: ids are the entries'.
func byAccount(a Account) string { return "ledger.by." + hex.EncodeToString([]byte(a)) }

func seqID(seq uint64) string { return fmt.Sprintf("%016x", seq) }

// decision is what became of a cause: posted as an entry, refused (with
// the reason), applied as a wallet's setting (limits, a freeze: no
// entry), or waiting (a refund whose payment has not arrived).
type decision struct {
	Entry   uint64 `json:"entry,omitempty"`
	Refused string `json:"refused,omitempty"`
	Setting bool   `json:"setting,omitempty"`
	Pending bool   `json:"pending,omitempty"`
}

// ErrUnbalanced is returned when an entry's postings do not sum to zero:
// a bug in the caller, never posted.
var ErrUnbalanced = errors.New("ledger: postings do not sum to zero")

func putJSON(tx store.Tx, kind, id string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Put(kind, id, b)
}

// decided returns what became of cause, if anything.
func decided(tx store.Tx, cause string) (decision, bool, error) {
	d, ok, err := store.GetJSON[decision](tx, kindCause, cause)
	if ok && d.Pending {
		return d, false, err
	}
	return d, ok, err
}

// refuse records that cause posts nothing, and why.
func refuse(tx store.Tx, cause, reason string) error {
	return putJSON(tx, kindCause, cause, decision{Refused: reason})
}

// post appends e (Seq and Debt filled in) and moves the balances, unless
// e's cause is decided already (posted false). A wallet may go below zero
// only when debt allows it; the part below zero is recorded as debt.
func post(tx store.Tx, e Entry, debt bool) (Entry, bool, error) {
	if _, done, err := decided(tx, e.Cause); err != nil || done {
		return Entry{}, false, err
	}
	var sum int64
	for _, p := range e.Postings {
		if p.Amount == 0 || p.Account == "" {
			return Entry{}, false, fmt.Errorf("%w: a posting of ¥0 or to no account in %s", ErrUnbalanced, e.Cause)
		}
		sum += p.Amount
	}
	if sum != 0 || len(e.Postings) < 2 {
		return Entry{}, false, fmt.Errorf("%w: %s sums to ¥%d", ErrUnbalanced, e.Cause, sum)
	}
	// The head is a record, not the last entry's key: an iterator in a
	// write transaction sorts its pending writes each time, and a group
	// commit posts hundreds of entries in one.
	head, _, err := store.GetJSON[uint64](tx, kindHead, "head")
	if err != nil {
		return Entry{}, false, err
	}
	e.Seq, e.Debt = head+1, 0
	// Every balance is worked out before anything is written, so a
	// refusal leaves the transaction as it was.
	moved := make(map[Account]Balance, len(e.Postings))
	var order []Account
	for _, p := range e.Postings {
		b, seen := moved[p.Account]
		if !seen {
			var err error
			if b, _, err = store.GetJSON[Balance](tx, kindBalance, string(p.Account)); err != nil {
				return Entry{}, false, err
			}
			order = append(order, p.Account)
		}
		b.Balance += p.Amount
		moved[p.Account] = b
	}
	for _, a := range order {
		b := moved[a]
		if _, ok := a.Resident(); ok {
			owed := max(0, -b.Balance)
			if owed > b.Debt {
				if !debt {
					return Entry{}, false, fmt.Errorf("%w: %s would be ¥%d", ErrShort, a, b.Balance)
				}
				e.Debt += owed - b.Debt
			}
			b.Debt = owed
		}
		if err := putJSON(tx, kindBalance, string(a), b); err != nil {
			return Entry{}, false, err
		}
		if err := tx.Put(byAccount(a), seqID(e.Seq), nil); err != nil {
			return Entry{}, false, err
		}
	}
	if err := putJSON(tx, kindEntry, seqID(e.Seq), e); err != nil {
		return Entry{}, false, err
	}
	if err := putJSON(tx, kindHead, "head", e.Seq); err != nil {
		return Entry{}, false, err
	}
	if err := putJSON(tx, kindCause, e.Cause, decision{Entry: e.Seq}); err != nil {
		return Entry{}, false, err
	}
	return e, true, nil
}

// BalanceIn returns account's balance in tx: O(1), one record.
func BalanceIn(tx store.Tx, a Account) (Balance, error) {
	b, _, err := store.GetJSON[Balance](tx, kindBalance, string(a))
	return b, err
}

// EntriesOf calls fn with every entry that moves account a, oldest first.
func EntriesOf(tx store.Tx, a Account, fn func(Entry) error) error {
	return tx.Each(byAccount(a), func(id string, _ []byte) error {
		e, ok, err := store.GetJSON[Entry](tx, kindEntry, id)
		if err != nil || !ok {
			return cmpErr(err, fmt.Errorf("ledger: index names a missing entry %s", id))
		}
		return fn(e)
	})
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// EachBalance calls fn with every account's balance, in order of name:
// the base-date report sums the wallets'.
func EachBalance(tx store.Tx, fn func(Account, Balance) error) error {
	return tx.Each(kindBalance, func(id string, v []byte) error {
		var b Balance
		if err := json.Unmarshal(v, &b); err != nil {
			return fmt.Errorf("ledger: balance of %s: %w", id, err)
		}
		return fn(Account(id), b)
	})
}
