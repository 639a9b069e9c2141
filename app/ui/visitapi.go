package ui

import (
	"context"

	"smartpass.city/smartpass/app/account"
)

// VisitAPI is the hospital visit's endpoints (app/visit) as the screens
// call them: post req to path, signed as by says (the account's holder
// on a resident's phone, the device on a reception tablet), and decode
// the answer into resp; a refusal is a *syncproto.Error.
type VisitAPI interface {
	Call(ctx context.Context, path string, by account.Signer, req, resp any) error
}

// callVisit calls ep through api with its own request and answer types,
// so a screen cannot send one endpoint's request to another.
func callVisit[Req, Resp any](ctx context.Context, api VisitAPI, ep account.Endpoint[Req, Resp], req Req) (Resp, error) {
	var out Resp
	err := api.Call(ctx, ep.Path, ep.By, req, &out)
	return out, err
}

// words is a pair of Japanese and English in the page's language.
func (l *live) words(w [2]string) string {
	if l.lang == langEN {
		return w[1]
	}
	return w[0]
}
