package account

import (
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/template"
)

// Endpoint is one endpoint of the server's account API: where it is, how
// it is called, what it takes (Req) and what it answers (Resp). The
// server routes each endpoint from its definition here and the PWA calls
// it from the same definition, so the two cannot disagree on a path or a
// type. A refusal is a syncproto.Error with one of the codes above.
type Endpoint[Req, Resp any] struct {
	Path string
	// Get: a GET with no body; otherwise a POST of JSON.
	Get bool
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
type None struct{}

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
	Open:          Endpoint[Request, Account]{Path: CreatePath},
	Recover:       Endpoint[Request, Account]{Path: RecoverPath},
	AddMember:     Endpoint[Member, Account]{Path: MembersPath, By: Holder},
	Household:     Endpoint[None, Household]{Path: HouseholdPath, By: Holder},
	RegisterFace:  Endpoint[template.Template, None]{Path: FacePath, By: Holder},
	DeleteFace:    Endpoint[Person, None]{Path: FaceDeletePath, By: Holder},
	Delete:        Endpoint[None, None]{Path: DeletePath, By: Holder},
	History:       Endpoint[None, []Visit]{Path: HistoryPath, By: Holder},
	Consent:       Endpoint[Consent, None]{Path: ConsentPath, By: Holder},
	Pass:          Endpoint[Person, Pass]{Path: PassPath, By: Holder},
	Facilities:    Endpoint[None, []facility.Facility]{Path: FacilitiesPath, Get: true},
	DeskEnroll:    Endpoint[Supervised, Account]{Path: DeskPath, By: Desk},
	DeskHousehold: Endpoint[HouseholdCap, None]{Path: DeskHouseholdPath, By: Desk},
}

// Pattern is the endpoint's route as net/http's ServeMux takes it.
func (e Endpoint[Req, Resp]) Pattern() string {
	if e.Get {
		return "GET " + e.Path
	}
	return "POST " + e.Path
}
