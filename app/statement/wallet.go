package statement

import (
	"fmt"

	"smartpass.city/smartpass/app/wallet"
)

// walletKinds are the ledger's line kinds (wallet.Line.Kind) as the
// statement counts them: a ride's fare and a commuter pass are
// payments like a shop's.
var walletKinds = map[string]Kind{
	"topup":   TopUp,
	"payment": Payment,
	"fare":    Payment,
	"pass":    Payment,
	"refund":  Refund,
}

// FromWallet turns the statement the server sends for one wallet
// (wallet.API.Statement: every line, signed as it moved the wallet, and
// the balance now) into the lines Build months, with the balance before
// the first of them. where names a line's other side as the page shows
// it (a shop's facility id to its name, "cash" to the city desk). A
// line of an unknown kind, or one that does not move the wallet the way
// its kind says, is refused (ErrLine): the page shows no statement
// rather than a wrong one. A payment the wallet did not hold in full is
// marked Offline: only an offline payment may post as debt.
func FromWallet(s wallet.Statement, where func(with string) string) (lines []Line, opening int64, err error) {
	opening = s.Balance
	for _, l := range s.Lines {
		k, ok := walletKinds[l.Kind]
		if !ok || (k.in() != (l.Amount > 0)) || l.Amount == 0 {
			return nil, 0, fmt.Errorf("statement: %w: wallet line %q of %s moves ¥%d", ErrLine, l.Kind, l.Cause, l.Amount)
		}
		opening -= l.Amount
		amount := l.Amount
		if amount < 0 {
			amount = -amount
		}
		lines = append(lines, Line{Op: l.Cause, At: l.At, Kind: k, Amount: amount, Where: where(l.With), Original: l.Of, Offline: l.Debt > 0})
	}
	return lines, opening, nil
}
