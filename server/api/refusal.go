package api

import (
	"errors"
	"log/slog"
	"net/http"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/admin"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/app/wallet"
	"smartpass.city/smartpass/server/cardpay"
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
	{as[errMember], Refusal{Status: http.StatusConflict, Code: account.CodeMember, JA: "この人はもう登録されています。", EN: "This person is registered already."}},
	{is(faces.ErrConsent), Refusal{Status: http.StatusBadRequest, Code: account.CodeConsent, JA: "顔で確認できる施設を選んでください。", EN: "Choose facilities that recognise faces."}},
	{is(residents.ErrNotYours), Refusal{Status: http.StatusForbidden, Code: account.CodeNotYours, JA: "この人はあなたの世帯にいません。", EN: "This person is not in your household."}},
	{is(errStaff), Refusal{Status: http.StatusBadRequest, Code: account.CodeStaff, JA: "確認した職員の名前を入れてください。", EN: "Name the staff member who checked the person."}},
	{is(residents.ErrPurpose), Refusal{Status: http.StatusBadRequest, Code: account.CodePurpose, JA: "この目的には同意できません。", EN: "This purpose is not known here."}},
	{is(residents.ErrCardLinked), Refusal{Status: http.StatusConflict, Code: account.CodeCardLinked, JA: "このカードはもう別の人につながっています。", EN: "This card is linked to another person already."}},
	{is(residents.ErrHouseholdFull), Refusal{Status: http.StatusForbidden, Code: account.CodeHouseholdFull, JA: "世帯の人数がいっぱいです。市役所の窓口で相談してください。", EN: "The household is full; ask at the city office."}},
	{is(residents.ErrCap), Refusal{Status: http.StatusBadRequest, Code: account.CodeCap, JA: "その人数にはできません。", EN: "The household cannot be set to that size."}},
	{is(residents.ErrExists), Refusal{Status: http.StatusConflict, Code: account.CodeExists, JA: "このカードのアカウントはもうあります。引き継いでください。", EN: "This card has an account already: move it to this device."}},
	{is(residents.ErrSigned), Refusal{Status: http.StatusForbidden, Code: account.CodeSigned, JA: "この端末からは受け付けられません。", EN: "This device may not send this request."}},
	{is(residents.ErrFacts), Refusal{Status: http.StatusBadRequest, Code: account.CodeFacts, JA: "名前・住所・生年月日・性別がそろっていません。", EN: "The name, address, birth date or sex is missing."}},
	{is(residents.ErrTooYoung), Refusal{Status: http.StatusForbidden, Code: account.CodeTooYoung, JA: "この年齢では自分でアカウントを作れません。保護者に頼んでください。", EN: "Too young to open an account: ask a guardian."}},
	{is(residents.ErrNone), Refusal{Status: http.StatusNotFound, Code: account.CodeNone, JA: "アカウントが見つかりません。", EN: "There is no such account."}},
	{is(jpki.ErrNoFacts), Refusal{Status: http.StatusBadRequest, Code: account.CodeNoFacts, JA: "このカードの署名用証明書では登録できません。", EN: "This card's certificate cannot open an account."}},
	{anyOf(residents.ErrRequest, account.ErrBirthDate), refuseInvalid},
	{is(errNotGuarded), Refusal{Status: http.StatusForbidden, Code: wallet.CodeNotGuarded, JA: "1日・1回の上限は、見守る家族のウォレットにだけ設定できます。", EN: "Daily and per-payment limits are for a family member's wallet you look after."}},
	{is(errLimits), Refusal{Status: http.StatusBadRequest, Code: wallet.CodeLimits, JA: "上限の金額が正しくありません（1回の上限は1日の上限以下に）。", EN: "The limits are not valid (the per-payment limit at most the daily one)."}},
	{is(cardpay.ErrDeclined), cardRefusal(http.StatusPaymentRequired, cardpay.ErrDeclined)},
	{is(cardpay.ErrGateway), cardRefusal(http.StatusBadGateway, cardpay.ErrGateway)},
	{is(cardpay.ErrInvalid), cardRefusal(http.StatusBadRequest, cardpay.ErrInvalid)},
	{is(cardpay.ErrMismatch), cardRefusal(http.StatusConflict, cardpay.ErrMismatch)},
	{anyOf(jpki.ErrNonce), cardRefusals[syncproto.CodeCardNonce]},
	{anyOf(jpki.ErrExpired), cardRefusals[syncproto.CodeCardExpired]},
	{anyOf(jpki.ErrRevoked), cardRefusals[syncproto.CodeCardRevoked]},
	{anyOf(jpki.ErrSignature), cardRefusals[syncproto.CodeCardSignature]},
	{anyOf(jpki.ErrNoStatus), cardRefusals[syncproto.CodeCardNoStatus]},
	{anyOf(jpki.ErrUntrusted), cardRefusals[syncproto.CodeCardUntrusted]},
}

// cardRefusals are the card check's refusals, by jpki.Code.
var cardRefusals = map[string]Refusal{
	syncproto.CodeCardUntrusted:   {Status: http.StatusForbidden, Code: syncproto.CodeCardUntrusted, JA: "このカードは確認できません。", EN: "This card is not from a trusted issuer."},
	syncproto.CodeCardExpired:     {Status: http.StatusForbidden, Code: syncproto.CodeCardExpired, JA: "カードの有効期限が切れています。", EN: "The card has expired."},
	syncproto.CodeCardRevoked:     {Status: http.StatusForbidden, Code: syncproto.CodeCardRevoked, JA: "このカードは失効しています。市役所にお問い合わせください。", EN: "The card is revoked; ask the city office."},
	syncproto.CodeCardSignature:   {Status: http.StatusForbidden, Code: syncproto.CodeCardSignature, JA: "カードの署名が合いません。", EN: "The card's signature does not match."},
	syncproto.CodeCardNonce:       {Status: http.StatusForbidden, Code: syncproto.CodeCardNonce, JA: "時間がたちました。もう一度カードをかざしてください。", EN: "Too late or used already: present the card again."},
	syncproto.CodeCardNoStatus:    {Status: http.StatusForbidden, Code: syncproto.CodeCardNoStatus, JA: "カードが失効していないか確かめられません。", EN: "Cannot tell whether the card is revoked."},
	syncproto.CodeCardUnavailable: {Status: http.StatusServiceUnavailable, Code: syncproto.CodeCardUnavailable, JA: "このサーバーではカードを確認できません。", EN: "This server cannot check cards (no JPKI trust anchors)."},
}

// The refusals of requests that are not understood, or not allowed now.
var (
	refuseMalformed = Refusal{Status: http.StatusBadRequest, Code: syncproto.CodeMalformed, JA: "送られた内容が読めません。", EN: "The request is not valid JSON."}
	refuseInvalid   = Refusal{Status: http.StatusBadRequest, Code: syncproto.CodeInvalid, JA: "送られた内容が正しくありません。", EN: "A field of the request is not valid."}
	refuseBadCode   = Refusal{Status: http.StatusForbidden, Code: CodeBadCode, JA: "登録コードが違うか、使用済みか、期限切れです。", EN: "The enrollment code is unknown, already used or expired."}
	refuseTaken     = Refusal{Status: http.StatusConflict, Code: CodeTaken, JA: "この端末はもう登録されています。アプリのデータを消してからやり直してください。", EN: "This device is registered already; clear the app's data to set it up again."}
	refuseCodeLimit = Refusal{Status: http.StatusTooManyRequests, Code: syncproto.CodeLimit, JA: "登録コードの間違いが多すぎます。しばらく待ってください。", EN: "Too many wrong codes from this network: wait a little."}
	// The admin screen's refusals (app/admin's codes).
	refuseAdminInvalid   = Refusal{Status: http.StatusBadRequest, Code: admin.RefusedInvalid, JA: "送られた内容が読めません。", EN: "The request is not JSON."}
	refuseAdminBusy      = Refusal{Status: http.StatusServiceUnavailable, Code: admin.RefusedBusy, JA: "サインインが混み合っています。少し待ってください。", EN: "The server is busy with other sign-ins: try again in a moment."}
	refuseAdminSignIn    = Refusal{Status: http.StatusUnauthorized, Code: admin.RefusedSignIn, JA: "IDかパスワードが違うか、試しすぎです。少し待ってください。", EN: "The staff id or password is wrong, or tried too often just now: wait a little."}
	refuseAdminSession   = Refusal{Status: http.StatusUnauthorized, Code: admin.RefusedSession, JA: "もう一度サインインしてください。", EN: "The session has ended: sign in again."}
	refuseAdminForbidden = Refusal{Status: http.StatusForbidden, Code: admin.RefusedForbidden, JA: "このアカウントではできません。", EN: "This is outside what your account may do."}
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
