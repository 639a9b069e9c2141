package cardpay

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"
)

// WebhookPath is where the gateway sends its events.
const WebhookPath = "/wallet/card/webhook"

// maxEvent bounds an event's body: Stripe's are a few kilobytes.
const maxEvent = 64 << 10

// Webhook serves the gateway's events: a payment_intent.succeeded, signed
// with the endpoint's secret, confirms its top-up (Confirm: checked at
// the gateway, posted once). The event's body is trusted for nothing but
// the intent's id. Any other event, or one for an intent this server did
// not create or that has not succeeded, is answered 200 and posts
// nothing; a failure of the store or the gateway is answered 503, so the
// gateway delivers the event again.
func (g *Gateway) Webhook(secret string, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEvent))
		if err != nil {
			http.Error(w, "event too large", http.StatusRequestEntityTooLarge)
			return
		}
		ev, err := webhook.ConstructEventWithOptions(body, r.Header.Get("Stripe-Signature"), secret,
			// The intent is retrieved again with this client: the event's
			// API version does not matter.
			webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
		if err != nil {
			logger.Warn("card webhook: refused an event", "err", err, "remote", r.RemoteAddr)
			http.Error(w, "signature", http.StatusBadRequest)
			return
		}
		if ev.Type != stripe.EventTypePaymentIntentSucceeded {
			w.WriteHeader(http.StatusOK)
			return
		}
		var pi struct {
			ID string `json:"id"`
		}
		if ev.Data == nil || json.Unmarshal(ev.Data.Raw, &pi) != nil || pi.ID == "" {
			http.Error(w, "no payment intent in the event", http.StatusBadRequest)
			return
		}
		res, err := g.Confirm(r.Context(), pi.ID)
		var ref *Refusal
		switch {
		case errors.As(err, &ref) && ref != ErrGateway:
			logger.Warn("card webhook: nothing posted", "intent", pi.ID, "why", err)
		case err != nil:
			logger.Error("card webhook: confirmation failed; the gateway will send it again", "intent", pi.ID, "err", err)
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(res)
	})
}
