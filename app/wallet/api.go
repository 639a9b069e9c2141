package wallet

import (
	"time"

	"smartpass.city/smartpass/app/account"
)

// The wallet's endpoints, signed by the account's holder like the rest
// of the account API: a guardian reads and funds the wallets of the
// household's members.
const (
	StatementPath = "/accounts/wallet/statement"
	CardTopUpPath = "/accounts/wallet/topup/card"
	SettingsPath  = "/accounts/wallet/settings"
)

// The codes of the settings' own refusals (the ledger's bound on the
// face-only limit answers with its own code, wallet-face-only-max).
const (
	CodeNotGuarded = "wallet-not-guarded"
	CodeLimits     = "wallet-limits"
)

// Settings is what the holder sets of a household member's wallet from
// the account page: the face-only limit (anyone's, the holder's own
// included) and, for a member the holder guards (a child, an elderly
// parent they added), the daily and per-payment limits. It replaces the
// wallet's limits whole: the form shows them all.
type Settings struct {
	Resident string `json:"resident"`
	// FaceOnly: nil for the city's default, 0 to always ask the second
	// factor; at most the city's bound.
	FaceOnly *int64 `json:"face_only,omitempty"`
	Daily    int64  `json:"daily,omitempty"`
	PerPay   int64  `json:"per_payment,omitempty"`
}

// InForce is a wallet's limits as the ledger holds them now, shown
// beside its statement.
type InForce struct {
	// FaceOnly is the resident's choice; nil for the city's default
	// (FaceOnlyDefault).
	FaceOnly        *int64 `json:"face_only,omitempty"`
	FaceOnlyDefault int64  `json:"face_only_default"`
	FaceOnlyMax     int64  `json:"face_only_max"`
	Daily           int64  `json:"daily,omitempty"`
	PerPay          int64  `json:"per_payment,omitempty"`
	// Guardian is who set the daily and per-payment limits.
	Guardian string `json:"guardian,omitempty"`
}

// CardTopUp asks for a card top-up of a household member's wallet. The
// card never reaches the server: PaymentMethod is the id the gateway's
// own script in the browser made of it (pm_...).
type CardTopUp struct {
	Resident      string `json:"resident"`
	Amount        int64  `json:"amount"`
	PaymentMethod string `json:"payment_method"`
	// Request is the browser's id for this top-up: sent again after a
	// lost answer, it charges the card once.
	Request string `json:"request"`
}

// CardResult is a card top-up's state: Posted once the wallet holds the
// yen (at once when the gateway says so, else at its confirmation).
type CardResult struct {
	Intent  string `json:"intent"`
	Posted  bool   `json:"posted"`
	Balance int64  `json:"balance"`
}

// Line is one movement of a wallet, as its statement lists it.
type Line struct {
	// Cause is what posted the line (an op's device.seq, a card
	// payment), once: the statement's key for it, and what a refund's
	// Of names.
	Cause string    `json:"cause"`
	At    time.Time `json:"at"`
	Kind  string    `json:"kind"` // topup, payment, refund; fare (a ride), pass (a commuter pass)
	// Amount is signed as it moves the wallet: a payment is negative.
	Amount int64 `json:"amount"`
	// With is the other side: a shop's facility id, or the top-up's
	// method (cash, card).
	With string `json:"with"`
	// Debt is the part of a payment the wallet did not hold (an offline
	// payment): owed until the next top-up.
	Debt int64 `json:"debt,omitempty"`
	// Of is, for a refund, the payment it reverses.
	Of string `json:"of,omitempty"`
}

// Statement is a wallet's balance and its movements, oldest first.
type Statement struct {
	Resident string `json:"resident"`
	Balance  int64  `json:"balance"`
	Debt     int64  `json:"debt,omitempty"`
	Lines    []Line `json:"lines"`
	// Limits are those in force, shown beside the spending.
	Limits InForce `json:"limits"`
}

// API is the wallet's endpoints.
var API = struct {
	Statement account.Endpoint[account.Person, Statement]
	TopUpCard account.Endpoint[CardTopUp, CardResult]
	// Settings answers with the statement, its new limits in force.
	Settings account.Endpoint[Settings, Statement]
}{
	Statement: account.Post[account.Person, Statement](StatementPath, account.Holder),
	TopUpCard: account.Post[CardTopUp, CardResult](CardTopUpPath, account.Holder),
	Settings:  account.Post[Settings, Statement](SettingsPath, account.Holder),
}
