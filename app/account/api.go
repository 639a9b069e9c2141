package account

import (
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/syncproto"
)

// Endpoint is one endpoint of the server's account API: where it is, how
// it is called, what it takes (Req) and what it answers (Resp). The
// server routes each endpoint from its definition here and the PWA calls
// it from the same definition, so the two cannot disagree on a path or a
// type. A refusal is a syncproto.Error with one of the codes above.
type Endpoint[Req, Resp any] struct {
	// Endpoint is the path and how it is called (a GET, or a POST of
	// JSON): the part every endpoint of the server has.
	syncproto.Endpoint[Req, Resp]
	// By says who signs the request: nobody (the body is a Req), the
	// account's holder, or a city desk's registrar device (the body is
	// a Signed whose Body is a Req).
	By Signer
}

// Signer is who signs an endpoint's requests.
type Signer int

// The signers of the account API.
const (
	// Unsigned: the body is the request itself (a card's proof is in it).
	Unsigned Signer = iota
	// Holder: the account's holder, with the account's device key.
	Holder
	// Desk: a city desk's device (role registrar), with its device key.
	Desk
	// Device: an enrolled facility device (a hospital's reception
	// tablet), with its device key; the route says which role may.
	Device
)

// None is the request or answer of an endpoint that has none: {} on the
// wire.
type None = syncproto.None

// Post is the endpoint at path, a POST signed by by: how every package
// with endpoints on the account API (wallet, furusato) defines them.
func Post[Req, Resp any](path string, by Signer) Endpoint[Req, Resp] {
	return Endpoint[Req, Resp]{Endpoint: syncproto.Post[Req, Resp](path), By: by}
}

// API is every endpoint of the account API.
var API = struct {
	Open, Recover Endpoint[Request, Account]
	AddMember     Endpoint[Member, Account]
	Household     Endpoint[None, Household]
	RegisterFace  Endpoint[template.Template, None]
	DeleteFace    Endpoint[Person, None]
	Delete        Endpoint[None, None]
	History       Endpoint[None, []Visit]
	Consent       Endpoint[Consent, None]
	Pass          Endpoint[Person, Pass]
	Facilities    Endpoint[None, []facility.Facility]
	DeskEnroll    Endpoint[Supervised, Account]
	DeskHousehold Endpoint[HouseholdCap, None]
}{
	Open:          Post[Request, Account](CreatePath, Unsigned),
	Recover:       Post[Request, Account](RecoverPath, Unsigned),
	AddMember:     Post[Member, Account](MembersPath, Holder),
	Household:     Post[None, Household](HouseholdPath, Holder),
	RegisterFace:  Post[template.Template, None](FacePath, Holder),
	DeleteFace:    Post[Person, None](FaceDeletePath, Holder),
	Delete:        Post[None, None](DeletePath, Holder),
	History:       Post[None, []Visit](HistoryPath, Holder),
	Consent:       Post[Consent, None](ConsentPath, Holder),
	Pass:          Post[Person, Pass](PassPath, Holder),
	Facilities:    Endpoint[None, []facility.Facility]{Endpoint: syncproto.Endpoint[None, []facility.Facility]{Path: FacilitiesPath, Get: true}},
	DeskEnroll:    Post[Supervised, Account](DeskPath, Desk),
	DeskHousehold: Post[HouseholdCap, None](DeskHouseholdPath, Desk),
}
