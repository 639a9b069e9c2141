// Package identify is the record a terminal keeps of each identification
// it makes: which facility, which resident (an opaque number, never a
// name), by what method and with what outcome. The law wants every
// identification accounted for, and residents see in their own data which
// facilities recognised them and when; so a terminal records every
// outcome, and the server copies each into its hash-chained audit log.
//
// Identifications belong to no device's feed: only the audit role reads
// them (and, later, the resident's own "my data" view). The terminal that
// made one keeps it in its own log.
package identify

import (
	"errors"
	"fmt"
	"slices"
)

// OpIdentified records one identification; its body is an Identification.
const OpIdentified = "face.identified"

// Outcomes of an identification.
const (
	Accepted  = "accepted"  // matched a resident who consented here
	Unknown   = "unknown"   // nobody close enough, or no consent here
	Ambiguous = "ambiguous" // two residents too close to tell apart
	Flat      = "flat"      // a photo or a screen, refused before matching
	// Expired: matched a resident whose face registration has expired
	// (children's faces change); they must register it again. The screen
	// says so without saying who; the record names them, for the audit.
	Expired = "expired"
	// Used: a QR pass this terminal admitted already (a pass is for
	// one visit); Invalid: a QR pass that is out of date or not signed
	// by the city. Both only with MethodQR.
	Used    = "used"
	Invalid = "invalid"
	// SecondFactor: the face matched someone, but at this facility's
	// gallery size the face alone cannot confirm who (package risk) and
	// the person was asked for the QR pass or the card. Nobody is named:
	// the match is not trusted. Only with MethodFace.
	SecondFactor = "second-factor"
)

// Methods of identification.
const (
	MethodFace = "face"
	// MethodQR: a signed QR pass shown on the resident's phone.
	MethodQR = "qr"
	// MethodHousehold: admitted by the guardian, who was identified, with
	// the household (a child who will not look at the camera).
	MethodHousehold = "household"
	// MethodCard: the My Number Card's user-authentication certificate
	// and 4-digit PIN, the certificate linked to the resident.
	MethodCard = "card"
	// MethodStaff: staff checked the person by sight, the last resort
	// when no face, card or pass works (a child whose parent left the
	// phone at home). Nobody is named; at a play park the record keeps
	// the age band staff judged, for the day's counts.
	MethodStaff = "staff"
	// MethodCardFace: the live face compared 1:1 with the photo on the
	// person's My Number Card (opened with 照合番号B; package
	// face/cardmatch), for a person with a card but no registered face
	// and no PIN. Nobody is named: the check shows the person is the
	// card's, not which resident (the card-face application holds no
	// certificate to link). Score is the 1:1 cosine; the photo itself is
	// never recorded. Accepted or Unknown (the score below the
	// threshold), Flat when the turn check saw a picture.
	MethodCardFace = "card-face"
)

// Identification is the body of an OpIdentified op.
type Identification struct {
	Facility string `json:"facility"`
	// Resident is set only when Outcome is Accepted.
	Resident string `json:"resident,omitempty"`
	Method   string `json:"method"` // one of the Method constants
	Outcome  string `json:"outcome"`
	// Pass names the QR pass admitted (pass.Pass.ID), so the terminal
	// admits it once, even after a reload.
	Pass string `json:"pass,omitempty"`
	// Score is the best match's cosine, for tuning the threshold.
	Score float32 `json:"score,omitempty"`
	// Band is the age band staff judged (MethodStaff only).
	Band string `json:"band,omitempty"`
}

// outcomes lists the outcomes each method can have.
var outcomes = map[string][]string{
	MethodFace:      {Accepted, Unknown, Ambiguous, Flat, Expired, SecondFactor},
	MethodQR:        {Accepted, Unknown, Used, Invalid},
	MethodHousehold: {Accepted},
	MethodCard:      {Accepted, Unknown},
	MethodStaff:     {Accepted},
	MethodCardFace:  {Accepted, Unknown, Flat},
}

// unnamed reports whether method accepts a person without naming a
// resident.
func unnamed(method string) bool { return method == MethodStaff || method == MethodCardFace }

// ErrInvalid is wrapped by Validate.
var ErrInvalid = errors.New("invalid identification")

// Validate reports whether i can be stored.
func (i Identification) Validate() error {
	switch {
	case i.Facility == "":
		return fmt.Errorf("%w: no facility", ErrInvalid)
	case outcomes[i.Method] == nil:
		return fmt.Errorf("%w: method %q", ErrInvalid, i.Method)
	case !slices.Contains(outcomes[i.Method], i.Outcome):
		return fmt.Errorf("%w: outcome %q by %s", ErrInvalid, i.Outcome, i.Method)
	case (i.Pass != "") != (i.Method == MethodQR && i.Outcome == Accepted):
		return fmt.Errorf("%w: a pass is named exactly when one is admitted", ErrInvalid)
	case len(i.Pass) > 32:
		return fmt.Errorf("%w: pass id of %d bytes", ErrInvalid, len(i.Pass))
	case (!unnamed(i.Method) && (i.Outcome == Accepted || i.Outcome == Expired)) != (i.Resident != ""):
		return fmt.Errorf("%w: a resident is named exactly when accepted or expired, and never by staff or the card's photo", ErrInvalid)
	case (i.Band != "") && i.Method != MethodStaff, len(i.Band) > 16:
		return fmt.Errorf("%w: a band is judged by staff only", ErrInvalid)
	case len(i.Resident) > 64:
		return fmt.Errorf("%w: resident id of %d bytes", ErrInvalid, len(i.Resident))
	}
	return nil
}
