package syncproto

// Endpoint is one JSON endpoint of the server's HTTP API: where it is,
// how it is called, what it takes (Req) and what it answers (Resp). The
// server routes and answers each endpoint from its definition, and the
// PWA calls it from the same one, so the two cannot disagree on a path
// or a type; a refusal is an *Error (Answer). The card check's are
// CardAPI; app/admin and app/account define theirs with this type.
type Endpoint[Req, Resp any] struct {
	Path string
	// Get: a GET with no body; otherwise a POST of JSON.
	Get bool
}

// Pattern is the endpoint's route as net/http's ServeMux takes it.
func (e Endpoint[Req, Resp]) Pattern() string {
	if e.Get {
		return "GET " + e.Path
	}
	return "POST " + e.Path
}

// Post is the endpoint at path, a POST of a Req's JSON answered by a
// Resp's.
func Post[Req, Resp any](path string) Endpoint[Req, Resp] {
	return Endpoint[Req, Resp]{Path: path}
}

// None is the request or answer of an endpoint that has none: {} on the
// wire.
type None struct{}

// CardAPI is the card check's endpoints: a nonce (the request is {}),
// then the card's proof over it.
var CardAPI = struct {
	Nonce  Endpoint[None, CardNonce]
	Verify Endpoint[CardProof, CardResult]
}{
	Nonce:  Post[None, CardNonce](CardNoncePath),
	Verify: Post[CardProof, CardResult](CardVerifyPath),
}
