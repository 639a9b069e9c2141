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
)

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
}

// API is the wallet's endpoints.
var API = struct {
	Statement account.Endpoint[account.Person, Statement]
	TopUpCard account.Endpoint[CardTopUp, CardResult]
}{
	Statement: account.Post[account.Person, Statement](StatementPath, account.Holder),
	TopUpCard: account.Post[CardTopUp, CardResult](CardTopUpPath, account.Holder),
}
