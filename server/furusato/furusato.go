// Package furusato serves the hometown-tax (ふるさと納税) donor's account
// page and the city's side of the donation counters: a donor's
// donations of the year with their receipts (PDF), the deduction
// ceiling estimate, and the one-stop application (ワンストップ特例申請,
// form 第55号の5), the one request of the project that carries the
// individual number; the city lists shops' catalogue items, exports each
// residence municipality's batch of applications and reads its reports.
//
// The individual number goes from the request straight into the vault
// (server/numbervault, sealed under its own key): it is in no op, no
// private record, no log line and no audit detail, and the vault deletes
// it when the city exports the batch it belongs to. The donor's requests
// are signed by their account's device (residents.Registry.Authenticate,
// as every account request is); the application itself is signed with
// the card's signature certificate over a server nonce, verified as the
// account's opening is (jpki).
package furusato

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/admin"
	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/excelcsv"
	"smartpass.city/smartpass/app/facility"
	rules "smartpass.city/smartpass/app/furusato"
	"smartpass.city/smartpass/app/jpaddress"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/app/mynumber"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/server/audit"
	"smartpass.city/smartpass/server/numbervault"
	"smartpass.city/smartpass/server/publish"
	"smartpass.city/smartpass/server/receipt"
	"smartpass.city/smartpass/server/residents"
	"smartpass.city/smartpass/server/routes"
	"smartpass.city/smartpass/server/store"
)

// Deps is what the service is built from.
type Deps struct {
	Log store.Store
	// Writer writes the catalogue's ops (the server's own).
	Writer *publish.Writer
	// Registry authenticates the donor's requests and verifies their
	// card (its Verifier and Nonces).
	Registry *residents.Registry
	// Vault keeps the individual numbers, under its own key.
	Vault    *numbervault.Vault
	Receipts *receipt.Maker
	Audit    *audit.Log
	// City is the municipality that receives the donations.
	City  jpaddress.Place
	Mayor string // 加賀市長 ..., on the receipts
	// Staff returns the staff member signed in with token, if they have
	// permission p (the admin screen's sessions).
	Staff func(token string, p admin.Permission) (string, error)
	// Facilities are the facilities as the server knows them (a shop is
	// one of kind donation).
	Facilities func() (map[string]facility.Facility, error)
	Now        func() time.Time
	Logger     *slog.Logger
}

// Service serves the endpoints.
type Service struct {
	d Deps

	// counter is the counters' book, fed by the log: each request folds
	// only the ops stored since the last (they come in the log's order,
	// the order the book was always folded in), instead of reading the
	// whole log again.
	counter struct {
		mu     sync.Mutex
		ledger rules.Ledger
		after  uint64
	}

	// desk is the donation counters' payments (counter.go).
	desk desk
}

// ErrDeps is a service built without what it needs.
var ErrDeps = errors.New("furusato: the service needs a store, a writer, a residents registry, a vault, a receipt maker, an audit log, staff sessions and the city")

// New returns the service.
func New(d Deps) (*Service, error) {
	if d.Log == nil || d.Writer == nil || d.Registry == nil || d.Vault == nil || d.Receipts == nil || d.Audit == nil || d.Staff == nil || d.Facilities == nil || d.City.Municipality == "" {
		return nil, ErrDeps
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	// Every put, export and deletion of a number is audited, without it.
	d.Vault.Audit = d.Audit.Note
	return &Service{d: d}, nil
}

// Routes adds the endpoints to mux.
func (s *Service) Routes(mux routes.Mux) {
	api := rules.API
	byHolder(s, mux, api.Donations, "furusato.donations.read", s.donations)
	byHolder(s, mux, api.Receipts, "furusato.receipts.read", s.receipts)
	byHolder(s, mux, api.Ceiling, "furusato.ceiling", s.ceiling)
	byHolder(s, mux, api.OneStop, "furusato.onestop", s.apply)
	s.counterRoutes(mux)
	mux.HandleFunc("POST "+rules.ItemPath, s.byStaff(admin.ManageFacilities, "furusato.item", s.item))
	mux.HandleFunc("POST "+rules.ExportPath, s.byStaff(admin.ManageFacilities, "furusato.export", s.export))
	mux.HandleFunc("POST "+rules.FormsPath, s.byStaff(admin.ManageFacilities, "furusato.forms", s.forms))
	mux.HandleFunc("POST "+rules.ReportPath, s.byStaff(admin.ReadAudit, "furusato.report", s.report))
}

var jst = time.FixedZone("JST", 9*60*60)

// year is y, or this year in Japan.
func (s *Service) year(y int) int {
	if y == 0 {
		return s.d.Now().In(jst).Year()
	}
	return y
}

// book is the counters' book (every shop's catalogue, donations and
// handovers) as of the log's head: the ops stored since the last call
// are folded in, and the answer is the caller's own copy, which later
// folds do not touch.
func (s *Service) book() (rules.Book, error) {
	c := &s.counter
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		ops, err := s.d.Log.Since(scope.FeedAll, c.after, 4096, 8<<20)
		if err != nil {
			return rules.Book{}, fmt.Errorf("furusato: read the log: %w", err)
		}
		if len(ops) == 0 {
			break
		}
		for _, op := range ops {
			c.ledger.Add(op)
			c.after = op.Global
		}
	}
	b := c.ledger.Book()
	return rules.Book{Items: maps.Clone(b.Items), Donations: maps.Clone(b.Donations), Given: maps.Clone(b.Given)}, nil
}

// mine returns holder's donations of year y, oldest first.
func (s *Service) mine(holder string, y int) (rules.Book, []rules.Given, error) {
	b, err := s.book()
	if err != nil {
		return b, nil, err
	}
	var out []rules.Given
	for id, d := range b.Of(holder) {
		if d.At.In(jst).Year() != y {
			continue
		}
		g := rules.Given{ID: id, Shop: d.Shop, At: d.At, Amount: d.Amount, Handed: b.Given[id] != ""}
		if d.Gift {
			g.Gift = b.Items[rules.ItemKey(d.Shop, d.Item)].NameJA
		}
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b rules.Given) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return b, out, nil
}

// donations serves DonationsPath: the year's donations, the applications
// filed, the municipalities counted toward five and the deadline.
func (s *Service) donations(_ context.Context, holder account.Account, y rules.Year) (rules.Statement, string, error) {
	year := s.year(y.Year)
	_, given, err := s.mine(holder.ID, year)
	if err != nil {
		return rules.Statement{}, "", err
	}
	apps, err := s.applications(func(a application) bool { return a.Donor == holder.ID && a.Form.Donated.In(jst).Year() == year })
	if err != nil {
		return rules.Statement{}, "", err
	}
	st := rules.Statement{City: s.d.City.String(), Year: year, Donations: given, Deadline: rules.OneStopDeadline(time.Date(year, time.June, 1, 0, 0, 0, 0, jst))}
	if st.Donations == nil {
		st.Donations = []rules.Given{}
	}
	seen := map[string]bool{s.d.City.String(): true}
	for _, a := range apps {
		st.Applications = append(st.Applications, rules.Filing{ID: a.ID, Donation: a.Donation, Filed: a.Filed, Exported: !a.Exported.IsZero()})
		for _, o := range s.others(a.Others) {
			seen[o] = true
		}
	}
	st.Municipalities = len(seen)
	return st, fmt.Sprint(year), nil
}

// receipts serves ReceiptsPath: one receipt page per donation of the
// year.
func (s *Service) receipts(_ context.Context, holder account.Account, y rules.Year) (rules.Receipts, string, error) {
	year := s.year(y.Year)
	_, given, err := s.mine(holder.ID, year)
	if err != nil {
		return rules.Receipts{}, "", err
	}
	if len(given) == 0 {
		return rules.Receipts{}, "", fmt.Errorf("%w in %d", errNoDonation, year)
	}
	ds := make([]receipt.Donation, len(given))
	for i, g := range given {
		ds[i] = receipt.Donation{Number: g.ID, Date: g.At, DonorName: holder.Facts.Name, DonorAddress: holder.Facts.Address, Amount: g.Amount, Gift: g.Gift}
	}
	var pdf bytes.Buffer
	if err := s.d.Receipts.Write(&pdf, receipt.Issuer{CityJA: s.d.City.Municipality, MayorJA: s.d.Mayor}, ds); err != nil {
		return rules.Receipts{}, "", err
	}
	return rules.Receipts{PDF: pdf.Bytes()}, fmt.Sprintf("%d: %d receipts", year, len(ds)), nil
}

// ceiling serves CeilingPath: the estimate, from figures nobody keeps
// (the audit entry says only that it was asked).
func (s *Service) ceiling(_ context.Context, _ account.Account, f rules.CeilingFigures) (rules.CeilingEstimate, string, error) {
	c, err := rules.Ceiling(f.ResidentTax, f.Rate)
	if err != nil {
		return rules.CeilingEstimate{}, "", fmt.Errorf("%w: %w", errCeiling, err)
	}
	return rules.CeilingEstimate{Ceiling: c}, "", nil
}

// Errors of the donor's requests, put in words by refusals.
var (
	errNoDonation   = errors.New("furusato: no such donation of yours")
	errCeiling      = errors.New("furusato: the ceiling figures")
	errDeclarations = errors.New("furusato: both declarations are needed")
	errNotYourCard  = errors.New("furusato: the card is not the account holder's")
	errSignature    = errors.New("furusato: the card's signature does not match the application")
	errApplication  = errors.New("furusato: the application lacks the reading or phone")
)

// recApplication is the private record kind of the applications, by id:
// the form (no number), its signature and the certificate that made it,
// and whether the batch it went in was exported.
const recApplication = "furusato.onestop"

// application is the stored record.
type application struct {
	ID       string     `json:"id"`
	Donation string     `json:"donation"`
	Donor    string     `json:"donor"`
	Form     rules.Form `json:"form"`
	Others   []string   `json:"others,omitempty"`
	// Municipality is the donor's municipality of residence (where it is
	// forwarded).
	Municipality string    `json:"municipality"`
	Nonce        []byte    `json:"nonce"`
	Cert         []byte    `json:"cert"`
	Sig          []byte    `json:"sig"`
	Filed        time.Time `json:"filed"`
	Exported     time.Time `json:"exported,omitzero"`
}

// applications returns the stored applications keep accepts.
func (s *Service) applications(keep func(application) bool) ([]application, error) {
	var out []application
	err := s.d.Log.View(func(tx store.Tx) error {
		return tx.Each(recApplication, func(_ string, b []byte) error {
			var a application
			if err := json.Unmarshal(b, &a); err != nil {
				return fmt.Errorf("furusato: an application record: %w", err)
			}
			if keep(a) {
				out = append(out, a)
			}
			return nil
		})
	})
	slices.SortFunc(out, func(a, b application) int { return strings.Compare(a.ID, b.ID) })
	return out, err
}

func putApplication(tx store.Tx, a application) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return tx.Put(recApplication, a.ID, b)
}

// apply serves OneStopPath: the application of one of the holder's
// donations, refused after January 10 of the next year, for a sixth
// municipality, without both declarations, with a card that is not the
// holder's or whose address cannot be parsed, or whose signature does
// not cover the form. The number goes into the vault and nowhere else.
func (s *Service) apply(_ context.Context, holder account.Account, req rules.Application) (rules.Applied, string, error) {
	number, err := mynumber.Parse(req.Number)
	req.Number = "" // the digits live in number (masked when printed) from here on
	if err != nil {
		return rules.Applied{}, "", err
	}
	if !req.Salaried || !req.FiveOrFewer {
		return rules.Applied{}, "", errDeclarations
	}
	if strings.TrimSpace(req.Reading) == "" || strings.TrimSpace(req.Phone) == "" {
		return rules.Applied{}, "", errApplication
	}
	b, err := s.book()
	if err != nil {
		return rules.Applied{}, "", err
	}
	d, ok := b.Donations[req.Donation]
	if !ok || d.Donor != holder.ID {
		return rules.Applied{}, "", errNoDonation
	}
	req.Others = s.others(req.Others)
	if err := rules.OneStop(d.At, s.d.Now(), s.d.City.String(), req.Others); err != nil {
		return rules.Applied{}, "", err
	}
	// The card: verified (chain, dates, revocation) as an account's
	// opening is, the holder's own, at an address whose municipality
	// can be read.
	if err := s.d.Registry.Nonces.Use(req.Nonce); err != nil {
		return rules.Applied{}, "", err
	}
	cert, err := s.d.Registry.Verifier.Certificate(req.Cert)
	if err != nil {
		return rules.Applied{}, "", err
	}
	facts, err := jpki.Facts(cert)
	if err != nil {
		return rules.Applied{}, "", err
	}
	if !samePerson(facts, holder.Facts) {
		return rules.Applied{}, "", errNotYourCard
	}
	home, err := jpaddress.Parse(facts.Address)
	if err != nil {
		return rules.Applied{}, "", err
	}
	form := rules.Form{City: s.d.City.String(), Facts: facts, Reading: req.Reading, Phone: req.Phone, Donated: d.At, Amount: d.Amount, Salaried: true, FiveOrFewer: true}
	msg, err := rules.Message(req.Nonce, form, number)
	if err != nil {
		return rules.Applied{}, "", err
	}
	if err := jpki.Signature(cert, msg, req.Sig); err != nil {
		return rules.Applied{}, "", fmt.Errorf("%w: %w", errSignature, err)
	}
	a := application{ID: "onestop." + req.Donation, Donation: req.Donation, Donor: holder.ID, Form: form, Others: req.Others,
		Municipality: home.String(), Nonce: req.Nonce, Cert: req.Cert, Sig: req.Sig, Filed: s.d.Now().UTC()}
	// The record first: a vault entry never outlives its application.
	if err := s.d.Log.Update(func(tx store.Tx) error { return putApplication(tx, a) }); err != nil {
		return rules.Applied{}, "", fmt.Errorf("furusato: store the application: %w", err)
	}
	if err := s.d.Vault.Put(holder.ID, a.ID, a.Municipality, number); err != nil {
		if derr := s.d.Log.Update(func(tx store.Tx) error { return tx.Delete(recApplication, a.ID) }); derr != nil {
			err = errors.Join(err, derr)
		}
		return rules.Applied{}, "", err
	}
	return rules.Applied{ID: a.ID, Municipality: a.Municipality, Deadline: rules.OneStopDeadline(d.At)}, a.ID + " to " + a.Municipality, nil
}

// others are the municipalities a donor declares besides this city,
// whichever way they name it (加賀市, 石川県加賀市): ours counts once.
func (s *Service) others(declared []string) []string {
	var out []string
	for _, o := range declared {
		o = strings.TrimSpace(o)
		if o != "" && o != s.d.City.Municipality && o != s.d.City.String() && !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

// samePerson: the card names the account's person (name, birth date,
// sex; not the address, which a move changes).
func samePerson(a, b card.Facts) bool {
	name := func(s string) string { return strings.Join(strings.Fields(s), "") }
	return name(a.Name) == name(b.Name) && a.BirthDate == b.BirthDate && a.Sex == b.Sex
}

// ItemRequest lists an item in a shop's catalogue.
type ItemRequest struct {
	admin.Request
	Shop string     `json:"shop"`
	Item rules.Item `json:"item"`
}

// item serves ItemPath: the item checked by the gift rules (30%, local)
// and written as the server's op to the shop's feed.
func (s *Service) item(w http.ResponseWriter, r *http.Request, body []byte, by string) (string, error) {
	var req ItemRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return "", fmt.Errorf("%w: %v", errMalformed, err)
	}
	all, err := s.d.Facilities()
	if err != nil {
		return "", err
	}
	if f, ok := all[req.Shop]; !ok || f.Kind != facility.Donation {
		return "", fmt.Errorf("%w: %q", errShop, req.Shop)
	}
	ops, err := publish.Ops(rules.OpItem, []rules.Listing{{Shop: req.Shop, Item: req.Item}}, rules.Listing.Validate)
	if err != nil {
		return "", err
	}
	if err := s.d.Writer.Write(r.Context(), ops, nil); err != nil {
		return "", err
	}
	writeJSON(w, req.Item)
	return fmt.Sprintf("%s %s ¥%d cost ¥%d stock %d", req.Shop, req.Item.ID, req.Item.Donation, req.Item.Cost, req.Item.Stock), nil
}

var (
	errMalformed = errors.New("furusato: malformed request")
	errShop      = errors.New("furusato: no donation shop")
	errReport    = errors.New("furusato: no such report")
)

// ExportRequest asks for one residence municipality's batch.
type ExportRequest struct {
	admin.Request
	Municipality string `json:"municipality"` // 東京都世田谷区
}

// export serves ExportPath: the batch of one municipality of residence,
// as the vault writes it (numbervault.ExportFormat: a CSV in UTF-8, CRLF,
// its first line the format's name, the municipality and the count,
// then one line per application: its id and the individual number),
// followed by nothing; the vault deletes the numbers once written, and
// the applications are marked exported. The forms themselves (no
// number) are in the onestop report.
func (s *Service) export(w http.ResponseWriter, r *http.Request, body []byte, by string) (string, error) {
	var req ExportRequest
	if err := json.Unmarshal(body, &req); err != nil || req.Municipality == "" {
		return "", fmt.Errorf("%w: name the municipality of residence", errMalformed)
	}
	// The file goes to the caller; the copy kept here is read for the
	// ids only, and dropped.
	var sent bytes.Buffer
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="onestop-export.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	n, err := s.d.Vault.Export(by, req.Municipality, io.MultiWriter(w, &sent))
	ids := exportedIDs(sent.Bytes())
	clear(sent.Bytes())
	if err != nil && n == 0 {
		return "", err
	}
	now := s.d.Now().UTC()
	if merr := s.d.Log.Update(func(tx store.Tx) error {
		for _, id := range ids {
			b, err := tx.Get(recApplication, id)
			if err != nil {
				return err
			}
			var a application
			if err := json.Unmarshal(b, &a); err != nil {
				return err
			}
			a.Exported = now
			if err := putApplication(tx, a); err != nil {
				return err
			}
		}
		return nil
	}); merr != nil {
		err = errors.Join(err, merr)
	}
	return fmt.Sprintf("%s: %d applications", req.Municipality, n), err
}

// forms serves FormsPath: the forms of one municipality of residence's
// applications as a CSV for Excel (app/excelcsv), one line each: the
// application's id (the export file's first column), the form's fields
// (第55号の5 without the number), and what verifies the card's
// signature: the form as JSON, the nonce, the certificate and the
// signature (hex), signed over furusato.Message(nonce, form, the
// number of the export file). The exported ones stay listed with their
// export time, for the municipality's questions.
//
// The bytes are hex, not base64: a base64 cell starts with + for one
// value in 64 of its first byte, and excelcsv guards such a cell with an
// apostrophe, so about one form in 32 (nonce, signature) would not
// verify as read (proofCell).
func (s *Service) forms(w http.ResponseWriter, r *http.Request, body []byte, by string) (string, error) {
	var req ExportRequest
	if err := json.Unmarshal(body, &req); err != nil || req.Municipality == "" {
		return "", fmt.Errorf("%w: name the municipality of residence", errMalformed)
	}
	apps, err := s.applications(func(a application) bool { return a.Municipality == req.Municipality })
	if err != nil {
		return "", err
	}
	rows := [][]string{{"申請番号 id", "寄附先 city", "氏名 name", "フリガナ reading", "住所 address", "電話 phone", "性別 sex", "生年月日 birth",
		"寄附日 donated", "寄附額 amount", "申告1 salaried", "申告2 five or fewer", "申請日 filed", "送付 exported",
		"様式 form (JSON)", "nonce (hex)", "署名用証明書 cert (hex)", "署名 sig (hex)"}}
	for _, a := range apps {
		form, err := json.Marshal(a.Form)
		if err != nil {
			return "", err
		}
		exported := ""
		if !a.Exported.IsZero() {
			exported = a.Exported.In(jst).Format(time.DateTime)
		}
		f := a.Form
		rows = append(rows, []string{a.ID, f.City, f.Facts.Name, f.Reading, f.Facts.Address, f.Phone, f.Facts.Sex, f.Facts.BirthDate,
			f.Donated.In(jst).Format(time.DateOnly), strconv.FormatInt(f.Amount, 10), strconv.FormatBool(f.Salaried), strconv.FormatBool(f.FiveOrFewer),
			a.Filed.In(jst).Format(time.DateTime), exported, string(form), proofCell(a.Nonce), proofCell(a.Cert), proofCell(a.Sig)})
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="onestop-forms.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	return fmt.Sprintf("%s: %d forms", req.Municipality, len(apps)), excelcsv.Write(w, rows)
}

// proofCell is how the forms file writes bytes a verifier reads back
// exactly: hex, whose digits never start a spreadsheet formula, so
// excelcsv writes the cell as it is.
func proofCell(b []byte) string { return hex.EncodeToString(b) }

// exportedIDs reads the application ids of an export file.
func exportedIDs(file []byte) []string {
	r := csv.NewReader(bytes.NewReader(file))
	r.FieldsPerRecord = -1 // the first line is the format's, with three
	rows, err := r.ReadAll()
	if err != nil || len(rows) == 0 {
		return nil
	}
	var out []string
	for _, r := range rows[1:] {
		if len(r) > 0 {
			out = append(out, r[0])
		}
	}
	return out
}

// ReportRequest asks for one of the city's reports.
type ReportRequest struct {
	admin.Request
	// Report is "shops", "items", "months", "ratio" or "onestop".
	Report string `json:"report"`
}

// report serves ReportPath: the report as a CSV for Excel (app/excelcsv).
func (s *Service) report(w http.ResponseWriter, r *http.Request, body []byte, by string) (string, error) {
	var req ReportRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return "", fmt.Errorf("%w: %v", errMalformed, err)
	}
	rows, err := s.reportRows(req.Report)
	if err != nil {
		return "", err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="furusato-`+req.Report+`.csv"`)
	return req.Report, excelcsv.Write(w, rows)
}
