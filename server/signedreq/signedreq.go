// Package signedreq reads a request signed by an account's holder: the
// bounded account.Signed envelope, its nonce and signature checked by
// the residents registry (residents.Registry.Authenticate), and its body
// decoded as the endpoint's request (nothing for account.None). The
// account API, the hospital visit's and the hometown-tax donor's
// endpoints all read their holders' requests here, so the check is one
// piece of code; each package still answers and audits in its own
// words, translating the typed errors below into its refusal table.
package signedreq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/server/residents"
	"smartpass.city/smartpass/server/routes"
)

// The reader's own refusals; the registry's (residents.ErrSigned,
// jpki.ErrNonce, ...) pass through as they are.
var (
	// ErrMalformed is a request that is not a signed envelope in JSON,
	// or is larger than the reader's bound.
	ErrMalformed = errors.New("signedreq: the request is not a signed request in JSON")
	// ErrNoRegistry is a server that keeps no accounts (no JPKI
	// anchors): nobody can be authenticated.
	ErrNoRegistry = errors.New("signedreq: this server keeps no accounts")
	// ErrBody is a signed body that is not the endpoint's request. It
	// wraps residents.ErrRequest, the registry's word for a request
	// whose fields are not valid.
	ErrBody = fmt.Errorf("signedreq: the signed body is not the request: %w", residents.ErrRequest)
)

// Reader reads holders' requests.
type Reader struct {
	// Registry authenticates the signer; nil: ErrNoRegistry.
	Registry *residents.Registry
	// Limit bounds the envelope in bytes.
	Limit int64
}

// Signed reads r's body as a signed envelope, bounded; ErrMalformed if
// it is not one. A device's request (signed by its enrolled key, not an
// account's) is read here too, then checked by its caller.
func (rd Reader) Signed(w http.ResponseWriter, r *http.Request) (account.Signed, error) {
	var s account.Signed
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, rd.Limit)).Decode(&s); err != nil {
		return s, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return s, nil
}

// Holder reads a request to path signed by an account's holder: the
// holder, and the body as a Req. On any error the account is the zero
// one (nobody proven), unless only the body was wrong (ErrBody).
func Holder[Req any](rd Reader, w http.ResponseWriter, r *http.Request, path string) (account.Account, Req, error) {
	var req Req
	if rd.Registry == nil {
		return account.Account{}, req, ErrNoRegistry
	}
	s, err := rd.Signed(w, r)
	if err != nil {
		return account.Account{}, req, err
	}
	holder, body, err := rd.Registry.Authenticate(path, s)
	if err != nil {
		return account.Account{}, req, err
	}
	req, err = Body[Req](body)
	return holder, req, err
}

// Body decodes a signed body as a T: account.None takes nothing and
// ignores what it is sent; anything else that does not decode is
// ErrBody.
func Body[T any](body []byte) (T, error) {
	var v T
	if _, none := any(v).(account.None); none {
		return v, nil
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return v, fmt.Errorf("%w: %v", ErrBody, err)
	}
	return v, nil
}

// Do serves a holder's request: the answer, a detail for the audit log
// (what the request concerned), or an error.
type Do[Req, Resp any] func(ctx context.Context, holder account.Account, req Req) (Resp, string, error)

// Answer sends out, or err's refusal in the package's words, and audits
// either as action: on holder when one is proven (holder.ID not empty),
// else counted by source.
type Answer func(w http.ResponseWriter, r *http.Request, action string, holder account.Account, detail string, out any, err error)

// Route adds ep to mux: read by rd, served by do when the holder is
// proven and the body decodes, answered by answer whatever happened.
func Route[Req, Resp any](mux routes.Mux, ep account.Endpoint[Req, Resp], rd Reader, answer Answer, action string, do Do[Req, Resp]) {
	mux.HandleFunc(ep.Pattern(), func(w http.ResponseWriter, r *http.Request) {
		var out Resp
		detail := ""
		holder, req, err := Holder[Req](rd, w, r, ep.Path)
		if err == nil {
			out, detail, err = do(r.Context(), holder, req)
		}
		answer(w, r, action, holder, detail, out, err)
	})
}
