// Package refusal is the shape of a request the server turns down for a
// reason the caller can act on, shared by every package that routes
// endpoints (the account API, the hospital visit's), so that each words
// its own refusals and all of them reach the client the same way.
package refusal

import (
	"encoding/json"
	"net/http"

	"smartpass.city/smartpass/syncproto"
)

// Refusal is a request turned down: its code (what the PWA words for
// the screen), the words for the person in Japanese and English (the
// answer's message, "日本語 / English"), and the HTTP status.
type Refusal struct {
	Status int
	Code   string
	JA, EN string
}

// Error implements error: a Refusal can be returned where an error is.
func (r Refusal) Error() string { return r.Code + ": " + r.EN }

// Message is what the person is told.
func (r Refusal) Message() string { return r.JA + " / " + r.EN }

// Send answers ref with msg as its message (ref.Message() unless a
// staff member must be told what to fix in what they typed).
func Send(w http.ResponseWriter, ref Refusal, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(ref.Status)
	json.NewEncoder(w).Encode(syncproto.Error{Code: ref.Code, Message: msg})
}
