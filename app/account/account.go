// Package account is a resident's own account: opened once with the My
// Number Card's JPKI signature certificate (the card signs a server nonce
// bound to the key of the device that will hold the account), holding the
// basic four facts the certificate carries and nothing else about who
// they are. One card, one person, one account: a second opening is
// refused and offered as a recovery onto the new device. Types and rules
// here are shared by the PWA and the server.
package account

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/identify"
)

// The server's endpoints: POST a Request as JSON, get an Account, or an
// HTTP error whose body is a syncproto.Error with a Code below or one of
// the card check's codes.
const (
	CreatePath  = "/accounts"
	RecoverPath = "/accounts/recover"
	// MembersPath adds a family member (a Signed Member); HouseholdPath
	// reads the household (a Signed empty body).
	MembersPath   = "/accounts/members"
	HouseholdPath = "/accounts/household"
	// FacePath registers the face template (a Signed template.Template)
	// of the holder or a family member, for the facilities they consent
	// to; FacilitiesPath (GET) lists the facilities that recognise faces.
	FacePath       = "/accounts/face"
	FacilitiesPath = "/facilities"
	// FaceDeletePath deletes a face (a Signed Person); DeletePath deletes
	// the account, its family members and all their faces (a Signed
	// empty body).
	FaceDeletePath = "/accounts/face/delete"
	DeletePath     = "/accounts/delete"
	// HistoryPath lists when and where the household's faces were
	// recognised (a Signed empty body; answers []Visit).
	HistoryPath = "/accounts/history"
	// ConsentPath grants or withdraws a consent for a purpose (a Signed
	// Consent).
	ConsentPath = "/accounts/consent"
	// PassPath issues a signed QR pass (a Signed Person; answers a
	// Pass), the fallback when a face is not recognised.
	PassPath = "/accounts/pass"
	// DeskPath registers, at a staffed city desk, a resident whose card
	// has no signature certificate (a Signed Supervised, by the desk's
	// device).
	DeskPath = "/desk/residents"
	// DeskHouseholdPath sets, at a staffed city desk, how many family
	// members one household may hold beyond MaxMembers (a Signed
	// HouseholdCap, by a registrar device).
	DeskHouseholdPath = "/desk/household"
)

// MaxMembers is how many family members an account may add on its own:
// more than any household the city expects, few enough that a stolen
// phone cannot invent a school class. A city desk raises it for one
// household (HouseholdCap).
const MaxMembers = 10

// HouseholdCap is a city desk's decision that the household of Holder
// may hold up to Max family members, checked by the named staff member.
type HouseholdCap struct {
	Holder string `json:"holder"`
	Max    int    `json:"max"`
	Staff  string `json:"staff"`
}

// Sources of a resident's four facts (Account.Source): how they were
// proven. A family member added without their card's proof is
// SourceDeclared, and every facility that sees their facts is told so.
const (
	// SourceCertificate: the signature certificate, with its password.
	SourceCertificate = "jpki-sign"
	// SourceCardRead: read from the member's card-info application with
	// its PIN, in the card session in which the same card signed a
	// server nonce with its user-authentication key (CardLink).
	SourceCardRead = "card-read"
	// SourceDesk: read at a city desk, the person checked by staff.
	SourceDesk = "desk"
	// SourceDeclared: typed or sent by the guardian's device with no
	// proof from the member's card.
	SourceDeclared = "self-declared"
)

// Declared reports whether facts of source are the guardian's word
// only: anything but the proven sources (records from before sources
// were proven, "card-info", included).
func Declared(source string) bool {
	switch source {
	case SourceCertificate, SourceCardRead, SourceDesk:
		return false
	}
	return true
}

// Pass is a QR pass as the phone shows it: the text to draw and when it
// stops being valid (package pass).
type Pass struct {
	Text    string    `json:"text"`
	Expires time.Time `json:"expires"`
}

// Supervised is a resident registered at a city desk: the four facts
// read from their card's card-info application with their PIN, and the
// staff member who checked the person against the card's photo.
type Supervised struct {
	Facts card.Facts `json:"facts"`
	Staff string     `json:"staff"`
	// Check is how Staff checked the person against the card. Absent
	// (a desk of an older build): by sight, as every desk did then.
	Check *DeskCheck `json:"check,omitempty"`
}

// How a city desk's staff checked the person (DeskCheck.By). The words
// are package identify's methods, so the record reads as an
// identification does.
const (
	// ByCardFace: the card-face check (the live face 1:1 against the
	// card's photo, opened with 照合番号B) accepted the person, and
	// staff confirmed.
	ByCardFace = identify.MethodCardFace
	// ByStaff: staff compared the person with the card's photo by
	// sight: the card-face check refused them, could not run (an old
	// card, no decoder, no camera) or was not made.
	ByStaff = identify.MethodStaff
)

// DeskCheck is how a city desk's staff checked the person they register
// against the card: by the card-face check or by sight, and the 1:1
// check's outcome and score whenever one was made (a refusal the staff
// then overrode by sight included), so the city knows what each
// registration rests on. The card's photo is never part of it.
type DeskCheck struct {
	By string `json:"by"`
	// Outcome is the 1:1 check's (identify.Accepted, Unknown, Flat);
	// "" when none reached a decision.
	Outcome string `json:"outcome,omitempty"`
	// Score is the 1:1 cosine (0 when no comparison was made).
	Score float32 `json:"score,omitempty"`
}

// deskOutcomes are the card-face check's outcomes.
var deskOutcomes = []string{identify.Accepted, identify.Unknown, identify.Flat}

// ErrDeskCheck is wrapped by DeskCheck.Validate.
var ErrDeskCheck = errors.New("account: the desk's check is not one it can make")

// Validate reports whether d can be recorded: by the card-face check
// only when it accepted, by sight after any outcome or none, and a
// cosine's range.
func (d DeskCheck) Validate() error {
	switch {
	case d.By != ByCardFace && d.By != ByStaff:
		return fmt.Errorf("%w: by %q", ErrDeskCheck, d.By)
	case d.By == ByCardFace && d.Outcome != identify.Accepted:
		return fmt.Errorf("%w: by the card-face check, which said %q", ErrDeskCheck, d.Outcome)
	case d.Outcome != "" && !slices.Contains(deskOutcomes, d.Outcome):
		return fmt.Errorf("%w: outcome %q", ErrDeskCheck, d.Outcome)
	case d.Score < -1 || d.Score > 1 || d.Score != d.Score:
		return fmt.Errorf("%w: score %v", ErrDeskCheck, d.Score)
	}
	return nil
}

// Purposes a resident consents to besides recognition at a facility
// (which is the facilities chosen with the face).
const (
	// PurposeDisclosure: in a disaster, tell people who ask whether the
	// person is safe and where they shelter (安否情報の開示).
	PurposeDisclosure = "disclosure"
	// PurposeMedication: share the medication history with a facility's
	// staff (later: the hospital).
	PurposeMedication = "medication"
)

// Purposes lists every purpose, in the order the page offers them.
var Purposes = []string{PurposeDisclosure, PurposeMedication}

// Consent grants (or withdraws) one purpose for one resident of the
// household.
type Consent struct {
	Resident string `json:"resident"`
	Purpose  string `json:"purpose"`
	Granted  bool   `json:"granted"`
}

// Visit is one recognition of a household's face by a facility's
// terminal, from the audit log.
type Visit struct {
	Time     time.Time `json:"time"`
	Resident string    `json:"resident"`
	Facility string    `json:"facility"`
	NameJA   string    `json:"name_ja"`
	NameEN   string    `json:"name_en"`
}

// Person names a resident of the household in a request.
type Person struct {
	Resident string `json:"resident"`
}

// MinAge is the age from which a resident holds an account of their own;
// younger people are family members a guardian adds.
const MinAge = 16

// Refusal codes.
const (
	CodeExists   = "account_exists"    // this card or person has an account: recover it
	CodeTooYoung = "account_too_young" // under MinAge
	CodeNone     = "account_none"      // recovery of an account that does not exist
	CodeNoFacts  = "account_no_facts"  // not a signature certificate with the four facts
	CodeSigned   = "account_signed"    // not signed by the account's device key
	CodeMember   = "member_exists"     // the person is registered already
	CodeFacts    = "member_facts"      // the four facts are incomplete
	CodeNotYours = "face_not_yours"    // a face for somebody outside the household
	CodeConsent  = "face_consent"      // no facility, or one that does not recognise faces
	CodePurpose  = "consent_purpose"   // a purpose not known here
	CodeStaff    = "desk_staff"        // no staff member named
	// CodeCardLinked: the card is linked to another resident already.
	CodeCardLinked = "card_linked"
	// CodeHouseholdFull: the household has MaxMembers (or the desk's
	// cap) already.
	CodeHouseholdFull = "household_full"
	// CodeCap: a desk's cap below the members held, or beyond MaxCap.
	CodeCap = "household_cap"
)

// MaxCap bounds a desk's household cap.
const MaxCap = 30

// Request opens or recovers an account: the card's signature certificate
// (DER), its signature over Challenge(Nonce, Key), and the public key
// (Ed25519, 32 bytes) of the device that will hold the account.
type Request struct {
	Nonce []byte `json:"nonce"`
	Cert  []byte `json:"cert"`
	Sig   []byte `json:"sig"`
	Key   []byte `json:"key"`
	// Link, when given, links the card's user-authentication
	// certificate to the resident, proven by a signature with the
	// 4-digit PIN (CardLink): terminals then recognise them by card.
	Link *CardLink `json:"link,omitempty"`
}

// CardLink proves that whoever sends it holds a card and knows its
// 4-digit PIN: the card's user-authentication certificate (DER) and its
// signature over LinkChallenge(Nonce, Key), where Nonce is a fresh server
// nonce (syncproto.CardNoncePath, used once) and Key the device key of
// the account that asks (the new account's, or the guardian's). The
// certificate alone proves nothing: it is readable without a PIN.
type CardLink struct {
	Nonce []byte `json:"nonce"`
	Cert  []byte `json:"cert"`
	Sig   []byte `json:"sig"`
}

// linkPrefix separates what a card signs to be linked from what it
// signs for a card check (the bare nonce) or an account (Challenge).
const linkPrefix = "smartpass card link v1\x00"

// LinkChallenge is what the card's user-authentication key signs to be
// linked: the server's nonce bound to the asking account's device key,
// so a proof made for one account cannot link the card to another.
func LinkChallenge(nonce, key []byte) []byte {
	b := append([]byte(linkPrefix), nonce...)
	return append(b, key...)
}

// Account is a resident's account as its holder sees it.
type Account struct {
	ID      string     `json:"id"`
	Facts   card.Facts `json:"facts"`
	Created time.Time  `json:"created"`
	// Guardian is set for a family member: the account that added them.
	Guardian string `json:"guardian,omitempty"`
	// Consents are the purposes granted (absent: not granted).
	Consents map[string]bool `json:"consents,omitempty"`
	// FaceExpires is when the registered face must be renewed (zero: no
	// face registered from the account).
	FaceExpires time.Time `json:"face_expires,omitzero"`
	// FaceAt are the facilities the face is registered for.
	FaceAt []string `json:"face_at,omitempty"`
	// Cards are the fingerprints of the user-authentication certificates
	// linked to the resident (jpki.Fingerprint).
	Cards []string `json:"cards,omitempty"`
	// Source says how the four facts were proven (SourceCertificate, ...);
	// Declared(Source): the guardian's word only.
	Source string `json:"source,omitempty"`
}

// Signed is a request of an account's holder (Signer: the account id),
// or of a city desk's device (Signer: the device id): a server nonce
// (syncproto.CardNoncePath, used once) and the body, signed over Message
// with the account's key, or the device's.
type Signed struct {
	Signer string          `json:"signer"`
	Nonce  []byte          `json:"nonce"`
	Body   json.RawMessage `json:"body"`
	Sig    []byte          `json:"sig"`
}

// Message is what the account's key signs for a request to path.
func Message(path string, nonce, body []byte) []byte {
	b := append([]byte("smartpass account request v1\x00"+path+"\x00"), nonce...)
	return append(append(b, 0), body...)
}

// Member is a family member a guardian adds: the four facts read from
// their card's card-info application with its 4-digit PIN.
type Member struct {
	Facts card.Facts `json:"facts"`
	// Link is the member's card's proof, made in the same card session
	// with the member's PIN (LinkChallenge over the guardian's account
	// key). With it the facts are recorded as SourceCardRead and the card
	// is linked to the member; without it, as SourceDeclared.
	Link *CardLink `json:"link,omitempty"`
}

// Household is a guardian and the family members they added.
type Household struct {
	Guardian Account   `json:"guardian"`
	Members  []Account `json:"members"`
}

// FaceExpiry is when a face registered at time at, of a person born on
// birth (YYYYMMDD), must be registered again: children's faces change
// fast (DOMAIN.md: every 1–2 years), so a year under 13, two under 16,
// five after.
func FaceExpiry(birth string, at time.Time) (time.Time, error) {
	age, err := Age(birth, at)
	if err != nil {
		return time.Time{}, err
	}
	years := 5
	switch {
	case age < 13:
		years = 1
	case age < MinAge:
		years = 2
	}
	return at.AddDate(years, 0, 0), nil
}

// RenewWithin is how long before a face's expiry the resident is
// reminded to register it again.
const RenewWithin = 30 * 24 * time.Hour

// Person returns the household's resident id: the guardian or a member.
func (h Household) Person(id string) (Account, bool) {
	for _, a := range append([]Account{h.Guardian}, h.Members...) {
		if a.ID == id {
			return a, true
		}
	}
	return Account{}, false
}

// IDs lists the household's residents: the guardian, then the members.
func (h Household) IDs() []string {
	ids := []string{h.Guardian.ID}
	for _, m := range h.Members {
		ids = append(ids, m.ID)
	}
	return ids
}

// challengePrefix separates what a card signs for an account from what
// it signs for anything else.
const challengePrefix = "smartpass account v1\x00"

// Challenge is what the card signs: the server's nonce bound to the
// device key, so a proof made for one device cannot open the account on
// another.
func Challenge(nonce, key []byte) []byte {
	b := append([]byte(challengePrefix), nonce...)
	return append(b, key...)
}

// ErrBirthDate is wrapped for a birth date that is not YYYYMMDD.
var ErrBirthDate = errors.New("account: birth date is not YYYYMMDD")

// Age returns the age in whole years, on now, of a person born on birth
// (YYYYMMDD): a year more on each birthday.
func Age(birth string, now time.Time) (int, error) {
	if len(birth) != 8 {
		return 0, fmt.Errorf("%w: %q", ErrBirthDate, birth)
	}
	y, err1 := strconv.Atoi(birth[:4])
	m, err2 := strconv.Atoi(birth[4:6])
	d, err3 := strconv.Atoi(birth[6:])
	if err1 != nil || err2 != nil || err3 != nil || m < 1 || m > 12 || d < 1 || d > 31 {
		return 0, fmt.Errorf("%w: %q", ErrBirthDate, birth)
	}
	age := now.Year() - y
	if int(now.Month()) < m || int(now.Month()) == m && now.Day() < d {
		age--
	}
	return age, nil
}
