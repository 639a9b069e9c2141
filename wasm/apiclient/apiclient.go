//go:build js && wasm

// Package apiclient calls the server's HTTP API from the browser, through
// its fetch, by the endpoints' definitions the server routes too (path,
// request, answer, and for the account API who signs): the card check
// (syncproto.CardAPI), the admin API (admin.API, through Admin) and the
// account API (account.API), so the PWA and the server share one
// definition of each endpoint; and device registration by its path. A
// refusal comes back as the server's *syncproto.Error.
package apiclient

import (
	"context"
	"encoding/json"
	"fmt"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/syncproto"
	"smartpass.city/smartpass/wasm/fetch"
)

// Signer signs a request's message with a key the server knows: the
// account's key or the device's (devkey.Keys).
type Signer interface {
	Sign(ctx context.Context, msg []byte) ([]byte, error)
}

// Client is the server at Base (scheme://host, the page's origin).
type Client struct {
	Base string
}

// Post sends req as JSON to the server's path and reads the answer: a
// T, or the server's refusal as a *syncproto.Error.
func Post[T any](ctx context.Context, c Client, path string, req any) (T, error) {
	var zero T
	b, err := json.Marshal(req)
	if err != nil {
		return zero, err
	}
	status, body, err := fetch.Do(ctx, "POST", c.Base+path, b)
	if err != nil {
		return zero, err
	}
	return syncproto.Answer[T](path, status, body)
}

// Do calls the endpoint ep with req: a POST of its JSON, or a GET. The
// answer is the endpoint's, or the server's refusal.
func Do[Req, Resp any](ctx context.Context, c Client, ep syncproto.Endpoint[Req, Resp], req Req) (Resp, error) {
	if !ep.Get {
		return Post[Resp](ctx, c, ep.Path, req)
	}
	status, body, err := fetch.Do(ctx, "GET", c.Base+ep.Path, nil)
	if err != nil {
		var zero Resp
		return zero, err
	}
	return syncproto.Answer[Resp](ep.Path, status, body)
}

// CardNonce asks the server for a nonce to sign, used once: a card signs
// it, and so does every signed request.
func (c Client) CardNonce(ctx context.Context) ([]byte, error) {
	n, err := Do(ctx, c, syncproto.CardAPI.Nonce, syncproto.None{})
	if err != nil {
		return nil, err
	}
	return n.Nonce, n.Check()
}

// CheckCard has the server verify a card's proof.
func (c Client) CheckCard(ctx context.Context, p syncproto.CardProof) (syncproto.CardResult, error) {
	return Do(ctx, c, syncproto.CardAPI.Verify, p)
}

// Admin is the admin API over a Client, as the admin screen calls it
// (ui.AdminAPI): the screen picks the endpoint of admin.API, and with it
// the request and answer types.
type Admin struct{ Client }

// Call posts req to the admin endpoint at path and decodes its answer
// into resp; a refusal is a *syncproto.Error.
func (a Admin) Call(ctx context.Context, path string, req, resp any) error {
	raw, err := Post[json.RawMessage](ctx, a.Client, path, req)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, resp); err != nil {
		return fmt.Errorf("apiclient: %s: %w: %v", path, syncproto.ErrMalformed, err)
	}
	return nil
}

// Call calls an endpoint that nobody signs (ep.By is account.Unsigned):
// a POST of req, or a GET.
func Call[Req, Resp any](ctx context.Context, c Client, ep account.Endpoint[Req, Resp], req Req) (Resp, error) {
	if ep.By != account.Unsigned {
		var zero Resp
		return zero, fmt.Errorf("apiclient: %s must be signed", ep.Path)
	}
	return Do(ctx, c, ep.Endpoint, req)
}

// CallSigned calls an endpoint signed by signer (an account's id, or a
// desk device's), with a fresh nonce from the server, signed with keys.
func CallSigned[Req, Resp any](ctx context.Context, c Client, ep account.Endpoint[Req, Resp], signer string, keys Signer, req Req) (Resp, error) {
	var zero Resp
	if ep.By == account.Unsigned {
		return zero, fmt.Errorf("apiclient: %s is not signed", ep.Path)
	}
	signed, err := sign(ctx, c, ep.Path, signer, keys, req)
	if err != nil {
		return zero, err
	}
	return Post[Resp](ctx, c, ep.Path, signed)
}

// Signed posts req to path signed by signer with keys, as CallSigned
// does, and decodes the answer into resp: for a screen that picks its
// endpoint from a definition it holds (ui.VisitAPI).
func Signed(ctx context.Context, c Client, path, signer string, keys Signer, req, resp any) error {
	signed, err := sign(ctx, c, path, signer, keys, req)
	if err != nil {
		return err
	}
	raw, err := Post[json.RawMessage](ctx, c, path, signed)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, resp); err != nil {
		return fmt.Errorf("apiclient: %s: %w: %v", path, syncproto.ErrMalformed, err)
	}
	return nil
}

// sign is req for path with a fresh nonce from the server, signed.
func sign(ctx context.Context, c Client, path, signer string, keys Signer, req any) (account.Signed, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return account.Signed{}, err
	}
	nonce, err := c.CardNonce(ctx)
	if err != nil {
		return account.Signed{}, err
	}
	sig, err := keys.Sign(ctx, account.Message(path, nonce, b))
	if err != nil {
		return account.Signed{}, err
	}
	return account.Signed{Signer: signer, Nonce: nonce, Body: b, Sig: sig}, nil
}
