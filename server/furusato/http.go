package furusato

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/admin"
	rules "smartpass.city/smartpass/app/furusato"
	"smartpass.city/smartpass/app/jpaddress"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/app/mynumber"
	"smartpass.city/smartpass/server/cardpay"
	"smartpass.city/smartpass/server/receipt"
	"smartpass.city/smartpass/server/residents"
	"smartpass.city/smartpass/server/routes"
	"smartpass.city/smartpass/server/signedreq"
	"smartpass.city/smartpass/server/staff"
	"smartpass.city/smartpass/syncproto"
)

// maxBody bounds a request: the largest is an application with its
// certificate.
const maxBody = 32 << 10

// byHolder routes ep, signed by an account's holder (their device key,
// over a nonce used once: signedreq, the check of every account
// request), then do; audited as action on the account with do's
// detail, which never holds a typed figure or the number.
func byHolder[Req, Resp any](s *Service, mux routes.Mux, ep rules.Endpoint[Req, Resp], action string, do signedreq.Do[Req, Resp]) {
	signedreq.Route(mux, ep, signedreq.Reader{Registry: s.d.Registry, Limit: maxBody}, s.holderAnswer, action, do)
}

// holderAnswer answers a donor's request (signedreq.Answer): the
// reader's refusals of what was sent are this package's malformed
// request.
func (s *Service) holderAnswer(w http.ResponseWriter, r *http.Request, action string, holder account.Account, detail string, out any, err error) {
	if errors.Is(err, signedreq.ErrMalformed) || errors.Is(err, signedreq.ErrBody) {
		err = fmt.Errorf("%w: %w", errMalformed, err)
	}
	if err != nil {
		s.refuse(w, r, action, holder.ID, err)
		return
	}
	s.d.Audit.Note(r.RemoteAddr, action, holder.ID, detail)
	writeJSON(w, out)
}

// byStaff routes a city endpoint: the staff member signed in (the admin
// screen's session, its token in the body) with permission p, then do,
// which answers; audited as action by them, with do's detail.
func (s *Service) byStaff(p admin.Permission, action string, do func(w http.ResponseWriter, r *http.Request, body []byte, by string) (string, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		var req admin.Request
		if err == nil {
			err = json.Unmarshal(body, &req)
		}
		if err != nil {
			s.refuse(w, r, action, "", errMalformed)
			return
		}
		by, err := s.d.Staff(req.Token, p)
		if err != nil {
			s.refuse(w, r, action, "", errStaff)
			return
		}
		detail, err := do(w, r, body, by)
		if err != nil {
			s.d.Audit.Note(by, action+".refused", "", errorCode(err))
			s.answer(w, r, action, err)
			return
		}
		s.d.Audit.Note(by, action, "", detail)
	}
}

// errStaff is a city request without a session that may make it.
var errStaff = errors.New("furusato: sign in as staff allowed to do this")

// refuse answers err and audits it: on the account when one is proven
// (subject), else counted by source, as the account API does.
func (s *Service) refuse(w http.ResponseWriter, r *http.Request, action, subject string, err error) {
	if subject == "" {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		s.d.Audit.Refused(action+".refused", host, errorCode(err))
	} else {
		s.d.Audit.Note(r.RemoteAddr, action+".refused", subject, errorCode(err))
	}
	s.answer(w, r, action, err)
}

// answer sends err's refusal, or a 500 with the cause logged (never the
// request, which may hold the number).
func (s *Service) answer(w http.ResponseWriter, r *http.Request, action string, err error) {
	ref, ok := refusalOf(err)
	if !ok {
		s.d.Logger.Error("furusato: "+action, "err", err)
		ref = refusal{http.StatusInternalServerError, syncproto.CodeInternal, "サーバーで問題が起きました。時間をおいてやり直してください。", "The server failed; try again later."}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(ref.status)
	json.NewEncoder(w).Encode(syncproto.Error{Code: ref.code, Message: ref.ja + " / " + ref.en})
}

// errorCode is err's refusal code, for the audit log.
func errorCode(err error) string {
	if ref, ok := refusalOf(err); ok {
		return ref.code
	}
	return syncproto.CodeInternal
}

// refusal is what a person is told of an error they can act on.
type refusal struct {
	status int
	code   string
	ja, en string
}

// refusals map the errors of the rules, the card and the request to
// their words; the first match wins.
var refusals = []struct {
	err error
	ref refusal
}{
	{rules.ErrCostOver30, refusal{http.StatusBadRequest, rules.CodeCostOver30, "返礼品の調達費は寄附額の3割までです。", "A gift may cost at most 30% of the donation."}},
	{rules.ErrNotLocal, refusal{http.StatusBadRequest, rules.CodeNotLocal, "返礼品は地場産品に限られます。", "A gift must be local produce."}},
	{rules.ErrInvalidItem, refusal{http.StatusBadRequest, rules.CodeItem, "返礼品の名前・寄附額・在庫を確かめてください。", "Check the item's name, donation and stock."}},
	{errShop, refusal{http.StatusBadRequest, rules.CodeShop, "寄附を受け付ける店舗ではありません。", "This is not a donation shop."}},
	{rules.ErrTooManyMunicipalities, refusal{http.StatusBadRequest, rules.CodeTooMany, "寄附先が6団体以上になるため、ワンストップ特例は使えません。確定申告をしてください。", "Six or more municipalities this year: the one-stop exception does not apply; file a tax return."}},
	{rules.ErrPastDeadline, refusal{http.StatusBadRequest, rules.CodePastDeadline, "申請の期限（翌年1月10日）を過ぎました。確定申告をしてください。", "The deadline (January 10 of the next year) has passed: file a tax return."}},
	{jpaddress.ErrUnparsed, refusal{http.StatusBadRequest, rules.CodeAddress, "カードの住所から市区町村が読み取れません。市役所の窓口で申請してください。", "The card's address names no municipality we can read: apply at the city office."}},
	{mynumber.ErrInvalid, refusal{http.StatusBadRequest, rules.CodeNumber, "個人番号が読み取れませんでした。カードを読み直してください。", "The individual number could not be read: read the card again."}},
	{errDeclarations, refusal{http.StatusBadRequest, rules.CodeDeclarations, "二つの申告事項の両方に該当する場合だけ申請できます。", "You may apply only if both declarations hold."}},
	{errApplication, refusal{http.StatusBadRequest, rules.CodeDeclarations, "フリガナと電話番号を入れてください。", "Enter the reading of your name and your phone number."}},
	{errNotYourCard, refusal{http.StatusForbidden, rules.CodeNotYourCard, "このアカウントの本人のカードで申請してください。", "Apply with the account holder's own card."}},
	{errNoDonation, refusal{http.StatusNotFound, rules.CodeNoDonation, "その寄附は見つかりません。", "There is no such donation of yours."}},
	{errCeiling, refusal{http.StatusBadRequest, rules.CodeCeiling, "住民税の額と所得税率を確かめてください。", "Check the resident tax and the income-tax rate."}},
	{errSignature, refusal{http.StatusForbidden, rules.CodeCardSignature, "カードの署名が申請内容と一致しません。", "The card's signature does not match the application."}},
	{jpki.ErrNonce, refusal{http.StatusForbidden, syncproto.CodeCardNonce, "もう一度カードを読んでください。", "Read the card again."}},
	{jpki.ErrExpired, refusal{http.StatusForbidden, syncproto.CodeCardExpired, "カードの証明書の有効期限が切れています。", "The card's certificate has expired."}},
	{jpki.ErrRevoked, refusal{http.StatusForbidden, syncproto.CodeCardRevoked, "カードの証明書は失効しています。", "The card's certificate is revoked."}},
	{jpki.ErrNoFacts, refusal{http.StatusBadRequest, account.CodeNoFacts, "このカードの署名用証明書では申請できません。", "This card's certificate cannot make an application."}},
	{residents.ErrSigned, refusal{http.StatusForbidden, account.CodeSigned, "この端末からは受け付けられません。", "This device may not send this request."}},
	{errStaff, refusal{http.StatusForbidden, "admin_forbidden", "この操作の権限がありません。サインインし直してください。", "Sign in as staff allowed to do this."}},
	{rules.ErrOutOfStock, refusal{http.StatusConflict, rules.CodeOutOfStock, "この返礼品は在庫がありません。ほかの品を選んでください。", "This gift is out of stock: pick another."}},
	{rules.ErrInvalid, refusal{http.StatusBadRequest, rules.CodeCounter, "返礼品か寄附額、お支払い方法（現金は受け取った職員の名前）を確かめてください。", "Check the gift or amount and the payment (for cash, the name of the staff member who took it)."}},
	{errNoItem, refusal{http.StatusNotFound, rules.CodeItem, "この店舗にその返礼品はありません。", "This shop has no such gift."}},
	{errNoDonor, refusal{http.StatusNotFound, rules.CodeNoDonor, "寄附者のアカウントが見つかりません。", "The donor's account was not found."}},
	{errDevice, refusal{http.StatusForbidden, rules.CodeCounter, "寄附の窓口の端末からだけ受け付けます。", "Only a donation counter's tablet may do this."}},
	{errNoCard, refusal{http.StatusBadRequest, rules.CodeCounter, "このサーバーではカード払いを受け付けていません。現金でお願いします。", "This server takes no card payments: pay in cash."}},
	{cardpay.ErrDeclined, cardRefusal(http.StatusPaymentRequired, cardpay.ErrDeclined)},
	{cardpay.ErrGateway, cardRefusal(http.StatusBadGateway, cardpay.ErrGateway)},
	{cardpay.ErrMismatch, cardRefusal(http.StatusConflict, cardpay.ErrMismatch)},
	{cardpay.ErrNotSucceeded, cardRefusal(http.StatusPaymentRequired, cardpay.ErrNotSucceeded)},
	{cardpay.ErrInvalid, cardRefusal(http.StatusBadRequest, cardpay.ErrInvalid)},
	{errMalformed, refusal{http.StatusBadRequest, "invalid", "要求の形式が正しくありません。", "The request is malformed."}},
	{errReport, refusal{http.StatusBadRequest, "invalid", "その帳票はありません。", "There is no such report."}},
	{receipt.ErrInvalid, refusal{http.StatusBadRequest, "invalid", "受領証明書を作れません。", "The receipt cannot be made."}},
}

// cardRefusal is a refusal of the card gateway's, in its own words.
func cardRefusal(status int, r *cardpay.Refusal) refusal {
	return refusal{status, r.Code, r.JA, r.EN}
}

func refusalOf(err error) (refusal, bool) {
	for _, c := range refusals {
		if errors.Is(err, c.err) {
			return c.ref, true
		}
	}
	return refusal{}, false
}

// writeJSON sends v.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(v)
}

// StaffSessions checks a staff token against the admin screen's
// sessions (staff.Registry): the staff member's id, if their role has
// permission p.
func StaffSessions(r *staff.Registry) func(token string, p admin.Permission) (string, error) {
	return func(token string, p admin.Permission) (string, error) {
		who, err := r.Session(token)
		if err != nil {
			return "", fmt.Errorf("%w: %w", errStaff, err)
		}
		if !who.Role.May(p) {
			return "", errStaff
		}
		return who.ID, nil
	}
}
