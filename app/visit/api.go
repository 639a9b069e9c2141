// Package visit is the hospital visit's API between the resident's
// account page, a hospital's reception tablet and the server: booking,
// moving and cancelling for oneself or a family member, the 問診票
// answered before the visit, consent per hospital and kind and its
// withdrawal, a medication notebook imported from a pharmacy's JAHIS QR
// code, the accesses and receipts the account page lists, and, for the
// hospital's devices, the day's list, the consented history, visit
// summaries, bills, the emergency summary and FHIR exports. The server
// routes each endpoint from its definition here and the PWA calls it
// from the same definition (account.Endpoint), so they cannot disagree.
//
// A reception device's requests never name their hospital: the server
// takes it from the enrolled device, so a tablet acts for its own
// hospital only.
package visit

import (
	"encoding/json"
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/appointment"
	"smartpass.city/smartpass/app/copay"
	"smartpass.city/smartpass/app/emergency"
)

// Book books a slot of Hospital's Department starting at Start for
// Resident (the holder or a family member).
type Book struct {
	Hospital   string    `json:"hospital"`
	Department string    `json:"department"`
	Start      time.Time `json:"start"`
	Resident   string    `json:"resident"`
}

// Move moves booking ID to the slot starting at Start.
type Move struct {
	Hospital string    `json:"hospital"`
	ID       string    `json:"id"`
	Start    time.Time `json:"start"`
}

// Cancel cancels booking ID.
type Cancel struct {
	Hospital string `json:"hospital"`
	ID       string `json:"id"`
}

// Booked is a booking as the account page and the desk see it. Answers
// are given to the booking's hospital only (the day's list): the account
// page sees whether they were sent.
type Booked struct {
	ID         string               `json:"id"`
	Hospital   string               `json:"hospital"`
	Department string               `json:"department"`
	Start      time.Time            `json:"start"`
	Resident   string               `json:"resident"`
	Status     string               `json:"status"`
	Answered   bool                 `json:"answered"`
	Answers    *appointment.Answers `json:"answers,omitempty"`
}

// Form asks for booking's questionnaire.
type Form struct {
	Booking string `json:"booking"`
}

// Questionnaire is what the answer screen shows: the department's
// questions, the answers the patient's own record gives (theirs to
// change), and the notice that sending is the consent.
type Questionnaire struct {
	Questionnaire appointment.Questionnaire `json:"questionnaire"`
	Prefill       map[string]string         `json:"prefill,omitempty"`
	Notice        [2]string                 `json:"notice"`
}

// Answer sends the answers to booking's questionnaire: the consent to
// that hospital collecting them (appointment.ConsentNotice).
type Answer struct {
	Booking string            `json:"booking"`
	Values  map[string]string `json:"values"`
}

// Consent lets Hospital see Resident's data of Kind for Days days (1 to
// a year; 0: 90 days).
type Consent struct {
	Resident string `json:"resident"`
	Hospital string `json:"hospital"`
	Kind     string `json:"kind"`
	Days     int    `json:"days,omitempty"`
}

// DefaultDays is how long a consent lasts when the page names no term.
const DefaultDays = 90

// Withdraw withdraws Resident's consent to Hospital for Kind ("": every
// kind).
type Withdraw struct {
	Resident string `json:"resident"`
	Hospital string `json:"hospital"`
	Kind     string `json:"kind,omitempty"`
}

// Notebook imports Resident's medication notebook: the text of each QR
// code of a pharmacy receipt, as read (Shift_JIS bytes), in any order.
type Notebook struct {
	Resident string   `json:"resident"`
	Parts    [][]byte `json:"parts"`
}

// Imported says how many medications an import added.
type Imported struct {
	Medications int `json:"medications"`
}

// Access is one access to a household member's history, as the account
// page lists it: who, when, what, why.
type Access struct {
	Time     time.Time `json:"time"`
	Resident string    `json:"resident"`
	Hospital string    `json:"hospital"`
	Kinds    []string  `json:"kinds"`
	Purpose  string    `json:"purpose"`
	Reason   string    `json:"reason,omitempty"`
	Staff    string    `json:"staff"`
}

// Receipt is a bill as the account page shows it: the split and the
// lines of the receipt, Japanese and English.
type Receipt struct {
	ID       string      `json:"id"`
	Hospital string      `json:"hospital"`
	Resident string      `json:"resident"`
	Date     time.Time   `json:"date"`
	Split    copay.Split `json:"split"`
	Lines    [][2]string `json:"lines"`
	Paid     bool        `json:"paid"`
}

// Notice tells a guardian that a household member was identified at an
// emergency department: where, when and why.
type Notice struct {
	Time     time.Time `json:"time"`
	Hospital string    `json:"hospital"`
	Resident string    `json:"resident"`
	Reason   string    `json:"reason"`
}

// Day asks for the hospital's bookings on Date (YYYY-MM-DD, JST).
type Day struct {
	Date string `json:"date"`
}

// Lookup asks for Resident's consented history, by the named member of
// staff.
type Lookup struct {
	Resident string `json:"resident"`
	Staff    string `json:"staff"`
}

// Document is one document of a history shown, with where it came
// from.
type Document struct {
	Summary  string          `json:"summary"`
	Hospital string          `json:"hospital"`
	Visit    time.Time       `json:"visit"`
	Document json.RawMessage `json:"document"`
}

// History is what a consented hospital sees: the kinds in force and
// their documents; nothing of any other kind.
type History struct {
	Kinds     []string              `json:"kinds"`
	Documents map[string][]Document `json:"documents"`
}

// Summary is a visit summary the hospital publishes into Resident's
// record: JP Core documents about Patient (the hospital's number).
type Summary struct {
	Resident  string            `json:"resident"`
	Patient   string            `json:"patient"`
	Visit     time.Time         `json:"visit"`
	Documents []json.RawMessage `json:"documents"`
}

// Posted names the record a post made.
type Posted struct {
	ID string `json:"id"`
}

// Bill is the hospital's accounting's total for one visit; the server
// takes the patient's birth date from their record, so the share and
// the city's subsidy follow the age the card proved.
type Bill struct {
	Visit    string       `json:"visit"`
	Resident string       `json:"resident"`
	Patient  string       `json:"patient"`
	Date     time.Time    `json:"date"`
	Points   int64        `json:"points"`
	Income   copay.Income `json:"income"`
}

// Emergency asks for the emergency summary of Resident, identified at
// the emergency tablet by Method ("face", "card" or "second", with
// Second the confirming member of staff), for Reason, by Staff. With no
// Resident the tablet identified nobody: the use is recorded for review
// and refused with CodeNotIdentified, nothing shown.
type Emergency struct {
	Resident string  `json:"resident"`
	Staff    string  `json:"staff"`
	Second   string  `json:"second,omitempty"`
	Method   string  `json:"method"`
	Reason   string  `json:"reason"`
	Score    float32 `json:"score,omitempty"`
}

// EmergencySummary is the fixed emergency summary and nothing else,
// shown until Until.
type EmergencySummary struct {
	Allergies  []string          `json:"allergies"`
	Medication []string          `json:"medication"`
	Conditions []string          `json:"conditions"`
	Contact    emergency.Contact `json:"contact"`
	Until      time.Time         `json:"until"`
}

// FHIR resources an export makes.
const (
	ResourcePatient     = "Patient"
	ResourceAppointment = "Appointment"
	ResourceResponse    = "QuestionnaireResponse"
	ResourceMedication  = "MedicationStatement"
)

// Export asks for Resident's Resource as FHIR JSON, about Patient (the
// hospital's number): the patient, a booking's appointment or
// questionnaire response (Booking), or the medication the patient
// consented to show (an access, recorded).
type Export struct {
	Resource string `json:"resource"`
	Resident string `json:"resident"`
	Patient  string `json:"patient"`
	Booking  string `json:"booking,omitempty"`
}

// Private are the path prefixes of every endpoint: special-care
// personal data, so the server serves them over TLS only.
var Private = []string{"/visits/", "/hospital/"}

// Place is a hospital as the account page offers it: its names, the
// departments that take bookings, and the kinds of data it exchanges
// (the only ones a consent to it may name).
type Place struct {
	ID          string   `json:"id"`
	NameJA      string   `json:"nameJA"`
	NameEN      string   `json:"nameEN"`
	Departments []string `json:"departments"`
	Kinds       []string `json:"kinds"`
}

// Slots asks for the slots of Hospital's Department a resident can
// book: those of the next OfferDays days, with their free places.
type Slots struct {
	Hospital   string `json:"hospital"`
	Department string `json:"department"`
}

// OfferDays is how far ahead the account page offers slots.
const OfferDays = 14

// Granted is a consent as the account page lists it: to whom, of what,
// until when, and whether it is in force now (withdrawn or ended: not).
type Granted struct {
	Resident string    `json:"resident"`
	Hospital string    `json:"hospital"`
	Kind     string    `json:"kind"`
	Given    time.Time `json:"given"`
	Until    time.Time `json:"until"`
	Revoked  time.Time `json:"revoked,omitzero"`
	InForce  bool      `json:"inForce"`
}

// Paths.
const (
	BookPath      = "/visits/book"
	MovePath      = "/visits/move"
	CancelPath    = "/visits/cancel"
	BookingsPath  = "/visits/bookings"
	FormPath      = "/visits/questionnaire"
	AnswerPath    = "/visits/answers"
	ConsentPath   = "/visits/consent"
	WithdrawPath  = "/visits/withdraw"
	NotebookPath  = "/visits/notebook"
	AccessesPath  = "/visits/accesses"
	ReceiptsPath  = "/visits/receipts"
	NoticesPath   = "/visits/notices"
	DayPath       = "/hospital/day"
	HistoryPath   = "/hospital/history"
	SummaryPath   = "/hospital/summary"
	BillPath      = "/hospital/bill"
	EmergencyPath = "/hospital/emergency"
	ExportPath    = "/hospital/export"
	PlacesPath    = "/visits/hospitals"
	SlotsPath     = "/visits/slots"
	ConsentsPath  = "/visits/consents"
)

type none = account.None

// API is every endpoint of the hospital visit.
var API = struct {
	Book      account.Endpoint[Book, Booked]
	Move      account.Endpoint[Move, none]
	Cancel    account.Endpoint[Cancel, none]
	Bookings  account.Endpoint[none, []Booked]
	Form      account.Endpoint[Form, Questionnaire]
	Answer    account.Endpoint[Answer, none]
	Consent   account.Endpoint[Consent, none]
	Withdraw  account.Endpoint[Withdraw, none]
	Notebook  account.Endpoint[Notebook, Imported]
	Accesses  account.Endpoint[none, []Access]
	Receipts  account.Endpoint[none, []Receipt]
	Notices   account.Endpoint[none, []Notice]
	Day       account.Endpoint[Day, []Booked]
	History   account.Endpoint[Lookup, History]
	Summary   account.Endpoint[Summary, Posted]
	Bill      account.Endpoint[Bill, Receipt]
	Emergency account.Endpoint[Emergency, EmergencySummary]
	Export    account.Endpoint[Export, []json.RawMessage]
	Places    account.Endpoint[none, []Place]
	Slots     account.Endpoint[Slots, []appointment.Open]
	Consents  account.Endpoint[none, []Granted]
}{
	Book:      account.Post[Book, Booked](BookPath, account.Holder),
	Move:      account.Post[Move, none](MovePath, account.Holder),
	Cancel:    account.Post[Cancel, none](CancelPath, account.Holder),
	Bookings:  account.Post[none, []Booked](BookingsPath, account.Holder),
	Form:      account.Post[Form, Questionnaire](FormPath, account.Holder),
	Answer:    account.Post[Answer, none](AnswerPath, account.Holder),
	Consent:   account.Post[Consent, none](ConsentPath, account.Holder),
	Withdraw:  account.Post[Withdraw, none](WithdrawPath, account.Holder),
	Notebook:  account.Post[Notebook, Imported](NotebookPath, account.Holder),
	Accesses:  account.Post[none, []Access](AccessesPath, account.Holder),
	Receipts:  account.Post[none, []Receipt](ReceiptsPath, account.Holder),
	Notices:   account.Post[none, []Notice](NoticesPath, account.Holder),
	Day:       account.Post[Day, []Booked](DayPath, account.Device),
	History:   account.Post[Lookup, History](HistoryPath, account.Device),
	Summary:   account.Post[Summary, Posted](SummaryPath, account.Device),
	Bill:      account.Post[Bill, Receipt](BillPath, account.Device),
	Emergency: account.Post[Emergency, EmergencySummary](EmergencyPath, account.Device),
	Export:    account.Post[Export, []json.RawMessage](ExportPath, account.Device),
	Places:    account.Post[none, []Place](PlacesPath, account.Holder),
	Slots:     account.Post[Slots, []appointment.Open](SlotsPath, account.Holder),
	Consents:  account.Post[none, []Granted](ConsentsPath, account.Holder),
}

// Refusal codes, besides the account API's (account.Code*) and the
// request's (syncproto.Code*).
const (
	CodeNoSlot        = "visit_no_slot"        // no such slot
	CodeFull          = "visit_full"           // the slot is full
	CodePast          = "visit_past"           // the slot has begun
	CodeTwice         = "visit_twice"          // booked in this slot already
	CodeNoBooking     = "visit_no_booking"     // no such booking, or not the household's
	CodeCancelled     = "visit_cancelled"      // the booking is cancelled
	CodeAnswer        = "visit_answer"         // an answer breaks its question's rule
	CodeNoForm        = "visit_no_form"        // the department has no questionnaire
	CodeNotPublished  = "visit_not_published"  // the hospital does not exchange this kind
	CodeNoConsent     = "visit_no_consent"     // no consent in force
	CodeOtherPatient  = "visit_other_patient"  // a document about someone else
	CodeDocument      = "visit_document"       // a document that breaks its profile or its record's rules
	CodeNotebook      = "visit_notebook"       // a notebook that cannot be read (jahis.Words says why)
	CodeReason        = "visit_reason"         // an emergency lookup with no reason
	CodeConfirm       = "visit_confirm"        // an emergency identification not confirmed as the rule asks
	CodeBill          = "visit_bill"           // a bill that cannot be posted
	CodeProfile       = "visit_profile"        // an export that fails its profile check
	CodeDevice        = "visit_device"         // not a hospital's reception device
	CodeHospital      = "visit_hospital"       // not a hospital of the city
	CodeNoPerson      = "visit_no_person"      // a resident the server does not know
	CodeRaced         = "visit_raced"          // another change came first
	CodeNotIdentified = "visit_not_identified" // an emergency lookup that named nobody: nothing shown
)
