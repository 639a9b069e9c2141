package api

import (
	"errors"
	"log/slog"
	"net/http"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/admin"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/server/faces"
	"smartpass.city/smartpass/server/httpguard"
	"smartpass.city/smartpass/server/refusal"
	"smartpass.city/smartpass/server/residents"
	"smartpass.city/smartpass/syncproto"
)

// Refusal is a request the server turns down for a reason the caller can
// act on (package refusal). Every refusal of the API is in refusals,
// below, or is one a routed package (server/visits) words itself;
// anything else is a failure of the server, answered with a generic 500
// (httpguard.Internal) and logged with its cause.
type Refusal = refusal.Refusal

// refusals maps each refused error to its Refusal, first match wins. The
// errors are the domain packages' own (residents, jpki, account) and this
// package's; the table is the one place where they become HTTP.
var refusals = []struct {
	is  func(error) bool
	ref Refusal
}{
	{as[errMember], Refusal{http.StatusConflict, account.CodeMember, "この人はもう登録されています。", "This person is registered already."}},
	{is(faces.ErrConsent), Refusal{http.StatusBadRequest, account.CodeConsent, "顔で確認できる施設を選んでください。", "Choose facilities that recognise faces."}},
	{is(residents.ErrNotYours), Refusal{http.StatusForbidden, account.CodeNotYours, "この人はあなたの世帯にいません。", "This person is not in your household."}},
	{is(errStaff), Refusal{http.StatusBadRequest, account.CodeStaff, "確認した職員の名前を入れてください。", "Name the staff member who checked the person."}},
	{is(residents.ErrPurpose), Refusal{http.StatusBadRequest, account.CodePurpose, "この目的には同意できません。", "This purpose is not known here."}},
	{is(residents.ErrCardLinked), Refusal{http.StatusConflict, account.CodeCardLinked, "このカードはもう別の人につながっています。", "This card is linked to another person already."}},
	{is(residents.ErrHouseholdFull), Refusal{http.StatusForbidden, account.CodeHouseholdFull, "世帯の人数がいっぱいです。市役所の窓口で相談してください。", "The household is full; ask at the city office."}},
	{is(residents.ErrCap), Refusal{http.StatusBadRequest, account.CodeCap, "その人数にはできません。", "The household cannot be set to that size."}},
	{is(residents.ErrExists), Refusal{http.StatusConflict, account.CodeExists, "このカードのアカウントはもうあります。引き継いでください。", "This card has an account already: move it to this device."}},
	{is(residents.ErrSigned), Refusal{http.StatusForbidden, account.CodeSigned, "この端末からは受け付けられません。", "This device may not send this request."}},
	{is(residents.ErrFacts), Refusal{http.StatusBadRequest, account.CodeFacts, "名前・住所・生年月日・性別がそろっていません。", "The name, address, birth date or sex is missing."}},
	{is(residents.ErrTooYoung), Refusal{http.StatusForbidden, account.CodeTooYoung, "この年齢では自分でアカウントを作れません。保護者に頼んでください。", "Too young to open an account: ask a guardian."}},
	{is(residents.ErrNone), Refusal{http.StatusNotFound, account.CodeNone, "アカウントが見つかりません。", "There is no such account."}},
	{is(jpki.ErrNoFacts), Refusal{http.StatusBadRequest, account.CodeNoFacts, "このカードの署名用証明書では登録できません。", "This card's certificate cannot open an account."}},
	{anyOf(residents.ErrRequest, account.ErrBirthDate), refuseInvalid},
	{anyOf(jpki.ErrNonce), cardRefusals[syncproto.CodeCardNonce]},
	{anyOf(jpki.ErrExpired), cardRefusals[syncproto.CodeCardExpired]},
	{anyOf(jpki.ErrRevoked), cardRefusals[syncproto.CodeCardRevoked]},
	{anyOf(jpki.ErrSignature), cardRefusals[syncproto.CodeCardSignature]},
	{anyOf(jpki.ErrNoStatus), cardRefusals[syncproto.CodeCardNoStatus]},
	{anyOf(jpki.ErrUntrusted), cardRefusals[syncproto.CodeCardUntrusted]},
}

// cardRefusals are the card check's refusals, by jpki.Code.
var cardRefusals = map[string]Refusal{
	syncproto.CodeCardUntrusted:   {http.StatusForbidden, syncproto.CodeCardUntrusted, "このカードは確認できません。", "This card is not from a trusted issuer."},
	syncproto.CodeCardExpired:     {http.StatusForbidden, syncproto.CodeCardExpired, "カードの有効期限が切れています。", "The card has expired."},
	syncproto.CodeCardRevoked:     {http.StatusForbidden, syncproto.CodeCardRevoked, "このカードは失効しています。市役所にお問い合わせください。", "The card is revoked; ask the city office."},
	syncproto.CodeCardSignature:   {http.StatusForbidden, syncproto.CodeCardSignature, "カードの署名が合いません。", "The card's signature does not match."},
	syncproto.CodeCardNonce:       {http.StatusForbidden, syncproto.CodeCardNonce, "時間がたちました。もう一度カードをかざしてください。", "Too late or used already: present the card again."},
	syncproto.CodeCardNoStatus:    {http.StatusForbidden, syncproto.CodeCardNoStatus, "カードが失効していないか確かめられません。", "Cannot tell whether the card is revoked."},
	syncproto.CodeCardUnavailable: {http.StatusServiceUnavailable, syncproto.CodeCardUnavailable, "このサーバーではカードを確認できません。", "This server cannot check cards (no JPKI trust anchors)."},
}

// The refusals of requests that are not understood, or not allowed now.
var (
	refuseMalformed = Refusal{http.StatusBadRequest, syncproto.CodeMalformed, "送られた内容が読めません。", "The request is not valid JSON."}
	refuseInvalid   = Refusal{http.StatusBadRequest, syncproto.CodeInvalid, "送られた内容が正しくありません。", "A field of the request is not valid."}
	refuseBadCode   = Refusal{http.StatusForbidden, CodeBadCode, "登録コードが違うか、使用済みか、期限切れです。", "The enrollment code is unknown, already used or expired."}
	refuseTaken     = Refusal{http.StatusConflict, CodeTaken, "この端末はもう登録されています。アプリのデータを消してからやり直してください。", "This device is registered already; clear the app's data to set it up again."}
	refuseCodeLimit = Refusal{http.StatusTooManyRequests, syncproto.CodeLimit, "登録コードの間違いが多すぎます。しばらく待ってください。", "Too many wrong codes from this network: wait a little."}
	// The admin screen's refusals (app/admin's codes).
	refuseAdminInvalid   = Refusal{http.StatusBadRequest, admin.RefusedInvalid, "送られた内容が読めません。", "The request is not JSON."}
	refuseAdminBusy      = Refusal{http.StatusServiceUnavailable, admin.RefusedBusy, "サインインが混み合っています。少し待ってください。", "The server is busy with other sign-ins: try again in a moment."}
	refuseAdminSignIn    = Refusal{http.StatusUnauthorized, admin.RefusedSignIn, "IDかパスワードが違うか、試しすぎです。少し待ってください。", "The staff id or password is wrong, or tried too often just now: wait a little."}
	refuseAdminSession   = Refusal{http.StatusUnauthorized, admin.RefusedSession, "もう一度サインインしてください。", "The session has ended: sign in again."}
	refuseAdminForbidden = Refusal{http.StatusForbidden, admin.RefusedForbidden, "このアカウントではできません。", "This is outside what your account may do."}
)

// is matches an error that wraps target.
func is(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

// anyOf matches an error that wraps any of targets.
func anyOf(targets ...error) func(error) bool {
	return func(err error) bool {
		for _, t := range targets {
			if errors.Is(err, t) {
				return true
			}
		}
		return false
	}
}

// as matches an error that wraps an E.
func as[E error](err error) bool {
	var e E
	return errors.As(err, &e)
}

// refusalOf is err's Refusal, or false for a failure of the server.
func refusalOf(err error) (Refusal, bool) {
	if r, ok := errors.AsType[Refusal](err); ok {
		return r, true
	}
	for _, c := range refusals {
		if c.is(err) {
			return c.ref, true
		}
	}
	return Refusal{}, false
}

// refuse sends ref.
func refuse(w http.ResponseWriter, ref Refusal) {
	refuseWith(w, ref, ref.Message())
}

// refuseWith sends ref with a message of its own: what a staff member
// must fix in what they typed (admin screen).
func refuseWith(w http.ResponseWriter, ref Refusal, msg string) {
	refusal.Send(w, ref, msg)
}

// fail answers err: its refusal, or a generic 500 with the cause logged
// as what.
func fail(w http.ResponseWriter, r *http.Request, logger *slog.Logger, what string, err error) {
	if ref, ok := refusalOf(err); ok {
		refuse(w, ref)
		return
	}
	httpguard.Internal(w, r, logger, what, err)
}
