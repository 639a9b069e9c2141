package main

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/server/audit"
	"smartpass.city/smartpass/server/residents"
	"smartpass.city/smartpass/syncproto"
)

// accounts serves account.CreatePath and account.RecoverPath: a resident
// opens an account with the card's signature certificate over a card
// nonce (syncproto.CardNoncePath), or moves it to a new device. Every
// attempt is audited by account id, never by what the card says.
type accounts struct {
	reg    *residents.Registry // nil: no JPKI anchors configured
	audit  *audit.Log
	logger *slog.Logger
}

func (a *accounts) open(w http.ResponseWriter, r *http.Request) {
	a.serve(w, r, "account.open", func(req account.Request) (account.Account, error) { return a.reg.Open(req) })
}

func (a *accounts) recover(w http.ResponseWriter, r *http.Request) {
	a.serve(w, r, "account.recover", func(req account.Request) (account.Account, error) { return a.reg.Recover(req) })
}

func (a *accounts) serve(w http.ResponseWriter, r *http.Request, action string, do func(account.Request) (account.Account, error)) {
	if a.reg == nil {
		writeRefusal(w, http.StatusServiceUnavailable, syncproto.CodeCardUnavailable, "this server has no JPKI trust anchors configured (-jpki-roots)")
		return
	}
	var req account.Request
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 32<<10)).Decode(&req); err != nil {
		writeRefusal(w, http.StatusBadRequest, syncproto.CodeMalformed, "the account request is not valid JSON")
		return
	}
	acc, err := do(req)
	if err != nil {
		status, code := accountRefusal(err)
		if status == http.StatusInternalServerError {
			a.logger.Error(action, "err", err)
		}
		a.audit.Note(r.RemoteAddr, action+".refused", "", code)
		writeRefusal(w, status, code, err.Error())
		return
	}
	a.audit.Note(r.RemoteAddr, action, acc.ID, "")
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(acc)
}

// accountRefusal is the HTTP status and code of an account error.
func accountRefusal(err error) (int, string) {
	switch {
	case errors.Is(err, residents.ErrExists):
		return http.StatusConflict, account.CodeExists
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
