package api

import (
	"encoding/json"
	"io"
	"net/http"

	"smartpass.city/smartpass/syncproto"
)

// decodeRequest reads body (a request's, bounded) as ep's request: the
// handler and the client share the endpoint's definition, so the type
// read is the type the client sent.
func decodeRequest[Req, Resp any](_ syncproto.Endpoint[Req, Resp], body io.Reader) (Req, error) {
	var req Req
	err := json.NewDecoder(body).Decode(&req)
	return req, err
}

// answer writes v, ep's answer, as JSON.
func answer[Req, Resp any](w http.ResponseWriter, _ syncproto.Endpoint[Req, Resp], v Resp) {
	writeJSON(w, v)
}
