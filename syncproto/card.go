package syncproto

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// The server's check of a My Number Card's JPKI proof, over HTTP: POST
// CardNoncePath for a nonce (CardNonce), have the card sign it, then POST
// CardVerifyPath a CardProof; the answer is a CardResult, or an HTTP
// error whose body is an Error with one of the Card codes below. A nonce
// is good for one proof, for a few minutes.
const (
	CardNoncePath  = "/card/nonce"
	CardVerifyPath = "/card/verify"
)

// CardNonce is the server's challenge for a card to sign.
type CardNonce struct {
	Nonce []byte `json:"nonce"`
}

// CardProof is what a card presents: its certificate (DER) and its
// PKCS#1 v1.5 SHA-256 signature over Nonce.
type CardProof struct {
	Nonce []byte `json:"nonce"`
	Cert  []byte `json:"cert"`
	Sig   []byte `json:"sig"`
}

// CardResult is a verified proof. A user-authentication certificate does
// not say who the holder is; Serial and Issuer name the certificate.
type CardResult struct {
	Serial   string    `json:"serial"` // hexadecimal
	Issuer   string    `json:"issuer"`
	NotAfter time.Time `json:"not_after"`
}

// Refusal codes of CardVerifyPath: the PWA turns each into a sentence.
const (
	CodeCardUntrusted   = "card_untrusted"   // not from a trusted JPKI CA
	CodeCardExpired     = "card_expired"     // outside its validity dates
	CodeCardRevoked     = "card_revoked"     // revoked (lost, or the holder moved away)
	CodeCardSignature   = "card_signature"   // the signature does not match the certificate
	CodeCardNonce       = "card_nonce"       // the nonce is unknown, used already, or expired
	CodeCardNoStatus    = "card_no_status"   // no revocation data: cannot tell
	CodeCardUnavailable = "card_unavailable" // the server has no JPKI trust anchors
)

// CardNonceAnswer reads the server's answer to a nonce request.
func CardNonceAnswer(status int, body []byte) ([]byte, error) {
	n, err := Answer[CardNonce]("card nonce", status, body)
	if err == nil {
		err = n.Check()
	}
	return n.Nonce, err
}

// Check refuses an answer without a nonce: a card must never sign
// nothing.
func (n CardNonce) Check() error {
	if len(n.Nonce) == 0 {
		return fmt.Errorf("syncproto: card nonce: %w: no nonce", ErrMalformed)
	}
	return nil
}

// CardAnswer reads the server's answer to a proof: the result, or the
// server's refusal as an *Error.
func CardAnswer(status int, body []byte) (CardResult, error) {
	return Answer[CardResult]("card verify", status, body)
}

// Answer reads the JSON answer of the server's HTTP endpoint op: a T, or
// the server's refusal as an *Error.
func Answer[T any](op string, status int, body []byte) (T, error) {
	var out T
	if status != http.StatusOK {
		var ef Error
		if json.Unmarshal(body, &ef) == nil && ef.Code != "" {
			return out, &ef
		}
		return out, fmt.Errorf("syncproto: %s: HTTP %d %s", op, status, http.StatusText(status))
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return out, fmt.Errorf("syncproto: %s: %w: %v", op, ErrMalformed, err)
	}
	return out, nil
}
