// Package checkout is what a shop terminal decides when a payer pays by
// face, apart from any screen: the steps of a payment (amount → face →
// the payer's tap on 支払う → a second factor when needed → receipt),
// what the payer is shown of whose wallet pays (a masked name), when the
// face alone is not enough, age-restricted items, a guardian's limits on
// a family member's wallet, and the offline allowance that lets the
// terminal keep taking payments without the network and lose nothing.
// Each refusal is a *Refusal with its words in Japanese and English.
//
// It posts nothing: a finished payment is a Receipt the caller turns
// into the wallet's op (online, sent at once; offline, queued to post at
// sync), and the server's ledger has the last word online.
package checkout

import (
	"errors"
	"time"
)

// The city's defaults where the issue gives them.
const (
	// DefaultFaceOnly is the face-only limit of a resident who chose none.
	DefaultFaceOnly = 3_000
	// DefaultFaceOnlyMax bounds what a resident may choose: the issue is
	// silent, and a face match should not carry a large payment alone.
	DefaultFaceOnlyMax = 10_000
	// DefaultOfflineCap is the city's cap on a payer's offline spending
	// per terminal per day.
	DefaultOfflineCap = 3_000
	// SecondTries is how many second factors a payment takes before it is
	// refused: one mistyped PIN is forgiven; the card itself locks after
	// three wrong PINs in all, so the terminal must not spend them.
	SecondTries = 2
)

// Policy is the city's settings, carried in the shop's facility profile.
type Policy struct {
	FaceOnlyMax int64 // 0: DefaultFaceOnlyMax
	OfflineCap  int64 // 0: DefaultOfflineCap
}

func (p Policy) faceOnlyMax() int64 { return or(p.FaceOnlyMax, DefaultFaceOnlyMax) }
func (p Policy) offlineCap() int64  { return or(p.OfflineCap, DefaultOfflineCap) }

func or(v, def int64) int64 {
	if v > 0 {
		return v
	}
	return def
}

// Guardian is the limits a guardian set on a family member's wallet; 0
// is no limit of that kind.
type Guardian struct {
	PerPayment int64
	Daily      int64
}

// Payer is what the terminal knows of the wallet a face matched: from
// the server when online, from the facility profile at the last sync
// when not.
type Payer struct {
	Resident string
	Wallet   string
	Name     string // the reading (kana or romaji), for MaskedName
	Balance  int64  // now (online) or at the last sync (offline)
	// FaceOnly is the resident's own face-only limit; nil for the
	// default. 0 asks for a second factor on every payment.
	FaceOnly *int64
	Frozen   bool // frozen or deleted
	// Debt: an offline payment posted short; offline payments wait until
	// it is settled.
	Debt bool
	// Guardian is set on a family member's wallet; SpentToday is what it
	// has spent today as last known, for the daily limit.
	Guardian   *Guardian
	SpentToday int64
	Age        AgeFact
}

// FaceOnlyLimit is the amount up to which p's face alone pays: the
// resident's choice (or DefaultFaceOnly), never above the city's bound.
func (p Payer) FaceOnlyLimit(pol Policy) int64 {
	limit := int64(DefaultFaceOnly)
	if p.FaceOnly != nil {
		limit = max(0, *p.FaceOnly)
	}
	return min(limit, pol.faceOnlyMax())
}

// NeedsSecond reports whether paying amount needs a second factor: when
// it is above the face-only limit (at the limit the face suffices).
func (p Payer) NeedsSecond(amount int64, pol Policy) bool { return amount > p.FaceOnlyLimit(pol) }

// Factor is a second factor as the terminal checked it: the My Number
// Card's signature with its PIN verified against the published anchors
// (app/jpki), or a signed QR pass; both work offline. Resident is whose
// it proved to be; Verified is false when the PIN or signature failed.
type Factor struct {
	Kind     string // "card" or "pass"
	Resident string
	Verified bool
}

// Step is where a payment is.
type Step int

// The steps, in order; Done and Refused end a payment.
const (
	EnterAmount  Step = iota // staff key in the amount or pick items
	LookAtCamera             // waiting for the payer's face
	Confirm                  // the payer sees the masked name and amount and taps 支払う
	Second                   // waiting for the card and PIN, or the QR pass
	Done                     // paid: Receipt is set
	Refused                  // not paid: Refusal is set
)

// Item is a thing picked at the till.
type Item struct {
	Name          string
	Price         int64
	Quantity      int
	AgeRestricted bool // alcohol, tobacco: 20+
}

// Receipt is a payment taken.
type Receipt struct {
	Wallet  string
	Amount  int64
	At      time.Time
	Offline bool // to post at sync
	Items   []Item
	Second  string // the second factor's kind, "" for face only
}

// Payment is one payment going through the steps. Its methods move it
// on and return a *Refusal when they refuse: Step is then Refused when
// the payment ended, or unchanged when it may go on (an amount typed
// again, a face shown again, a PIN typed again). A method called at the
// wrong step returns ErrStep and changes nothing.
type Payment struct {
	Step    Step
	Amount  int64
	Items   []Item
	Payer   Payer
	Receipt Receipt
	Refusal *Refusal

	policy    Policy
	offline   bool
	allowance Allowance
	tries     int
}

// ErrStep is returned by a method called at a step where it has no
// place (a tap before a face, a second factor nobody asked for).
var ErrStep = errors.New("checkout: not at this step")

// Start begins a payment. offline says the terminal has no network, in
// which case allowance keeps the payer's offline spending.
func Start(policy Policy, offline bool, allowance Allowance) *Payment {
	return &Payment{policy: policy, offline: offline, allowance: allowance}
}

// refuse ends the payment with reason.
func (p *Payment) refuse(reason Reason, err error) error {
	p.Step, p.Refusal = Refused, &Refusal{Reason: reason, Err: err}
	return p.Refusal
}

// Keyed sets the amount staff typed.
func (p *Payment) Keyed(amount int64) error {
	if p.Step != EnterAmount {
		return ErrStep
	}
	if amount < 1 {
		return &Refusal{Reason: BadAmount} // staff may type again
	}
	p.Amount, p.Step = amount, LookAtCamera
	return nil
}

// Picked sets the items staff picked; the amount is their sum.
func (p *Payment) Picked(items []Item) error {
	if p.Step != EnterAmount {
		return ErrStep
	}
	var sum int64
	for _, it := range items {
		if it.Price < 0 || it.Quantity < 1 {
			return &Refusal{Reason: BadAmount}
		}
		sum += it.Price * int64(it.Quantity)
	}
	if err := p.Keyed(sum); err != nil {
		return err
	}
	p.Items = items
	return nil
}

// restricted reports whether an item needs the payer to be of age.
func (p *Payment) restricted() bool {
	for _, it := range p.Items {
		if it.AgeRestricted {
			return true
		}
	}
	return false
}

// Face gives the wallet the payer's face matched (found false for no
// match). The checks that need no tap are made here, so the payer is
// not asked to confirm a payment that cannot be taken: a frozen wallet,
// age, a guardian's limits, and the balance (online) or the offline
// allowance. On success the payment waits at Confirm, with Masked to
// show.
func (p *Payment) Face(payer Payer, found bool, now time.Time) error {
	if p.Step != LookAtCamera {
		return ErrStep
	}
	if !found {
		// The payer may look again; the payment stays.
		return &Refusal{Reason: NotRecognised}
	}
	p.Payer = payer
	switch g := payer.Guardian; {
	case payer.Frozen:
		return p.refuse(Frozen, nil)
	case p.restricted() && !payer.Age.OfAge(now.In(p.loc())):
		return p.refuse(AgeRestricted, nil)
	case g != nil && g.PerPayment > 0 && p.Amount > g.PerPayment:
		return p.refuse(OverPerPayment, nil)
	case g != nil && g.Daily > 0 && payer.SpentToday+p.offlineSpent(now)+p.Amount > g.Daily:
		return p.refuse(OverDaily, nil)
	case p.offline && payer.Debt:
		return p.refuse(OfflineBlocked, nil)
	case !p.offline && payer.Balance < p.Amount:
		return p.refuse(Short, nil)
	}
	if p.offline {
		left, err := p.allowance.Remaining(payer.Wallet, payer.Balance, p.policy.offlineCap(), now)
		if err != nil {
			return p.refuse(NotKept, err)
		}
		if p.Amount > left {
			return p.refuse(OverOffline, nil)
		}
	}
	p.Step = Confirm
	return nil
}

// offlineSpent is what the payer spent offline here today and the
// server has not yet counted: nothing online, where SpentToday is fresh.
func (p *Payment) offlineSpent(now time.Time) int64 {
	if !p.offline {
		return 0
	}
	n, _ := p.allowance.Spent(p.Payer.Wallet, now) // a failing store refuses at the allowance check
	return n
}

func (p *Payment) loc() *time.Location { return p.allowance.zone() }

// Masked is the payer's name as the confirm screen shows it.
func (p *Payment) Masked() string { return MaskedName(p.Payer.Name) }

// Tap is the payer's tap on 支払う. Within the face-only limit the
// payment is taken; above it the payment waits for a second factor.
func (p *Payment) Tap(now time.Time) error {
	if p.Step != Confirm {
		return ErrStep
	}
	if p.Payer.NeedsSecond(p.Amount, p.policy) {
		p.Step = Second
		return nil
	}
	return p.take(now, "")
}

// SecondFactor gives the factor the terminal checked. One that failed,
// or proved someone other than the payer, is refused; the payment stays
// for one more try (SecondTries in all) and then ends.
func (p *Payment) SecondFactor(f Factor, now time.Time) error {
	if p.Step != Second {
		return ErrStep
	}
	if !f.Verified || f.Resident == "" || f.Resident != p.Payer.Resident || (f.Kind != "card" && f.Kind != "pass") {
		if p.tries++; p.tries >= SecondTries {
			return p.refuse(SecondRefused, nil)
		}
		return &Refusal{Reason: SecondRefused}
	}
	return p.take(now, f.Kind)
}

// Cancel stops the payment at any step before it is taken.
func (p *Payment) Cancel() error {
	if p.Step == Done || p.Step == Refused {
		return ErrStep
	}
	return p.refuse(Cancelled, nil)
}

// Fail ends the payment with a refusal from outside: the server's
// answer online (a wallet short or frozen since the face step).
func (p *Payment) Fail(reason Reason) error {
	if p.Step == Done || p.Step == Refused {
		return ErrStep
	}
	return p.refuse(reason, nil)
}

// take finishes the payment: offline, the allowance is taken (and kept)
// first, so the receipt never shows a payment the terminal has not
// recorded against the payer's allowance.
func (p *Payment) take(now time.Time, second string) error {
	if p.offline {
		err := p.allowance.Take(p.Payer.Wallet, p.Amount, p.Payer.Balance, p.policy.offlineCap(), now)
		var r *Refusal
		switch {
		case errors.As(err, &r):
			return p.refuse(r.Reason, nil)
		case err != nil:
			return p.refuse(NotKept, err)
		}
	}
	p.Step = Done
	p.Receipt = Receipt{Wallet: p.Payer.Wallet, Amount: p.Amount, At: now, Offline: p.offline, Items: p.Items, Second: second}
	return nil
}
