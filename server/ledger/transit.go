package ledger

import (
	"fmt"
	"time"

	"smartpass.city/smartpass/server/store"
)

// The entry kinds of transit: a ride's fare, and a commuter pass bought
// from the wallet.
const (
	// KindFare is a completed ride's fare, taken on a vehicle that may
	// have been offline all day: like an offline payment, a wallet
	// short of it records the rest as debt.
	KindFare = "fare"
	// KindPass is a commuter pass (定期券) bought online from the
	// account page: never below zero (ErrShort).
	KindPass = "pass"
)

// RideFare is a completed ride's fare to post: Amount from the rider's
// wallet to the operator's transit account.
type RideFare struct {
	// Cause names the ride (RideCause): one ride posts once, whatever
	// the resends of its taps and the times it is priced again.
	Cause    string
	Resident string
	Operator string
	Amount   int64
	At       time.Time
}

// RideCause is the cause of a ride's fare: the operator and the ride's
// boarding record, which no other ride shares.
func RideCause(operator, ride string) string { return "ride:" + operator + ":" + ride }

// PostFare posts f in tx (the push's transaction, or a sweep's) unless
// its cause is decided already (posted false). The vehicle took the ride
// offline, so the part the wallet did not hold becomes recorded debt, as
// for an offline payment; a fare of ¥0 (a commuter pass, a free 幼児)
// is decided with no entry, so it is never priced again.
func PostFare(tx store.Tx, f RideFare) (Entry, bool, error) {
	if f.Amount < 0 {
		return Entry{}, false, fmt.Errorf("%w: a fare of ¥%d for %s", ErrAmount, f.Amount, f.Cause)
	}
	if _, done, err := decided(tx, f.Cause); err != nil || done {
		return Entry{}, false, err
	}
	if f.Amount == 0 {
		return Entry{}, false, putJSON(tx, kindCause, f.Cause, decision{Setting: true})
	}
	return post(tx, Entry{Cause: f.Cause, Kind: KindFare, At: f.At.UTC(), Postings: []Posting{
		{Wallet(f.Resident), -f.Amount}, {Transit(f.Operator), f.Amount},
	}}, true)
}

// Decided reports whether cause has been decided in tx (posted, refused
// or settled with no entry).
func Decided(tx store.Tx, cause string) (bool, error) {
	_, done, err := decided(tx, cause)
	return done, err
}
