package api

import (
	"context"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/wallet"
	"smartpass.city/smartpass/server/cardpay"
	"smartpass.city/smartpass/server/ledger"
	"smartpass.city/smartpass/server/routes"
)

// Card configures card top-ups: Stripe's secret key, its address ("" for
// Stripe itself; stripe-mock's in the demo and tests) and the webhook
// endpoint's signing secret ("": no webhook, only the gateway's own
// answer confirms).
type Card struct {
	Key, URL, WebhookSecret string
}

// wallets serves the wallet's endpoints (app/wallet.API) to the
// household's holder, and the gateway's webhook.
type wallets struct {
	a      *accounts
	ledger *ledger.Ledger
	card   *cardpay.Gateway // nil: no card top-ups on this server
}

// routes adds the wallet's endpoints to mux: the statement wherever
// accounts are kept, the card top-up and its webhook where a gateway is
// configured.
func (w *wallets) routes(mux routes.Mux, c *Card) {
	if w.a.reg == nil {
		return
	}
	byHolder(mux, w.a, wallet.API.Statement, "wallet.statement.read", w.statement)
	if w.card == nil {
		return
	}
	byHolder(mux, w.a, wallet.API.TopUpCard, "wallet.topup.card", w.topUp)
	if c.WebhookSecret != "" {
		mux.Handle("POST "+cardpay.WebhookPath, w.card.Webhook(c.WebhookSecret, w.a.logger))
	}
}

// statement serves a household member's wallet statement (the ledger
// audits the read as the holder's).
func (w *wallets) statement(ctx context.Context, holder account.Account, p account.Person) (wallet.Statement, string, error) {
	if err := w.a.reg.InHousehold(holder.ID, p.Resident); err != nil {
		return wallet.Statement{}, "", err
	}
	s, err := w.ledger.Wallet("resident:"+holder.ID, p.Resident)
	return s, p.Resident, err
}

// topUp charges the card the browser tokenised and, once the gateway
// confirms, credits a household member's wallet: a guardian funds a
// child's or an elderly parent's.
func (w *wallets) topUp(ctx context.Context, holder account.Account, t wallet.CardTopUp) (wallet.CardResult, string, error) {
	if err := w.a.reg.InHousehold(holder.ID, t.Resident); err != nil {
		return wallet.CardResult{}, "", err
	}
	// The request id is the holder's: another account's cannot collide.
	r, err := w.card.TopUp(ctx, t.Resident, t.Amount, t.PaymentMethod, holder.ID+"-"+t.Request)
	if err != nil {
		return wallet.CardResult{}, "", err
	}
	if r.Posted {
		// The shops' terminals learn the new offline allowance; a
		// failure leaves them the older, smaller one, and is logged.
		if err := w.a.faces.WalletMoved(ctx, t.Resident); err != nil {
			w.a.logger.Error("a shop's payer profiles after a card top-up", "resident", t.Resident, "err", err)
		}
	}
	b, err := w.ledger.Balance(ledger.Wallet(t.Resident))
	return wallet.CardResult{Intent: r.Intent, Posted: r.Posted, Balance: b.Balance}, t.Resident, err
}

// cardRefusal is a Refusal of the card gateway's, in its own words.
func cardRefusal(status int, r *cardpay.Refusal) Refusal {
	return Refusal{Status: status, Code: r.Code, JA: r.JA, EN: r.EN}
}
