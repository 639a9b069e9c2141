// Package wallet holds the op kinds of the city wallet: a payment at a
// shop's terminal, the shop's refund of one, a cash top-up at the city
// desk, a guardian's limits on a family member's wallet and a freeze.
// Their bodies and rules live here; the server posts them to its
// double-entry ledger (server/ledger) in the transaction that stores
// them, so a resent op posts once.
//
// Amounts are whole yen in int64: the yen has no minor unit, and a float
// would lose yen.
package wallet

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/syncproto"
)

// The op kinds.
const (
	// OpPayment is a payment at a shop's terminal (role shop).
	OpPayment = "wallet.payment"
	// OpRefund is a shop's refund of one of its payments, in full or in
	// part: a reversing entry linked to the original.
	OpRefund = "wallet.refund"
	// OpTopUpCash is cash paid in at the city desk (role registrar).
	OpTopUpCash = "wallet.topup.cash"
	// OpLimits sets a guardian's limits on a family member's wallet.
	OpLimits = "wallet.limits"
	// OpFreeze freezes a wallet (or lifts the freeze).
	OpFreeze = "wallet.freeze"
)

// MaxAmount bounds every amount a body carries (¥10,000,000): far above
// any payment or top-up at a desk, far below what int64 sums could
// overflow on.
const MaxAmount = 10_000_000

// ErrInvalid is wrapped by every Validate.
var ErrInvalid = errors.New("invalid wallet record")

// idRE keeps residents' and facilities' ids ids (the ledger names
// accounts by them).
var idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Payment is the body of OpPayment.
type Payment struct {
	// Facility is the shop that is paid (a facility of kind shop).
	Facility string `json:"facility"`
	// Resident's wallet pays.
	Resident string `json:"resident"`
	Amount   int64  `json:"amount"`
	// Offline: the terminal took the payment without the server, within
	// the payer's offline allowance. An offline payment is never refused
	// at sync (the goods are gone): one that finds the wallet short
	// posts as recorded debt. An online one is refused by the server
	// when the wallet is short, frozen, deleted or over its limits.
	Offline bool `json:"offline,omitempty"`
	// Items are what was sold, for the receipt (optional).
	Items []Item `json:"items,omitempty"`
}

// Item is one line of a receipt.
type Item struct {
	Name   string `json:"name"`
	Amount int64  `json:"amount"`
}

// Refund is the body of OpRefund.
type Refund struct {
	Facility string `json:"facility"`
	// Payment names the refunded payment op (opkind.RecordID: device.seq).
	Payment string `json:"payment"`
	Amount  int64  `json:"amount"`
	Staff   string `json:"staff"`
}

// TopUpCash is the body of OpTopUpCash: the staff member who took the
// cash names themselves, and a second one confirms above the amount the
// city sets (the server checks it: the amount is the city's).
type TopUpCash struct {
	Resident string `json:"resident"`
	Amount   int64  `json:"amount"`
	Staff    string `json:"staff"`
	// Confirmer is the second staff member, above the city's amount.
	Confirmer string `json:"confirmer,omitempty"`
}

// Limits is the body of OpLimits: a wallet's limits, all set at once by
// the latest op (so a form that shows them all sets what it shows).
// Daily and PerPay are a guardian's on a family member's wallet; zero
// means no limit. FaceOnly is the amount up to which the resident's face
// alone pays at a shop (nil: the city's default; 0: always the second
// factor); the city's bound on it is the server's to check (its
// setting, like the second staff member's amount).
type Limits struct {
	Resident string `json:"resident"` // whose wallet
	Guardian string `json:"guardian"` // who set them
	Daily    int64  `json:"daily,omitempty"`
	PerPay   int64  `json:"per_payment,omitempty"`
	FaceOnly *int64 `json:"face_only,omitempty"`
	// Staff is who recorded them: the desk's staff member, or, for the
	// server's op of a holder's own setting, "resident:" and the holder.
	Staff string `json:"staff"`
}

// Freeze is the body of OpFreeze.
type Freeze struct {
	Resident string `json:"resident"`
	Frozen   bool   `json:"frozen"`
	Reason   string `json:"reason"`
	Staff    string `json:"staff"`
}

func checkID(what, id string) error {
	if !idRE.MatchString(id) {
		return fmt.Errorf("%w: %s %q", ErrInvalid, what, id)
	}
	return nil
}

func checkAmount(a int64) error {
	if a <= 0 || a > MaxAmount {
		return fmt.Errorf("%w: amount ¥%d (1 to ¥%d)", ErrInvalid, a, MaxAmount)
	}
	return nil
}

func checkStaff(s string) error {
	if strings.TrimSpace(s) == "" || len(s) > 100 {
		return fmt.Errorf("%w: name the staff member", ErrInvalid)
	}
	return nil
}

// Validate reports whether p can be recorded: items, when listed, add up
// to the amount.
func (p Payment) Validate() error {
	if err := errors.Join(checkID("facility", p.Facility), checkID("resident", p.Resident), checkAmount(p.Amount)); err != nil {
		return err
	}
	if len(p.Items) == 0 {
		return nil
	}
	var sum int64
	for _, it := range p.Items {
		if it.Name == "" || it.Amount <= 0 || it.Amount > MaxAmount {
			return fmt.Errorf("%w: item %q ¥%d", ErrInvalid, it.Name, it.Amount)
		}
		sum += it.Amount
	}
	if sum != p.Amount {
		return fmt.Errorf("%w: items add up to ¥%d, the payment is ¥%d", ErrInvalid, sum, p.Amount)
	}
	return nil
}

// Validate reports whether r can be recorded. Whether it is larger than
// what is left of the payment is the ledger's question.
func (r Refund) Validate() error {
	dev, seq, ok := strings.Cut(r.Payment, ".")
	if _, err := strconv.ParseUint(seq, 10, 64); !ok || dev == "" || err != nil {
		return fmt.Errorf("%w: payment %q (device.seq)", ErrInvalid, r.Payment)
	}
	return errors.Join(checkID("facility", r.Facility), checkAmount(r.Amount), checkStaff(r.Staff))
}

// Validate reports whether t can be recorded.
func (t TopUpCash) Validate() error {
	if err := errors.Join(checkID("resident", t.Resident), checkAmount(t.Amount), checkStaff(t.Staff)); err != nil {
		return err
	}
	if t.Confirmer != "" && strings.TrimSpace(t.Confirmer) == strings.TrimSpace(t.Staff) {
		return fmt.Errorf("%w: the second staff member must be another person", ErrInvalid)
	}
	return nil
}

// Validate reports whether l can be recorded.
func (l Limits) Validate() error {
	if err := errors.Join(checkID("resident", l.Resident), checkID("guardian", l.Guardian), checkStaff(l.Staff)); err != nil {
		return err
	}
	if l.Daily < 0 || l.PerPay < 0 || l.Daily > MaxAmount || l.PerPay > MaxAmount {
		return fmt.Errorf("%w: limits ¥%d a day, ¥%d a payment", ErrInvalid, l.Daily, l.PerPay)
	}
	if l.FaceOnly != nil && (*l.FaceOnly < 0 || *l.FaceOnly > MaxAmount) {
		return fmt.Errorf("%w: face-only limit ¥%d", ErrInvalid, *l.FaceOnly)
	}
	if l.Daily > 0 && l.PerPay > l.Daily {
		return fmt.Errorf("%w: a payment limit (¥%d) above the daily one (¥%d)", ErrInvalid, l.PerPay, l.Daily)
	}
	return nil
}

// Validate reports whether f can be recorded.
func (f Freeze) Validate() error {
	if err := errors.Join(checkID("resident", f.Resident), checkStaff(f.Staff)); err != nil {
		return err
	}
	if f.Frozen && strings.TrimSpace(f.Reason) == "" {
		return fmt.Errorf("%w: a freeze needs its reason", ErrInvalid)
	}
	return nil
}

// ID names the record an op of the wallet created (opkind.RecordID: its
// device and seq): the ledger's cause for it, and what a refund names.
func ID(op syncproto.Op) string { return opkind.RecordID(op) }

// Body decodes an op's body as a T and checks it by its rules, for the
// server that posts it (which declares no kinds of its own).
func Body[T interface{ Validate() error }](op syncproto.Op) (T, error) {
	return opkind.DecodeValid[T](op)
}
