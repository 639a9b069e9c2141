package checkout

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Store is the little the terminal keeps across reloads about offline
// payments: a value by key. The wasm side implements it over the
// browser's storage (IndexedDB); Save must be durable when it returns,
// because the allowance trusts it to survive a reload or a crash.
type Store interface {
	Load(key string) (value []byte, err error) // nil, nil when absent
	Save(key string, value []byte) error
}

// Allowance keeps what each payer has spent offline at this terminal
// each day, so the terminal never lets a payer past their offline
// allowance, min(balance at the last sync, the city's cap), even when
// the page is reloaded between payments.
type Allowance struct {
	Store Store
	Loc   *time.Location // the city's time zone, where days are cut
}

// key names a payer's spending on a day.
func (a Allowance) key(wallet string, day time.Time) string {
	return "checkout/offline/" + day.In(a.zone()).Format(time.DateOnly) + "/" + wallet
}

// zone is where days are cut: Loc, or the machine's zone when unset.
func (a Allowance) zone() *time.Location {
	if a.Loc != nil {
		return a.Loc
	}
	return time.Local
}

// ErrStore wraps a failure of the Store: the payment is not taken, since
// an allowance that cannot be kept cannot be trusted.
var ErrStore = errors.New("offline allowance not kept")

// errNoStore is the cause when a terminal has no Store at all.
var errNoStore = errors.New("the terminal has no store")

// Spent returns what wallet has spent offline at this terminal on day.
// A terminal without a Store cannot keep the allowance: ErrStore, so it
// takes no offline payment.
func (a Allowance) Spent(wallet string, day time.Time) (int64, error) {
	if a.Store == nil {
		return 0, fmt.Errorf("%w: %w", ErrStore, errNoStore)
	}
	b, err := a.Store.Load(a.key(wallet, day))
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrStore, err)
	}
	if b == nil {
		return 0, nil
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: stored %q", ErrStore, b)
	}
	return n, nil
}

// Limit is a payer's offline allowance for a day at one terminal: the
// balance known at the last sync, capped by the city.
func Limit(balance, cityCap int64) int64 { return max(0, min(balance, cityCap)) }

// Remaining is what wallet may still spend offline here on day.
func (a Allowance) Remaining(wallet string, balance, cityCap int64, day time.Time) (int64, error) {
	spent, err := a.Spent(wallet, day)
	if err != nil {
		return 0, err
	}
	return max(0, Limit(balance, cityCap)-spent), nil
}

// Take records amount as spent by wallet on day, if it fits the
// allowance; it returns a *Refusal (OverOffline) when it does not. The
// record is saved before Take returns, and before the payment is shown
// as paid: a crash after Take loses allowance, never lets it be passed.
func (a Allowance) Take(wallet string, amount, balance, cityCap int64, day time.Time) error {
	spent, err := a.Spent(wallet, day)
	if err != nil {
		return err
	}
	if spent+amount > Limit(balance, cityCap) {
		return &Refusal{Reason: OverOffline}
	}
	if err := a.Store.Save(a.key(wallet, day), []byte(strconv.FormatInt(spent+amount, 10))); err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	return nil
}
