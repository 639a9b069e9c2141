package main

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
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/server/audit"
	"smartpass.city/smartpass/server/devices"
	"smartpass.city/smartpass/server/facilities"
	"smartpass.city/smartpass/server/httpguard"
	"smartpass.city/smartpass/server/oplog"
	"smartpass.city/smartpass/server/residents"
	"smartpass.city/smartpass/syncproto"
)

// accounts serves account.CreatePath and account.RecoverPath: a resident
// opens an account with the card's signature certificate over a card
// nonce (syncproto.CardNoncePath), or moves it to a new device. Every
// attempt is audited by account id, never by what the card says.
type accounts struct {
	reg        *residents.Registry // nil: no JPKI anchors configured
	log        *oplog.Log
	facilities devices.Facilities
	// lookup finds an enrolled device (devices.Registry.Lookup): a city
	// desk's requests are signed with its device key.
	lookup func(id string) (ed25519.PublicKey, scope.Device, error)
	// passKey signs QR passes (passKey()).
	passKey ed25519.PrivateKey
	// city is the municipality whose residents a play park admits free,
	// as it appears in the card's address ("加賀市").
	city   string
	audit  *audit.Log
	logger *slog.Logger
}

func (a *accounts) open(w http.ResponseWriter, r *http.Request) {
	a.serve(w, r, "account.open", a.reg.Open)
}

func (a *accounts) recover(w http.ResponseWriter, r *http.Request) {
	a.serve(w, r, "account.recover", func(req account.Request) (account.Account, error) {
		acct, err := a.reg.Recover(req)
		if err == nil && req.Link != nil && len(acct.FaceAt) > 0 {
			// A renewed card, linked: the terminals learn it.
			err = a.publishProfiles(context.Background(), acct, acct.FaceAt)
		}
		return acct, err
	})
}

// members serves account.MembersPath: the account's holder adds a
// family member.
func (a *accounts) members(w http.ResponseWriter, r *http.Request) {
	a.signed(w, r, account.MembersPath, "account.member.add", func(holder account.Account, body []byte) (any, string, error) {
		m, err := decode[account.Member](body)
		if err != nil {
			return nil, "", err
		}
		added, err := a.reg.AddMember(holder.ID, m)
		if errors.Is(err, residents.ErrExists) {
			err = errMember{err}
		}
		return added, added.ID + " " + added.Source, err
	})
}

// household serves account.HouseholdPath: the account's holder reads
// what is held about them and their family (a read of personal data,
// audited).
func (a *accounts) household(w http.ResponseWriter, r *http.Request) {
	a.signed(w, r, account.HouseholdPath, "account.household.read", func(holder account.Account, _ []byte) (any, string, error) {
		h, err := a.reg.Household(holder.ID)
		return h, "", err
	})
}

// face serves account.FacePath: the holder registers their own face, or
// a family member's, for the facilities they consent to. The server
// records the template as its own op, which the consented facilities'
// terminals receive on their template feeds; a registration replaces the
// person's earlier one, consent included.
func (a *accounts) face(w http.ResponseWriter, r *http.Request) {
	a.signed(w, r, account.FacePath, "account.face.register", func(holder account.Account, body []byte) (any, string, error) {
		t, err := decode[template.Template](body)
		if err != nil {
			return nil, "", err
		}
		if err := t.Validate(); err != nil {
			return nil, "", errConsent{err}
		}
		h, err := a.reg.Household(holder.ID)
		if err != nil {
			return nil, "", err
		}
		person, ok := h.Person(t.Resident)
		if !ok {
			return nil, "", fmt.Errorf("%w: %s", residents.ErrNotYours, t.Resident)
		}
		// The server sets the renewal date, by the person's age.
		if t.Expires, err = account.FaceExpiry(person.Facts.BirthDate, time.Now()); err != nil {
			return nil, "", err
		}
		recognising, err := a.recognising()
		if err != nil {
			return nil, "", err
		}
		for _, f := range t.Facilities {
			if !slices.Contains(recognising, f) {
				return nil, "", errConsent{fmt.Errorf("%s does not recognise faces", f)}
			}
		}
		// Every other facility that recognises faces gets the template's
		// removal first: consent withdrawn there takes the face off its
		// terminals at their next sync.
		others := slices.DeleteFunc(recognising, func(id string) bool { return slices.Contains(t.Facilities, id) })
		var ops []syncproto.Op
		if len(others) > 0 {
			del, err := json.Marshal(template.Delete{Resident: t.Resident, Facilities: others})
			if err != nil {
				return nil, "", err
			}
			ops = append(ops, syncproto.Op{Kind: template.OpDelete, Body: del})
		}
		put, err := json.Marshal(t)
		if err != nil {
			return nil, "", err
		}
		if err := facilities.Append(r.Context(), a.log, append(ops, syncproto.Op{Kind: template.OpPut, Body: put})...); err != nil {
			return nil, "", err
		}
		if err := a.publishProfiles(r.Context(), person, t.Facilities); err != nil {
			return nil, "", err
		}
		return struct{}{}, t.Resident + " " + strings.Join(t.Facilities, " "), a.reg.SetFace(t.Resident, t.Expires, t.Facilities)
	})
}

// faceDelete serves account.FaceDeletePath: the holder deletes their own
// face or a family member's, everywhere: the template's removal reaches
// every facility that recognises faces, and the server erases the
// template from its log.
func (a *accounts) faceDelete(w http.ResponseWriter, r *http.Request) {
	a.signed(w, r, account.FaceDeletePath, "account.face.delete", func(holder account.Account, body []byte) (any, string, error) {
		p, err := decode[account.Person](body)
		if err != nil {
			return nil, "", err
		}
		if err := a.reg.InHousehold(holder.ID, p.Resident); err != nil {
			return nil, "", err
		}
		if err := a.eraseFaces(r, p.Resident); err != nil {
			return nil, "", err
		}
		return struct{}{}, p.Resident, a.reg.SetFace(p.Resident, time.Time{}, nil)
	})
}

// remove serves account.DeletePath: the holder deletes the account, with
// the family members they added and every face of theirs.
func (a *accounts) remove(w http.ResponseWriter, r *http.Request) {
	a.signed(w, r, account.DeletePath, "account.delete", func(holder account.Account, _ []byte) (any, string, error) {
		h, err := a.reg.Household(holder.ID)
		if err != nil {
			return nil, "", err
		}
		ids := h.IDs()
		if err := a.eraseFaces(r, ids...); err != nil {
			return nil, "", err
		}
		gone, err := a.reg.Delete(holder.ID)
		return struct{}{}, strings.Join(gone, " "), err
	})
}

// eraseFaces records the removal of the residents' templates at every
// facility that recognises faces.
func (a *accounts) eraseFaces(r *http.Request, residents ...string) error {
	facs, err := a.recognising()
	if err != nil {
		return err
	}
	var ops []syncproto.Op
	for _, id := range residents {
		b, err := json.Marshal(template.Delete{Resident: id, Facilities: facs})
		if err != nil {
			return err
		}
		ops = append(ops, syncproto.Op{Kind: template.OpDelete, Body: b})
	}
	return facilities.Append(r.Context(), a.log, ops...)
}

// history serves account.HistoryPath: when and where terminals
// recognised the holder's or a family member's face, newest first, from
// the audit log's entries about each of them (a read of it, audited in
// turn).
func (a *accounts) history(w http.ResponseWriter, r *http.Request) {
	a.signed(w, r, account.HistoryPath, "account.history.read", func(holder account.Account, _ []byte) (any, string, error) {
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
	})
}

// consent serves account.ConsentPath: the holder grants or withdraws a
// purpose for a resident of the household.
func (a *accounts) consent(w http.ResponseWriter, r *http.Request) {
	a.signed(w, r, account.ConsentPath, "account.consent", func(holder account.Account, body []byte) (any, string, error) {
		c, err := decode[account.Consent](body)
		if err != nil {
			return nil, "", err
		}
		if err := a.reg.SetConsent(holder.ID, c); err != nil {
			return nil, "", err
		}
		// The facilities that recognise the person learn the consent
		// with their profile (a shelter may then answer inquirers).
		person, err := a.reg.Person(c.Resident)
		if err == nil && len(person.FaceAt) > 0 {
			err = a.publishProfiles(r.Context(), person, person.FaceAt)
		}
		return struct{}{}, fmt.Sprintf("%s %s %t", c.Resident, c.Purpose, c.Granted), err
	})
}

// desk serves account.DeskPath: a city desk's device registers a
// resident whose card has no signature certificate (a face-only card, an
// under-16's card): the four facts read with the resident's PIN, the
// person checked by the named staff member against the card's photo.
// Only a registrar device may; the proof is recorded as supervised, by
// whom.
func (a *accounts) desk(w http.ResponseWriter, r *http.Request) {
	serveDesk(a, w, r, account.DeskPath, "desk.enroll", func(s account.Supervised) string { return s.Staff },
		func(s account.Supervised, by string) (any, string, error) {
			acc, err := a.reg.AddSupervised(s.Facts, by)
			if errors.Is(err, residents.ErrExists) {
				err = errMember{err}
			}
			return acc, acc.ID, err
		})
}

// deskHousehold serves account.DeskHouseholdPath: a city desk's device
// lets one household hold more family members than account.MaxMembers,
// the named staff member having checked them. Only a registrar device
// may; the cap is recorded with who set it, and audited.
func (a *accounts) deskHousehold(w http.ResponseWriter, r *http.Request) {
	serveDesk(a, w, r, account.DeskHouseholdPath, "desk.household.cap", func(c account.HouseholdCap) string { return c.Staff },
		func(c account.HouseholdCap, by string) (any, string, error) {
			return struct{}{}, c.Holder, a.reg.SetCap(c.Holder, c.Max, by)
		})
}

// serveDesk serves a request to path signed by a city desk's device (a
// registrar, its signature over a nonce used once) whose body must name
// the staff member who checked (staff returns the name): do gets the
// body and who decided ("device staff") and returns the answer and the
// resident it concerns; audited as action on them, by the device.
func serveDesk[T any](a *accounts, w http.ResponseWriter, r *http.Request, path, action string, staff func(T) string, do func(body T, by string) (any, string, error)) {
	req, ok := read[account.Signed](a, w, r)
	if !ok {
		return
	}
	out, subject, err := func() (any, string, error) {
		key, dev, err := a.lookup(req.Signer)
		if err != nil || dev.Role != scope.Registrar {
			return nil, "", fmt.Errorf("%w: a city desk's device only (%v)", residents.ErrSigned, err)
		}
		if err := a.reg.CheckSigned(path, req, key); err != nil {
			return nil, "", err
		}
		v, err := decode[T](req.Body)
		if err != nil {
			return nil, "", err
		}
		who := strings.TrimSpace(staff(v))
		if who == "" {
			return nil, "", errStaff
		}
		return do(v, req.Signer+" "+who)
	}()
	a.answer(w, r, action, subject, req.Signer, out, err)
}

// errStaff is a desk enrollment that names no staff member.
var errStaff = errors.New("accounts: name the staff member who checked the person")

// recognising returns the ids, in order, of the facilities whose
// terminals match faces.
func (a *accounts) recognising() ([]string, error) {
	facs, err := a.recognisingFacilities()
	ids := make([]string, len(facs))
	for i, f := range facs {
		ids[i] = f.ID
	}
	return ids, err
}

// recognisingFacilities returns the facilities whose terminals match
// faces, by id.
func (a *accounts) recognisingFacilities() ([]facility.Facility, error) {
	all, err := a.facilities()
	if err != nil {
		return nil, err
	}
	out := []facility.Facility{}
	for _, f := range all {
		if slices.Contains(facility.RecognisingFaces, f.Kind) {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(x, y facility.Facility) int { return strings.Compare(x.ID, y.ID) })
	return out, nil
}

// facilityList serves account.FacilitiesPath: the facilities that
// recognise faces, public records, for the resident's consent choices.
func (a *accounts) facilityList(w http.ResponseWriter, r *http.Request) {
	out, err := a.recognisingFacilities()
	if err != nil {
		httpguard.Internal(w, r, a.logger, "facilities", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// errConsent is a face registration with no usable facility.
type errConsent struct{ error }

func (e errConsent) Unwrap() error { return e.error }

// decode reads a signed request's body as a T.
func decode[T any](body []byte) (T, error) {
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		return v, fmt.Errorf("%w: %v", residents.ErrRequest, err)
	}
	return v, nil
}

// errMember is a family member who is registered already.
type errMember struct{ error }

func (e errMember) Unwrap() error { return e.error }

// read reads a request of the account endpoints as JSON, or answers why
// it cannot.
func read[T any](a *accounts, w http.ResponseWriter, r *http.Request) (T, bool) {
	var req T
	if a.reg == nil {
		refuseNoAnchors(w)
		return req, false
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 32<<10)).Decode(&req); err != nil {
		writeRefusal(w, http.StatusBadRequest, syncproto.CodeMalformed, "the request is not valid JSON")
		return req, false
	}
	return req, true
}

// signed serves a request of an account's holder: authenticated, then
// do, whose answer is sent as JSON; audited as action on the account,
// with detail.
func (a *accounts) signed(w http.ResponseWriter, r *http.Request, path, action string, do func(holder account.Account, body []byte) (answer any, detail string, err error)) {
	req, ok := read[account.Signed](a, w, r)
	if !ok {
		return
	}
	holder, body, err := a.reg.Authenticate(path, req)
	var out any
	detail := ""
	if err == nil {
		out, detail, err = do(holder, body)
	}
	a.answer(w, r, action, holder.ID, detail, out, err)
}

func (a *accounts) serve(w http.ResponseWriter, r *http.Request, action string, do func(account.Request) (account.Account, error)) {
	req, ok := read[account.Request](a, w, r)
	if !ok {
		return
	}
	acc, err := do(req)
	a.answer(w, r, action, acc.ID, "", acc, err)
}

// answer sends out, or the refusal of err, and audits either on subject.
func (a *accounts) answer(w http.ResponseWriter, r *http.Request, action, subject, detail string, out any, err error) {
	if err != nil {
		status, code := accountRefusal(err)
		if subject == "" {
			// Nobody proved who they are: counted, not appended.
			a.audit.Refused(action+".refused", remoteHost(r), code)
		} else {
			a.audit.Note(r.RemoteAddr, action+".refused", subject, code)
		}
		if status == http.StatusInternalServerError {
			httpguard.Internal(w, r, a.logger, action, err)
			return
		}
		writeRefusal(w, status, code, err.Error())
		return
	}
	a.audit.Note(r.RemoteAddr, action, subject, detail)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(out)
}

// accountRefusal is the HTTP status and code of an account error.
func accountRefusal(err error) (int, string) {
	var member errMember
	var consent errConsent
	switch {
	case errors.As(err, &member):
		return http.StatusConflict, account.CodeMember
	case errors.As(err, &consent):
		return http.StatusBadRequest, account.CodeConsent
	case errors.Is(err, residents.ErrNotYours):
		return http.StatusForbidden, account.CodeNotYours
	case errors.Is(err, errStaff):
		return http.StatusBadRequest, account.CodeStaff
	case errors.Is(err, residents.ErrPurpose):
		return http.StatusBadRequest, account.CodePurpose
	case errors.Is(err, residents.ErrCardLinked):
		return http.StatusConflict, account.CodeCardLinked
	case errors.Is(err, residents.ErrHouseholdFull):
		return http.StatusForbidden, account.CodeHouseholdFull
	case errors.Is(err, residents.ErrCap):
		return http.StatusBadRequest, account.CodeCap
	case errors.Is(err, residents.ErrExists):
		return http.StatusConflict, account.CodeExists
	case errors.Is(err, residents.ErrSigned):
		return http.StatusForbidden, account.CodeSigned
	case errors.Is(err, residents.ErrFacts):
		return http.StatusBadRequest, account.CodeFacts
	case errors.Is(err, residents.ErrTooYoung):
		return http.StatusForbidden, account.CodeTooYoung
	case errors.Is(err, residents.ErrNone):
		return http.StatusNotFound, account.CodeNone
	case errors.Is(err, jpki.ErrNoFacts):
		return http.StatusBadRequest, account.CodeNoFacts
	case errors.Is(err, residents.ErrRequest), errors.Is(err, account.ErrBirthDate):
		return http.StatusBadRequest, syncproto.CodeInvalid
	case errors.Is(err, jpki.ErrNonce), errors.Is(err, jpki.ErrUntrusted), errors.Is(err, jpki.ErrExpired),
		errors.Is(err, jpki.ErrRevoked), errors.Is(err, jpki.ErrSignature), errors.Is(err, jpki.ErrNoStatus):
		return http.StatusForbidden, jpki.Code(err)
	}
	return http.StatusInternalServerError, syncproto.CodeInternal
}
