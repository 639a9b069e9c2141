package visits

import (
	"errors"
	"net/http"

	"smartpass.city/smartpass/app/appointment"
	"smartpass.city/smartpass/app/bill"
	"smartpass.city/smartpass/app/emergency"
	"smartpass.city/smartpass/app/fhirjp"
	"smartpass.city/smartpass/app/jahis"
	"smartpass.city/smartpass/app/medical"
	"smartpass.city/smartpass/app/visit"
	"smartpass.city/smartpass/server/refusal"
	"smartpass.city/smartpass/server/signedreq"
	"smartpass.city/smartpass/syncproto"
)

// This package's own errors.
var (
	// errDevice: a device that is not a hospital's reception.
	errDevice = errors.New("visits: not a hospital's reception device")
	// errHospital: a hospital the city does not know.
	errHospital = errors.New("visits: no such hospital")
	// errNoBooking: a booking that is not the household's or the
	// hospital's (named as missing, so nobody learns others' ids).
	errNoBooking = errors.New("visits: no such booking")
	// errNoForm: a department without a questionnaire.
	errNoForm = errors.New("visits: the department has no questionnaire")
	// errNoPerson: a resident the server does not know.
	errNoPerson = errors.New("visits: no such resident")
	// errInvalid: a field of the request out of its range.
	errInvalid = errors.New("visits: invalid request")
	// errNotIdentified: an emergency lookup that named nobody.
	errNotIdentified = errors.New("visits: nobody identified")
	// errBillTwice: a second bill for one visit.
	errBillTwice = errors.New("visits: the visit has its bill")
	// errRaced: an op the fold refused after the checks passed (another
	// write came first).
	errRaced = errors.New("visits: refused by the record")
)

// refusals maps each refused error to its words, first match wins: the
// domain packages' errors and this package's.
var refusals = []struct {
	err error
	ref refusal.Refusal
}{
	{signedreq.ErrMalformed, refusal.Refusal{Status: http.StatusBadRequest, Code: syncproto.CodeMalformed, JA: "送られた内容が読めません。", EN: "The request is not valid JSON."}},
	{errDevice, refusal.Refusal{Status: http.StatusForbidden, Code: visit.CodeDevice, JA: "病院の受付端末からだけ使えます。", EN: "Only a hospital's reception device may ask this."}},
	{errHospital, refusal.Refusal{Status: http.StatusNotFound, Code: visit.CodeHospital, JA: "その病院はありません。", EN: "There is no such hospital."}},
	{appointment.ErrNoSlot, refusal.Refusal{Status: http.StatusNotFound, Code: visit.CodeNoSlot, JA: "その時間の予約枠はありません。", EN: "There is no slot at that time."}},
	{appointment.ErrFull, refusal.Refusal{Status: http.StatusConflict, Code: visit.CodeFull, JA: "この枠は満員です。別の時間を選んでください。", EN: "This slot is full: choose another time."}},
	{appointment.ErrPast, refusal.Refusal{Status: http.StatusConflict, Code: visit.CodePast, JA: "その時間はもう始まっています。", EN: "That time has begun or passed."}},
	{appointment.ErrTwice, refusal.Refusal{Status: http.StatusConflict, Code: visit.CodeTwice, JA: "この枠にはもう予約があります。", EN: "Booked in this slot already."}},
	{errNoBooking, refusal.Refusal{Status: http.StatusNotFound, Code: visit.CodeNoBooking, JA: "その予約は見つかりません。", EN: "There is no such booking."}},
	{appointment.ErrNoBook, refusal.Refusal{Status: http.StatusNotFound, Code: visit.CodeNoBooking, JA: "その予約は見つかりません。", EN: "There is no such booking."}},
	{appointment.ErrInactive, refusal.Refusal{Status: http.StatusConflict, Code: visit.CodeCancelled, JA: "この予約は取り消されています。", EN: "This booking is cancelled."}},
	{appointment.ErrAnswer, refusal.Refusal{Status: http.StatusBadRequest, Code: visit.CodeAnswer, JA: "問診票の回答に足りないところか、正しくないところがあります。", EN: "An answer is missing or breaks its question's rule."}},
	{errNoForm, refusal.Refusal{Status: http.StatusNotFound, Code: visit.CodeNoForm, JA: "この診療科には問診票がありません。", EN: "This department has no questionnaire."}},
	{medical.ErrNotPublished, refusal.Refusal{Status: http.StatusBadRequest, Code: visit.CodeNotPublished, JA: "この病院はその種類の情報を扱っていません。", EN: "This hospital does not exchange that kind of data."}},
	{medical.ErrNoConsent, refusal.Refusal{Status: http.StatusForbidden, Code: visit.CodeNoConsent, JA: "本人の同意がないため表示できません。", EN: "No consent in force: nothing is shown."}},
	{medical.ErrOtherPatient, refusal.Refusal{Status: http.StatusBadRequest, Code: visit.CodeOtherPatient, JA: "別の患者さんの文書が含まれています。", EN: "A document is about another patient."}},
	{jahis.ErrNotTheResident, refusal.Refusal{Status: http.StatusBadRequest, Code: visit.CodeNotebook, JA: "このお薬手帳は別の人のものです。", EN: "This notebook is someone else's."}},
	{medical.ErrInvalid, refusal.Refusal{Status: http.StatusBadRequest, Code: visit.CodeDocument, JA: "文書の形式が正しくありません。", EN: "A document breaks its profile or its record's rules."}},
	{errNotIdentified, refusal.Refusal{Status: http.StatusNotFound, Code: visit.CodeNotIdentified, JA: "確認できませんでした。別の画像かカード、または職員二人の確認で。", EN: "Not identified: try another frame, the card, or a second member of staff."}},
	{emergency.ErrNoReason, refusal.Refusal{Status: http.StatusBadRequest, Code: visit.CodeReason, JA: "照会の理由を入力してください。", EN: "Enter the reason for the lookup."}},
	{emergency.ErrConfirm, refusal.Refusal{Status: http.StatusBadRequest, Code: visit.CodeConfirm, JA: "本人確認の方法が規則に合っていません。", EN: "The identification is not confirmed as the rule asks."}},
	{errBillTwice, refusal.Refusal{Status: http.StatusConflict, Code: visit.CodeBill, JA: "この受診の請求はもう送られています。", EN: "This visit has its bill already."}},
	{bill.ErrInvalid, refusal.Refusal{Status: http.StatusBadRequest, Code: visit.CodeBill, JA: "請求の内容が正しくありません。", EN: "The bill is not valid."}},
	{fhirjp.ErrProfile, refusal.Refusal{Status: http.StatusUnprocessableEntity, Code: visit.CodeProfile, JA: "出力する文書がJP Coreのプロファイルに合いません。", EN: "The export fails its JP Core profile check."}},
	{errNoPerson, refusal.Refusal{Status: http.StatusNotFound, Code: visit.CodeNoPerson, JA: "その人は登録されていません。", EN: "There is no such resident."}},
	{errRaced, refusal.Refusal{Status: http.StatusConflict, Code: visit.CodeRaced, JA: "ほかの変更と重なりました。もう一度お試しください。", EN: "Another change came first: try again."}},
	{errInvalid, refusal.Refusal{Status: http.StatusBadRequest, Code: syncproto.CodeInvalid, JA: "送られた内容が正しくありません。", EN: "A field of the request is not valid."}},
	{appointment.ErrInvalid, refusal.Refusal{Status: http.StatusBadRequest, Code: syncproto.CodeInvalid, JA: "送られた内容が正しくありません。", EN: "A field of the request is not valid."}},
}
