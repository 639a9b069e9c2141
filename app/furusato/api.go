package furusato

import (
	"encoding/json"
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/mynumber"
)

// The donor's endpoints, signed by the account's holder (account.Signed);
// under /accounts, so they need TLS. A refusal is a syncproto.Error with
// one of the codes below, or an account one.
const (
	DonationsPath = "/accounts/furusato/donations"
	ReceiptsPath  = "/accounts/furusato/receipts"
	CeilingPath   = "/accounts/furusato/ceiling"
	OneStopPath   = "/accounts/furusato/onestop"
)

// The donation counter's endpoints, signed by the counter's device (role
// counter at a facility of kind donation): the offer before payment, the
// payment, and a donation's receipt to print for the donor.
const (
	CounterQuotePath   = "/accounts/furusato/counter/quote"
	CounterPayPath     = "/accounts/furusato/counter/pay"
	CounterReceiptPath = "/accounts/furusato/counter/receipt"
)

// CounterAPI is the donation counter's endpoints.
var CounterAPI = struct {
	Quote   Endpoint[CounterSale, Offer]
	Pay     Endpoint[CounterSale, CounterPaid]
	Receipt Endpoint[CounterReceipt, Receipts]
}{
	Quote:   account.Post[CounterSale, Offer](CounterQuotePath, account.Device),
	Pay:     account.Post[CounterSale, CounterPaid](CounterPayPath, account.Device),
	Receipt: account.Post[CounterReceipt, Receipts](CounterReceiptPath, account.Device),
}

// The city's endpoints (staff signed in on the admin screen: an
// admin.Request's token in the body), under /admin/api/.
const (
	ItemPath   = "/admin/api/furusato/item"
	ExportPath = "/admin/api/furusato/export"
	// FormsPath is the forms of one municipality's applications, the
	// number aside, with what verifies their signatures.
	FormsPath  = "/admin/api/furusato/forms"
	ReportPath = "/admin/api/furusato/report"
)

// Codes of the refusals.
const (
	CodeCostOver30     = "furusato_cost_over_30"
	CodeNotLocal       = "furusato_not_local"
	CodeItem           = "furusato_item"
	CodeShop           = "furusato_shop"
	CodeTooMany        = "furusato_six_municipalities"
	CodePastDeadline   = "furusato_past_deadline"
	CodeAddress        = "furusato_address"
	CodeNumber         = "furusato_number"
	CodeDeclarations   = "furusato_declarations"
	CodeNotYourCard    = "furusato_not_your_card"
	CodeNoDonation     = "furusato_no_donation"
	CodeCeiling        = "furusato_ceiling"
	CodeCardSignature  = "furusato_card_signature"
	CodeNoMunicipality = "furusato_municipality"
	CodeOutOfStock     = "furusato_out_of_stock"
	CodeCounter        = "furusato_counter"
	CodeNoDonor        = "furusato_no_donor"
)

// API is the donor's endpoints.
var API = struct {
	Donations Endpoint[Year, Statement]
	Receipts  Endpoint[Year, Receipts]
	Ceiling   Endpoint[CeilingFigures, CeilingEstimate]
	OneStop   Endpoint[Application, Applied]
}{
	Donations: account.Post[Year, Statement](DonationsPath, account.Holder),
	Receipts:  account.Post[Year, Receipts](ReceiptsPath, account.Holder),
	Ceiling:   account.Post[CeilingFigures, CeilingEstimate](CeilingPath, account.Holder),
	OneStop:   account.Post[Application, Applied](OneStopPath, account.Holder),
}

// Endpoint is an endpoint of the account API (account.Endpoint).
type Endpoint[Req, Resp any] = account.Endpoint[Req, Resp]

// Year asks for one calendar year's donations (Japan time); 0: this year.
type Year struct {
	Year int `json:"year,omitempty"`
}

// Statement is the donor's year: each donation, and the municipalities
// counted toward the one-stop exception's five (this city once, and the
// others the donor declared in their applications).
type Statement struct {
	// City is the municipality donated to, as the application's form
	// names it (Form.City): the device signs the form with it.
	City           string    `json:"city"`
	Year           int       `json:"year"`
	Donations      []Given   `json:"donations"`
	Municipalities int       `json:"municipalities"`
	Deadline       time.Time `json:"deadline"` // January 10 of the next year
	Applications   []Filing  `json:"applications,omitempty"`
}

// Given is one donation as its donor sees it.
type Given struct {
	ID     string    `json:"id"` // the receipt's number
	Shop   string    `json:"shop"`
	At     time.Time `json:"at"`
	Amount int64     `json:"amount"`
	Gift   string    `json:"gift,omitempty"` // the gift's name
	Handed bool      `json:"handed,omitempty"`
}

// Filing is a one-stop application as its donor sees it.
type Filing struct {
	ID       string    `json:"id"`
	Donation string    `json:"donation"`
	Filed    time.Time `json:"filed"`
	Exported bool      `json:"exported,omitempty"`
}

// Receipts are the receipt PDF of a year's donations, one page each.
type Receipts struct {
	PDF []byte `json:"pdf"`
}

// CeilingFigures are what the donor types for the estimate; nothing of
// them is stored or audited.
type CeilingFigures struct {
	ResidentTax int64 `json:"resident_tax"` // 住民税所得割額
	Rate        int   `json:"rate"`         // income-tax rate, percent
}

// CeilingEstimate is the estimate (Ceiling).
type CeilingEstimate struct {
	Ceiling int64 `json:"ceiling"`
}

// Application is the one-stop application (ワンストップ特例申請書, form
// 第55号の5) of one donation, as the donor's device sends it once: the
// donor adds the reading, phone, the other municipalities of the year
// and the two declarations; the four facts come from the signature
// certificate, the individual number from the card-info application
// read with its PIN in this flow (app/card/onestop). The card signs
// Message(Nonce, form, number) with the signature certificate.
type Application struct {
	Donation string   `json:"donation"`
	Reading  string   `json:"reading"`
	Phone    string   `json:"phone"`
	Others   []string `json:"others,omitempty"`
	// Salaried: 地方税法附則第7条第1項 (第8項) に規定する申告特例対象寄附者
	// (no tax return needed for the year); FiveOrFewer: the year's
	// donations go to at most five municipalities.
	Salaried    bool `json:"salaried"`
	FiveOrFewer bool `json:"five_or_fewer"`
	// Number is the individual number's twelve digits. It travels in
	// this request only, over TLS, and goes straight into the server's
	// vault.
	Number string `json:"number"`
	Nonce  []byte `json:"nonce"`
	Cert   []byte `json:"cert"`
	Sig    []byte `json:"sig"`
}

// Applied answers an application.
type Applied struct {
	ID string `json:"id"`
	// Municipality is where the city forwards it: the donor's
	// municipality of residence.
	Municipality string    `json:"municipality"`
	Deadline     time.Time `json:"deadline"`
}

// Form is the application's fields as the municipality receives them,
// the individual number aside (it travels in the vault's export file).
type Form struct {
	City        string     `json:"city"` // the municipality applied to
	Facts       card.Facts `json:"facts"`
	Reading     string     `json:"reading"`
	Phone       string     `json:"phone"`
	Donated     time.Time  `json:"donated"`
	Amount      int64      `json:"amount"`
	Salaried    bool       `json:"salaried"`
	FiveOrFewer bool       `json:"five_or_fewer"`
}

// signPrefix separates what a card signs for an application from what it
// signs to open an account or link a card.
const signPrefix = "smartpass onestop application v1\x00"

// Message is what the signature certificate signs for an application:
// the server's nonce, the form as JSON and the individual number, so
// the signature covers every field the municipality receives.
func Message(nonce []byte, f Form, n mynumber.Number) ([]byte, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	msg := append([]byte(signPrefix), nonce...)
	msg = append(append(msg, 0), b...)
	return append(append(msg, 0), n.Reveal()...), nil
}
