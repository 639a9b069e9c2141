package api

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/server/audit"
	"smartpass.city/smartpass/server/devices"
	"smartpass.city/smartpass/server/faces"
	"smartpass.city/smartpass/server/httpguard"
	"smartpass.city/smartpass/server/ledger"
	"smartpass.city/smartpass/server/residents"
	"smartpass.city/smartpass/server/routes"
	"smartpass.city/smartpass/server/signedreq"
	"smartpass.city/smartpass/syncproto"
)

// accounts serves the account API (account.API): a resident opens an
// account with the card's signature certificate over a card nonce
// (syncproto.CardNoncePath), or moves it to a new device, then acts on it
// with requests signed by the account's key; a city desk's device
// registers residents. Faces go through the one door (faces.Door). Every
// attempt is audited by account id, never by what the card says.
type accounts struct {
	reg        *residents.Registry // nil: no JPKI anchors configured
	faces      *faces.Door
	facilities devices.Facilities
	// lookup finds an enrolled device (devices.Registry.Lookup): a city
	// desk's requests are signed with its device key.
	lookup func(id string) (ed25519.PublicKey, scope.Device, error)
	// passKey signs QR passes (passKey()).
	passKey ed25519.PrivateKey
	audit   *audit.Log
	logger  *slog.Logger
	// ledger closes the wallets of a deleted account.
	ledger *ledger.Ledger
}

// routes adds the account API (account.API) to mux.
func (a *accounts) routes(mux routes.Mux) {
	api := account.API
	unsigned(mux, a, api.Open, "account.open", func(req account.Request) (account.Account, error) { return a.reg.Open(req) })
	unsigned(mux, a, api.Recover, "account.recover", a.recover)
	byHolder(mux, a, api.AddMember, "account.member.add", a.addMember)
	byHolder(mux, a, api.Household, "account.household.read", a.household)
	byHolder(mux, a, api.RegisterFace, "account.face.register", a.face)
	byHolder(mux, a, api.DeleteFace, "account.face.delete", a.faceDelete)
	byHolder(mux, a, api.Delete, "account.delete", a.remove)
	byHolder(mux, a, api.History, "account.history.read", a.history)
	byHolder(mux, a, api.Consent, "account.consent", a.consent)
	byHolder(mux, a, api.Pass, "account.pass", a.pass)
	byDesk(mux, a, api.DeskEnroll, "desk.enroll", func(s account.Supervised) string { return s.Staff }, a.desk)
	byDesk(mux, a, api.DeskHousehold, "desk.household.cap", func(c account.HouseholdCap) string { return c.Staff }, a.deskHousehold)
	mux.HandleFunc(api.Facilities.Pattern(), a.facilityList)
}

// recover moves an account to a new device.
func (a *accounts) recover(req account.Request) (account.Account, error) {
	acct, err := a.reg.Recover(req)
	if err == nil && req.Link != nil && len(acct.FaceAt) > 0 {
		// A renewed card, linked: the terminals learn it.
		err = a.faces.Profiles(context.Background(), acct)
	}
	return acct, err
}

// addMember serves account.MembersPath: the account's holder adds a
// family member.
func (a *accounts) addMember(ctx context.Context, holder account.Account, m account.Member) (account.Account, string, error) {
	added, err := a.reg.AddMember(holder.ID, m)
	if errors.Is(err, residents.ErrExists) {
		err = errMember{err}
	}
	return added, added.ID + " " + added.Source, err
}

// household serves account.HouseholdPath: the account's holder reads
// what is held about them and their family (a read of personal data,
// audited).
func (a *accounts) household(ctx context.Context, holder account.Account, _ account.None) (account.Household, string, error) {
	h, err := a.reg.Household(holder.ID)
	return h, "", err
}

// face serves account.FacePath: the holder registers their own face, or
// a family member's, for the facilities they consent to. The server
// records the template as its own op, which the consented facilities'
// terminals receive on their template feeds; a registration replaces the
// person's earlier one, consent included.
func (a *accounts) face(ctx context.Context, holder account.Account, t template.Template) (account.None, string, error) {
	if err := a.reg.InHousehold(holder.ID, t.Resident); err != nil {
		return account.None{}, "", err
	}
	if err := a.faces.Register(ctx, t); err != nil {
		return account.None{}, "", err
	}
	return account.None{}, t.Resident + " " + strings.Join(t.Facilities, " "), nil
}

// faceDelete serves account.FaceDeletePath: the holder deletes their own
// face or a family member's, everywhere: the template's removal reaches
// every facility that recognises faces, and the server erases the
// template from its log.
func (a *accounts) faceDelete(ctx context.Context, holder account.Account, p account.Person) (account.None, string, error) {
	if err := a.reg.InHousehold(holder.ID, p.Resident); err != nil {
		return account.None{}, "", err
	}
	return account.None{}, p.Resident, a.faces.Delete(ctx, p.Resident)
}

// remove serves account.DeletePath: the holder deletes the account, with
// the family members they added and every face of theirs.
func (a *accounts) remove(ctx context.Context, holder account.Account, _ account.None) (account.None, string, error) {
	h, err := a.reg.Household(holder.ID)
	if err != nil {
		return account.None{}, "", err
	}
	if err := a.faces.Delete(ctx, h.IDs()...); err != nil {
		return account.None{}, "", err
	}
	gone, err := a.reg.Delete(holder.ID)
	if err == nil && a.ledger != nil {
		err = a.ledger.Close("resident:"+holder.ID, gone...)
	}
	return account.None{}, strings.Join(gone, " "), err
}

// history serves account.HistoryPath: when and where terminals
// recognised the holder's or a family member's face, newest first, from
// the audit log's entries about each of them (a read of it, audited in
// turn).
func (a *accounts) history(ctx context.Context, holder account.Account, _ account.None) ([]account.Visit, string, error) {
	h, err := a.reg.Household(holder.ID)
	if err != nil {
		return nil, "", err
	}
	all, err := a.facilities()
	if err != nil {
		return nil, "", err
	}
	var entries []audit.Entry
	for _, id := range h.IDs() {
		err := a.audit.About(id, func(e audit.Entry) {
			if e.Action == identify.OpIdentified {
				entries = append(entries, e)
			}
		})
		if err != nil {
			return nil, "", err
		}
	}
	slices.SortFunc(entries, func(x, y audit.Entry) int { return cmp.Compare(y.Seq, x.Seq) })
	visits := []account.Visit{}
	for _, e := range entries {
		fac, _, _ := strings.Cut(e.Detail, " ") // "facility method outcome"
		f := all[fac]
		visits = append(visits, account.Visit{Time: e.Time, Resident: e.Subject, Facility: fac, NameJA: f.NameJA, NameEN: f.NameEN})
	}
	return visits, "", nil
}

// consent serves account.ConsentPath: the holder grants or withdraws a
// purpose for a resident of the household.
func (a *accounts) consent(ctx context.Context, holder account.Account, c account.Consent) (account.None, string, error) {
	if err := a.reg.SetConsent(holder.ID, c); err != nil {
		return account.None{}, "", err
	}
	// The facilities that recognise the person learn the consent
	// with their profile (a shelter may then answer inquirers).
	person, err := a.reg.Person(c.Resident)
	if err == nil {
		err = a.faces.Profiles(ctx, person)
	}
	return account.None{}, fmt.Sprintf("%s %s %t", c.Resident, c.Purpose, c.Granted), err
}

// desk serves account.DeskPath: a city desk's device registers a
// resident whose card has no signature certificate (a face-only card, an
// under-16's card): the four facts read with the resident's PIN, the
// person checked by the named staff member against the card's photo
// (by the card-face check or by sight: s.Check, kept with the
// resident). Only a registrar device may; the proof is recorded as
// supervised, by whom.
func (a *accounts) desk(s account.Supervised, by string) (account.Account, string, error) {
	acc, err := a.reg.AddAtDesk(s, by)
	if errors.Is(err, residents.ErrExists) {
		err = errMember{err}
	}
	return acc, acc.ID, err
}

// deskHousehold serves account.DeskHouseholdPath: a city desk's device
// lets one household hold more family members than account.MaxMembers,
// the named staff member having checked them. Only a registrar device
// may; the cap is recorded with who set it, and audited.
func (a *accounts) deskHousehold(c account.HouseholdCap, by string) (account.None, string, error) {
	return account.None{}, c.Holder, a.reg.SetCap(c.Holder, c.Max, by)
}

// byDesk routes ep, signed by a city desk's device (a registrar, its
// signature over a nonce used once) whose body must name the staff
// member who checked (staff returns the name): do gets the body and who
// decided ("device staff") and returns the answer and the resident it
// concerns; audited as action on them, by the device.
func byDesk[Req, Resp any](mux routes.Mux, a *accounts, ep account.Endpoint[Req, Resp], action string, staff func(Req) string, do func(body Req, by string) (Resp, string, error)) {
	mux.HandleFunc(ep.Pattern(), func(w http.ResponseWriter, r *http.Request) {
		req, ok := read[account.Signed](a, w, r)
		if !ok {
			return
		}
		out, subject, err := func() (Resp, string, error) {
			var zero Resp
			key, dev, err := a.lookup(req.Signer)
			if err != nil || dev.Role != scope.Registrar {
				return zero, "", fmt.Errorf("%w: a city desk's device only (%v)", residents.ErrSigned, err)
			}
			if err := a.reg.CheckSigned(ep.Path, req, key); err != nil {
				return zero, "", err
			}
			v, err := signedreq.Body[Req](req.Body)
			if err != nil {
				return zero, "", err
			}
			who := strings.TrimSpace(staff(v))
			if who == "" {
				return zero, "", errStaff
			}
			return do(v, req.Signer+" "+who)
		}()
		a.answer(w, r, action, subject, req.Signer, out, err)
	})
}

// byHolder routes ep, signed by an account's holder (signedreq), then
// do, whose answer is sent as JSON; audited as action on the account,
// with do's detail.
func byHolder[Req, Resp any](mux routes.Mux, a *accounts, ep account.Endpoint[Req, Resp], action string, do signedreq.Do[Req, Resp]) {
	signedreq.Route(mux, ep, signedreq.Reader{Registry: a.reg, Limit: maxRequest}, a.holderAnswer, action, do)
}

// holderAnswer answers a holder's request (signedreq.Answer): a request
// that is not a signed envelope, or a server without accounts, is
// refused before anybody is proven and is not audited, as read does.
func (a *accounts) holderAnswer(w http.ResponseWriter, r *http.Request, action string, holder account.Account, detail string, out any, err error) {
	switch {
	case errors.Is(err, signedreq.ErrNoRegistry):
		refuseNoAnchors(w)
	case errors.Is(err, signedreq.ErrMalformed):
		refuse(w, refuseMalformed)
	default:
		a.answer(w, r, action, holder.ID, detail, out, err)
	}
}

// unsigned routes ep, whose request proves itself (a card's signature).
func unsigned[Req any](mux routes.Mux, a *accounts, ep account.Endpoint[Req, account.Account], action string, do func(Req) (account.Account, error)) {
	mux.HandleFunc(ep.Pattern(), func(w http.ResponseWriter, r *http.Request) {
		req, ok := read[Req](a, w, r)
		if !ok {
			return
		}
		acc, err := do(req)
		a.answer(w, r, action, acc.ID, "", acc, err)
	})
}

// errStaff is a desk enrollment that names no staff member.
var errStaff = errors.New("accounts: name the staff member who checked the person")

// facilityList serves account.FacilitiesPath: the facilities that
// recognise faces, public records, for the resident's consent choices.
func (a *accounts) facilityList(w http.ResponseWriter, r *http.Request) {
	out, err := a.faces.Recognising()
	if err != nil {
		httpguard.Internal(w, r, a.logger, "facilities", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// errMember is a family member who is registered already.
type errMember struct{ error }

func (e errMember) Unwrap() error { return e.error }

// maxRequest bounds a request of the account endpoints.
const maxRequest = 32 << 10

// read reads a request of the account endpoints as JSON, or answers why
// it cannot.
func read[T any](a *accounts, w http.ResponseWriter, r *http.Request) (T, bool) {
	var req T
	if a.reg == nil {
		refuseNoAnchors(w)
		return req, false
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequest)).Decode(&req); err != nil {
		refuse(w, refuseMalformed)
		return req, false
	}
	return req, true
}

// answer sends out, or the refusal of err, and audits either on subject.
func (a *accounts) answer(w http.ResponseWriter, r *http.Request, action, subject, detail string, out any, err error) {
	if err != nil {
		ref, ok := refusalOf(err)
		code := ref.Code
		if !ok {
			code = syncproto.CodeInternal
		}
		if subject == "" {
			// Nobody proved who they are: counted, not appended.
			a.audit.Refused(action+".refused", httpguard.ClientOf(r).Host, code)
		} else {
			a.audit.Note(r.RemoteAddr, action+".refused", subject, code)
		}
		fail(w, r, a.logger, action, err)
		return
	}
	a.audit.Note(r.RemoteAddr, action, subject, detail)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(out)
}
