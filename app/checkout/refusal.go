package checkout

import "fmt"

// Reason is why a payment was not taken.
type Reason string

// The reasons, each with its own words for the payer and the staff.
const (
	Short          Reason = "short"           // the wallet holds less than the amount
	SecondRefused  Reason = "second-refused"  // the card's PIN or the QR pass failed, or was someone else's
	Frozen         Reason = "frozen"          // the wallet is frozen or deleted
	OverOffline    Reason = "over-offline"    // past the payer's offline allowance at this terminal today
	OfflineBlocked Reason = "offline-blocked" // the wallet has recorded offline debt: online only until settled
	OverPerPayment Reason = "over-per-payment"
	OverDaily      Reason = "over-daily"
	AgeRestricted  Reason = "age-restricted" // 20+ items, and the payer is not confirmed of age
	NotRecognised  Reason = "not-recognised" // no wallet matched the face
	BadAmount      Reason = "bad-amount"     // no amount, or one below ¥1
	NotKept        Reason = "not-kept"       // the terminal could not record the offline payment
	Cancelled      Reason = "cancelled"      // staff or payer stopped it
)

// words are each reason's message, Japanese then English. None names a
// balance, an age or a date: the screen faces the shop too.
var words = map[Reason][2]string{
	Short:          {"残高が足りません。チャージしてからお支払いください。", "Not enough in the wallet. Please top up and pay again."},
	SecondRefused:  {"本人確認ができませんでした（マイナンバーカードの暗証番号またはQRパス）。", "The second check failed (My Number Card PIN or QR pass)."},
	Frozen:         {"このウォレットは利用できません（停止中）。市役所の窓口にお問い合わせください。", "This wallet cannot be used (frozen). Please ask at the city office."},
	OverOffline:    {"通信できないため、この端末で今日お支払いできる上限を超えています。", "The terminal is offline, and this passes today's offline limit for this wallet here."},
	OfflineBlocked: {"未精算のオフライン支払いがあるため、通信が戻るまでお支払いできません。", "An offline payment is still unsettled; this wallet can pay again once the terminal is online."},
	OverPerPayment: {"保護者が設定した1回あたりの上限を超えています。", "This passes the limit per payment the guardian set."},
	OverDaily:      {"保護者が設定した1日の上限を超えています。", "This passes the daily limit the guardian set."},
	AgeRestricted:  {"20歳以上の確認ができないため、年齢確認が必要な商品はお売りできません。", "Age 20+ could not be confirmed, so the age-restricted items cannot be sold."},
	NotRecognised:  {"お顔を確認できませんでした。もう一度カメラを見てください。", "Your face was not recognised. Please look at the camera again."},
	BadAmount:      {"金額を入力してください。", "Please enter the amount."},
	NotKept:        {"この端末に記録できなかったため、お支払いを受け付けませんでした。もう一度お試しください。", "The terminal could not record the payment, so it was not taken. Please try again."},
	Cancelled:      {"お支払いを取り消しました。", "The payment was cancelled."},
}

// Refusal is a payment not taken, as an error the caller can show.
type Refusal struct {
	Reason Reason
	Err    error // the cause, when one was underneath (a Store failure)
}

// Error names the reason, for logs; Words is for the screen.
func (r *Refusal) Error() string {
	if r.Err != nil {
		return fmt.Sprintf("checkout: payment refused: %s: %v", r.Reason, r.Err)
	}
	return "checkout: payment refused: " + string(r.Reason)
}

// Unwrap gives the cause underneath, so errors.Is(err, ErrStore) works.
func (r *Refusal) Unwrap() error { return r.Err }

// Words returns what the screen says about r: Japanese, English.
func (r *Refusal) Words() (ja, en string) {
	w := words[r.Reason]
	return w[0], w[1]
}
