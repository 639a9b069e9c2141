// Package bill is a hospital visit's bill: the hospital's accounting
// posts the day's points for a visit with the patient's class (staff set
// it from the qualification check; the pass never calls the national
// system), the pass divides it among the insurer, the city's child
// subsidy and the patient (package copay), and the patient pays their
// part at the cashier or from the wallet. The receipt is in the account
// page.
//
// The wallet is another issue's; Pay takes it as a Wallet, and without
// one the bill is paid at the cashier (the seam: a wallet that
// implements Charge pays the same bill, and the record says which).
package bill

import (
	"context"
	"errors"
	"fmt"
	"time"

	"smartpass.city/smartpass/app/copay"
)

// Op kinds.
const (
	// OpPost posts a visit's bill; body Bill.
	OpPost = "hospital.bill"
	// OpPaid records the patient's part paid; body Payment.
	OpPaid = "hospital.bill.paid"
)

// Ways to pay.
const (
	Cashier  = "cashier"
	ByWallet = "wallet"
)

// Errors.
var (
	ErrInvalid  = errors.New("bill: invalid record")
	ErrNoBill   = errors.New("bill: no such bill")
	ErrPaid     = errors.New("bill: paid already")
	ErrAmount   = errors.New("bill: the amount is not the patient's part")
	ErrNoWallet = errors.New("bill: no wallet: pay at the cashier")
)

// Subsidy is the city's child medical subsidy the bills apply: the
// city's setting, in one place (加賀市: children up to the end of the
// school year they turn 18, the whole share).
var Subsidy = copay.Subsidy{Name: "加賀市こども医療費助成", UntilAge: 18}

// Bill is a visit's total as the hospital's accounting posts it.
type Bill struct {
	Hospital string `json:"hospital"`
	// Visit is the reception (or booking) the bill is for.
	Visit    string    `json:"visit"`
	Resident string    `json:"resident"`
	Patient  string    `json:"patient"`
	Date     time.Time `json:"date"`
	Points   int64     `json:"points"`
	// Birth and Income are the patient's class as staff set it.
	Birth  time.Time    `json:"birth"`
	Income copay.Income `json:"income"`
}

// Split is the bill divided, by the city's subsidy.
func (b Bill) Split() (copay.Split, error) {
	return copay.Compute(b.Points, copay.Patient{Birth: b.Birth, Income: b.Income}, b.Date, Subsidy)
}

// Validate reports whether b can be stored: its share computes.
func (b Bill) Validate() error {
	if b.Hospital == "" || b.Visit == "" || b.Resident == "" || b.Patient == "" || b.Date.IsZero() {
		return fmt.Errorf("%w: bill of %q for %q at %q", ErrInvalid, b.Resident, b.Visit, b.Hospital)
	}
	if _, err := b.Split(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// Payment is the patient's part paid.
type Payment struct {
	Hospital string `json:"hospital"`
	Bill     string `json:"bill"`
	Method   string `json:"method"`
	Amount   int64  `json:"amount"`
	// Ref is the wallet's payment id (ByWallet only).
	Ref string `json:"ref,omitempty"`
}

// Validate reports whether p can be stored.
func (p Payment) Validate() error {
	switch {
	case p.Hospital == "" || p.Bill == "" || p.Amount < 0:
		return fmt.Errorf("%w: payment of %q at %q", ErrInvalid, p.Bill, p.Hospital)
	case p.Method != Cashier && p.Method != ByWallet:
		return fmt.Errorf("%w: method %q", ErrInvalid, p.Method)
	case (p.Method == ByWallet) != (p.Ref != ""):
		return fmt.Errorf("%w: a wallet payment names its wallet record, a cashier's none", ErrInvalid)
	}
	return nil
}

// Wallet is the seam for the wallet issue: it charges a resident's
// wallet and returns its payment's id.
type Wallet interface {
	Charge(ctx context.Context, resident string, yen int64, memo string) (ref string, err error)
}

// Pay pays posted's patient part from w, or says to pay at the cashier
// (ErrNoWallet) when there is no wallet. Nothing to pay (the subsidy
// paid all) is settled at once, without the wallet.
func Pay(ctx context.Context, w Wallet, posted Posted) (Payment, error) {
	p := Payment{Hospital: posted.Hospital, Bill: posted.ID, Method: Cashier, Amount: posted.Split.Patient}
	switch {
	case posted.Paid != nil:
		return Payment{}, fmt.Errorf("%w: %s", ErrPaid, posted.ID)
	case p.Amount == 0:
		return p, nil
	case w == nil:
		return p, ErrNoWallet
	}
	ref, err := w.Charge(ctx, posted.Resident, p.Amount, posted.Hospital+" "+posted.Date.Format(time.DateOnly))
	if err != nil {
		return Payment{}, fmt.Errorf("bill: wallet: %w", err)
	}
	p.Method, p.Ref = ByWallet, ref
	return p, nil
}
