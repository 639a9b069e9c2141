// Package cardpay tops up a resident's wallet by card through Stripe's
// Go client (stripe-go), against Stripe or, in tests and the demo, Stripe's
// own mock server (stripe-mock).
//
// Card details never reach this server: the resident's browser turns the
// card into a PaymentMethod with Stripe's client-side library, and the
// server sees only its id (in tests, Stripe's test ids such as
// pm_card_visa, which stripe-mock accepts). The server creates and
// confirms a PaymentIntent for the amount, remembers which wallet it is
// for, and posts the top-up only when a confirmation (the webhook's
// payment_intent.succeeded, or the create's own answer) is checked
// against Stripe: the intent retrieved from the gateway, never the
// webhook's body, must have succeeded for the amount remembered. A
// second confirmation posts nothing (the ledger decides a cause once).
package cardpay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/stripe/stripe-go/v82"

	"smartpass.city/smartpass/app/wallet"
	"smartpass.city/smartpass/server/ledger"
	"smartpass.city/smartpass/server/store"
)

// kindIntent keeps the intents this server created: id -> intent.
const kindIntent = "cardpay.intent"

// kindRequest keeps which intent each request made: idempotency key ->
// intent id. A retried request confirms that intent again rather than
// creating another, whether or not the gateway keeps idempotency keys
// (Stripe does; stripe-mock keeps nothing).
const kindRequest = "cardpay.request"

// Actor is who the audit log names for a card top-up.
const Actor = "gateway:stripe"

// intent is what the server remembers of a PaymentIntent it created.
type intent struct {
	Resident string    `json:"resident"`
	Amount   int64     `json:"amount"`
	Created  time.Time `json:"created"`
	// Shop is, for a hometown-tax donation, the counter's shop: the
	// confirmation posts to the city's Donations account there instead
	// of Resident's wallet (Resident is then the donor).
	Shop string `json:"shop,omitempty"`
}

// posting is where the intent's money goes once confirmed.
func (in intent) posting() (kind string, to ledger.Account) {
	if in.Shop != "" {
		return ledger.KindDonation, ledger.Donations(in.Shop)
	}
	return ledger.KindTopUp, ledger.Wallet(in.Resident)
}

// Refusal is a top-up the gateway or this package turned down, with its
// own words (Japanese first) and a code the caller translates: the
// ledger's refusal type, so a wallet's refusals are one kind of error
// whichever package words them.
type Refusal = ledger.Refusal

// The refusals, compared with errors.Is.
var (
	// ErrDeclined: the card issuer declined (Stripe's card_error).
	ErrDeclined = &Refusal{Code: "card-declined", JA: "カードが使えませんでした。別のカードをお試しください。", EN: "The card was declined; try another card."}
	// ErrGateway: the gateway refused the request itself (an
	// invalid_request_error: a bad key, a malformed request).
	ErrGateway = &Refusal{Code: "card-gateway", JA: "カード決済サービスが受け付けませんでした。市役所にお問い合わせください。", EN: "The card payment service refused the request; ask the city office."}
	// ErrUnknownIntent: a confirmation of an intent this server did not
	// create (a forged or stray webhook).
	ErrUnknownIntent = &Refusal{Code: "card-unknown", JA: "この決済は見つかりません。", EN: "This card payment is not known here."}
	// ErrNotSucceeded: the intent has not (yet) succeeded at the gateway.
	ErrNotSucceeded = &Refusal{Code: "card-pending", JA: "カード決済がまだ完了していません。", EN: "The card payment has not completed."}
	// ErrMismatch: the gateway's intent is for another amount or currency
	// than the top-up.
	ErrMismatch = &Refusal{Code: "card-mismatch", JA: "決済の金額が入金額と合いません。", EN: "The card payment's amount does not match the top-up."}
	// ErrInvalid: a top-up of no amount, of too much, or with no card.
	ErrInvalid = &Refusal{Code: "card-invalid", JA: "入金の内容が正しくありません。", EN: "The top-up is not valid."}
)

var pmRE = regexp.MustCompile(`^pm_[A-Za-z0-9_]{1,200}$`)

// Gateway tops up wallets by card.
type Gateway struct {
	sc     *stripe.Client
	recs   store.Records
	ledger *ledger.Ledger
	// Now is the clock; tests set it.
	Now func() time.Time
}

// New returns a gateway that calls Stripe with the secret key, at url
// ("" for Stripe itself; stripe-mock's address in tests and the demo),
// keeping its intents in recs and posting to led.
func New(key, url string, recs store.Records, led *ledger.Ledger) *Gateway {
	cfg := &stripe.BackendConfig{
		HTTPClient:        &http.Client{Timeout: 30 * time.Second},
		MaxNetworkRetries: stripe.Int64(2),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelError},
	}
	if url != "" {
		cfg.URL = stripe.String(url)
	}
	sc := stripe.NewClient(key, stripe.WithBackends(stripe.NewBackendsWithConfig(cfg)))
	return &Gateway{sc: sc, recs: recs, ledger: led, Now: time.Now}
}

// Result is a top-up's state after TopUp or Confirm.
type Result struct {
	Intent string `json:"intent"`
	// Posted: the wallet holds the yen (now or before).
	Posted bool         `json:"posted"`
	Entry  ledger.Entry `json:"entry,omitzero"`
}

// TopUp charges amount yen to the card behind paymentMethod (created in
// the resident's browser) for resident's wallet. request is the client's
// id for this top-up: the gateway's idempotency key, so a retried request
// charges once. When the gateway answers that the payment succeeded, the
// top-up is confirmed at once; otherwise the webhook's Confirm posts it.
func (g *Gateway) TopUp(ctx context.Context, resident string, amount int64, paymentMethod, request string) (Result, error) {
	t := wallet.TopUpCash{Resident: resident, Amount: amount, Staff: Actor}
	if err := t.Validate(); err != nil || !pmRE.MatchString(paymentMethod) || request == "" {
		return Result{}, fmt.Errorf("%w: %v", ErrInvalid, cmpErr(err, "a card (PaymentMethod id) and a request id"))
	}
	return g.charge(ctx, intent{Resident: resident, Amount: amount}, paymentMethod, "topup-"+request, "wallet top-up")
}

// Donate charges a hometown-tax donation of amount yen, made by donor at
// shop's counter, to the card behind paymentMethod, and posts it to the
// city's Donations account of the shop once the gateway's intent,
// fetched again, has succeeded for that amount. request is the counter's
// id for this donation (the idempotency key: a retried request charges
// once). A card the issuer declines is ErrDeclined, and posts nothing.
func (g *Gateway) Donate(ctx context.Context, shop, donor string, amount int64, paymentMethod, request string) (Result, error) {
	if shop == "" || donor == "" || amount <= 0 || !pmRE.MatchString(paymentMethod) || request == "" {
		return Result{}, fmt.Errorf("%w: a donation needs a shop, a donor, an amount, a card (PaymentMethod id) and a request id", ErrInvalid)
	}
	return g.charge(ctx, intent{Resident: donor, Amount: amount, Shop: shop}, paymentMethod, "donation-"+shop+"-"+request, "hometown-tax donation")
}

// charge creates and confirms a PaymentIntent for in's amount, remembers
// in under the intent's id and, when the gateway answers that it
// succeeded, confirms it at once (Confirm: fetched again, posted once).
func (g *Gateway) charge(ctx context.Context, in intent, paymentMethod, key, purpose string) (Result, error) {
	var made string
	if err := g.recs.View(func(tx store.Tx) error {
		b, err := tx.Get(kindRequest, key)
		made = string(b)
		return err
	}); err == nil {
		return g.Confirm(ctx, made)
	} else if !errors.Is(err, store.ErrNotFound) {
		return Result{}, fmt.Errorf("cardpay: request %s: %w", key, err)
	}
	p := &stripe.PaymentIntentCreateParams{
		Amount:             stripe.Int64(in.Amount),
		Currency:           stripe.String(string(stripe.CurrencyJPY)),
		PaymentMethod:      stripe.String(paymentMethod),
		PaymentMethodTypes: stripe.StringSlice([]string{"card"}),
		Confirm:            stripe.Bool(true),
	}
	p.AddMetadata("resident", in.Resident)
	p.AddMetadata("purpose", purpose)
	if in.Shop != "" {
		p.AddMetadata("shop", in.Shop)
	}
	p.SetIdempotencyKey(key)
	pi, err := g.sc.V1PaymentIntents.Create(ctx, p)
	if err != nil {
		return Result{}, gatewayError(err)
	}
	in.Created = g.Now().UTC()
	if err := g.recs.Update(func(tx store.Tx) error {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		if err := tx.Put(kindIntent, pi.ID, b); err != nil {
			return err
		}
		return tx.Put(kindRequest, key, []byte(pi.ID))
	}); err != nil {
		return Result{}, fmt.Errorf("cardpay: remember intent %s: %w", pi.ID, err)
	}
	if pi.Status != stripe.PaymentIntentStatusSucceeded {
		return Result{Intent: pi.ID}, nil
	}
	return g.Confirm(ctx, pi.ID)
}

func cmpErr(err error, otherwise string) string {
	if err != nil {
		return err.Error()
	}
	return otherwise
}

// Confirm is the webhook's confirmation of intent id (the event's
// payment_intent.succeeded names it): the intent is retrieved from the
// gateway and must be one this server created, succeeded, for the amount
// and currency remembered. It posts the top-up once; a second
// confirmation answers Posted with the same entry and posts nothing.
func (g *Gateway) Confirm(ctx context.Context, id string) (Result, error) {
	var in intent
	err := g.recs.View(func(tx store.Tx) error {
		b, err := tx.Get(kindIntent, id)
		if err != nil {
			return err
		}
		return json.Unmarshal(b, &in)
	})
	if errors.Is(err, store.ErrNotFound) {
		return Result{}, fmt.Errorf("%w: %s", ErrUnknownIntent, id)
	}
	if err != nil {
		return Result{}, fmt.Errorf("cardpay: intent %s: %w", id, err)
	}
	pi, err := g.sc.V1PaymentIntents.Retrieve(ctx, id, nil)
	if err != nil {
		return Result{Intent: id}, gatewayError(err)
	}
	switch {
	case pi.Status != stripe.PaymentIntentStatusSucceeded:
		return Result{Intent: id}, fmt.Errorf("%w: %s is %s", ErrNotSucceeded, id, pi.Status)
	case pi.Currency != stripe.CurrencyJPY || pi.AmountReceived != in.Amount:
		return Result{Intent: id}, fmt.Errorf("%w: %s received %d %s, the top-up is ¥%d", ErrMismatch, id, pi.AmountReceived, pi.Currency, in.Amount)
	}
	kind, to := in.posting()
	e, posted, err := g.ledger.Post(ledger.Transfer{Cause: "card:" + id, Kind: kind,
		From: ledger.Clearing(ledger.Card), To: to, Amount: in.Amount, Actor: Actor}, g.Now())
	if err != nil {
		return Result{Intent: id}, fmt.Errorf("cardpay: post %s: %w", id, err)
	}
	if !posted {
		e, _, _, err = g.ledger.Posted("card:" + id)
	}
	return Result{Intent: id, Posted: true, Entry: e}, err
}

// gatewayError translates stripe-go's error into this package's.
func gatewayError(err error) error {
	var se *stripe.Error
	if !errors.As(err, &se) {
		return fmt.Errorf("cardpay: the gateway did not answer: %w", err)
	}
	switch {
	case se.Type == stripe.ErrorTypeCard || se.Code == stripe.ErrorCodeCardDeclined:
		return fmt.Errorf("%w: %s (%s)", ErrDeclined, se.Code, se.DeclineCode)
	case se.Type == stripe.ErrorTypeInvalidRequest:
		return fmt.Errorf("%w: %d %s", ErrGateway, se.HTTPStatusCode, se.Msg)
	}
	return fmt.Errorf("cardpay: the gateway failed: %w", err)
}
