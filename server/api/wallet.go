package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/checkout"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/app/wallet"
	"smartpass.city/smartpass/server/cardpay"
	"smartpass.city/smartpass/server/ledger"
	"smartpass.city/smartpass/server/publish"
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
	// pub writes a holder's settings as the server's wallet.limits op.
	pub *publish.Writer
}

// routes adds the wallet's endpoints to mux: the statement wherever
// accounts are kept, the card top-up and its webhook where a gateway is
// configured.
func (w *wallets) routes(mux routes.Mux, c *Card) {
	if w.a.reg == nil {
		return
	}
	byHolder(mux, w.a, wallet.API.Statement, "wallet.statement.read", w.statement)
	byHolder(mux, w.a, wallet.API.Settings, "wallet.settings", w.settings)
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

// errNotGuarded is a daily or per-payment limit on a wallet the holder
// does not guard: their own (a guardian's limits are for a child's or an
// elderly parent's wallet, which the holder added to the household).
var errNotGuarded = errors.New("wallet: a guardian's limits are for a family member's wallet")

// errLimits is settings whose amounts cannot be limits (negative, or a
// payment limit above the daily one).
var errLimits = errors.New("wallet: the limits do not fit together")

// settings keeps a household member's wallet limits, set by the holder:
// written as the server's wallet.limits op with the ledger's settings in
// its transaction (so the op and what the ledger enforces never differ),
// then the member's shop profiles written again, so the tills learn the
// face-only limit and the guardian's limits at their next sync. The
// answer is the member's statement with the limits now in force.
func (w *wallets) settings(ctx context.Context, holder account.Account, s wallet.Settings) (wallet.Statement, string, error) {
	if err := w.a.reg.InHousehold(holder.ID, s.Resident); err != nil {
		return wallet.Statement{}, "", err
	}
	if s.Resident == holder.ID && (s.Daily != 0 || s.PerPay != 0) {
		return wallet.Statement{}, "", errNotGuarded
	}
	lim := wallet.Limits{Resident: s.Resident, Guardian: holder.ID, Daily: s.Daily, PerPay: s.PerPay, FaceOnly: s.FaceOnly, Staff: "resident:" + holder.ID}
	if err := lim.Validate(); err != nil {
		return wallet.Statement{}, "", fmt.Errorf("%w: %w", errLimits, err)
	}
	if err := w.ledger.CheckLimits(lim); err != nil {
		return wallet.Statement{}, "", ledgerRefusal(err)
	}
	ops, err := publish.Ops(wallet.OpLimits, []wallet.Limits{lim}, nil)
	if err != nil {
		return wallet.Statement{}, "", err
	}
	if err := w.pub.Write(ctx, ops, w.ledger.SetLimits(lim, &ops[0])); err != nil {
		return wallet.Statement{}, "", fmt.Errorf("wallet: settings of %s: %w", s.Resident, err)
	}
	// As after a top-up: a failure leaves the tills the older profile
	// until the wallet next moves, and is logged.
	if err := w.a.faces.WalletMoved(ctx, s.Resident); err != nil {
		w.a.logger.Error("a shop's payer profiles after new wallet limits", "resident", s.Resident, "err", err)
	}
	st, err := w.ledger.Wallet("resident:"+holder.ID, s.Resident)
	return st, settingsDetail(lim, wallet.ID(ops[0])), err
}

// settingsDetail is the audit's words for a setting: whose, what, and
// the op that carries it.
func settingsDetail(l wallet.Limits, op string) string {
	face := "default"
	if l.FaceOnly != nil {
		face = fmt.Sprintf("¥%d", *l.FaceOnly)
	}
	return fmt.Sprintf("%s: face only %s, ¥%d a day, ¥%d a payment (op %s)", l.Resident, face, l.Daily, l.PerPay, op)
}

// ledgerRefusal is a setting the ledger refused, in its words.
func ledgerRefusal(err error) error {
	if l, ok := errors.AsType[*ledger.Refusal](err); ok {
		return Refusal{Status: http.StatusBadRequest, Code: l.Code, JA: l.JA, EN: l.EN}
	}
	return err
}

// payOf is a resident's wallet as the shops' profiles carry it: the
// offline allowance (the city's cap: checkout's default) and the limits
// in force.
func payOf(led *ledger.Ledger, resident string) (template.Pay, error) {
	allow, blocked, err := led.Offline(resident, checkout.DefaultOfflineCap)
	if err != nil {
		return template.Pay{}, err
	}
	in, err := led.Limits(resident)
	if err != nil {
		return template.Pay{}, err
	}
	return template.Pay{Allowance: allow, Blocked: blocked, FaceOnly: in.FaceOnly, PerPayment: in.PerPay, Daily: in.Daily}, nil
}
