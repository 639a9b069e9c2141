package cardpay

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stripe/stripe-go/v82/webhook"

	"smartpass.city/smartpass/server/cardpay/stripemock"
)

// TestWebhook: the gateway's signed payment_intent.succeeded confirms a
// top-up the create left pending, once however often it is delivered;
// a forged signature, another event, a stranger's intent post nothing.
func TestWebhook(t *testing.T) {
	ctx := context.Background()
	b := newBooks(t)
	// The create answers requires_payment_method (stripe-mock's bundled
	// fixture): the top-up waits for the webhook.
	pending, err := New("sk_test_123", stripemock.Start(t, ""), b.log, b.led).TopUp(ctx, "r1", 3000, "pm_card_visa", "req-1")
	if err != nil || pending.Posted {
		t.Fatalf("top-up: %+v, %v", pending, err)
	}
	// By the time the event comes, the intent has succeeded.
	g := New("sk_test_123", stripemock.Start(t, stripemock.Succeeded), b.log, b.led)
	const secret = "whsec_test"
	h := g.Webhook(secret, slog.New(slog.DiscardHandler))
	event := func(typ, intent string) string {
		return fmt.Sprintf(`{"id":"evt_1","object":"event","api_version":"2020-08-27","type":%q,"data":{"object":{"id":%q,"object":"payment_intent"}}}`, typ, intent)
	}
	deliver := func(body, key string) int {
		signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: []byte(body), Secret: key})
		req := httptest.NewRequest(http.MethodPost, WebhookPath, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Stripe-Signature", signed.Header)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	for _, tc := range []struct {
		name   string
		body   string
		key    string
		status int
		wallet int64
	}{
		{"forged signature", event("payment_intent.succeeded", pending.Intent), "whsec_other", http.StatusBadRequest, 0},
		{"another event", event("payment_intent.created", pending.Intent), secret, http.StatusOK, 0},
		{"a stranger's intent", event("payment_intent.succeeded", "pi_stranger"), secret, http.StatusOK, 0},
		{"succeeded", event("payment_intent.succeeded", pending.Intent), secret, http.StatusOK, 3000},
		{"delivered again", event("payment_intent.succeeded", pending.Intent), secret, http.StatusOK, 3000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := deliver(tc.body, tc.key); got != tc.status {
				t.Fatalf("answered %d, want %d", got, tc.status)
			}
			if got := b.wallet(t, "r1"); got != tc.wallet {
				t.Fatalf("wallet ¥%d, want ¥%d", got, tc.wallet)
			}
		})
	}
}
