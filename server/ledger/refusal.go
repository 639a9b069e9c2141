package ledger

// Refusal is a payment, refund or top-up the ledger turns down before
// anything is posted, with its own words for the terminal's screen
// (Japanese first) and a code the caller translates (the hub stores the
// words as the op's refusal; an HTTP answer maps the code).
type Refusal struct {
	Code, JA, EN string
}

// Error implements error: the words, "日本語 / English".
func (r *Refusal) Error() string { return r.JA + " / " + r.EN }

// The refusals. Each is compared with errors.Is.
var (
	ErrShort           = &Refusal{"wallet-short", "残高が足りません。", "The wallet's balance is too low."}
	ErrFrozen          = &Refusal{"wallet-frozen", "このウォレットは停止されています。市役所にお問い合わせください。", "This wallet is frozen; ask the city office."}
	ErrDeleted         = &Refusal{"wallet-deleted", "このウォレットはありません（アカウントが削除されています）。", "There is no such wallet (the account was deleted)."}
	ErrPerPayment      = &Refusal{"wallet-limit-payment", "1回の支払いの上限をこえています（保護者の設定）。", "Above the wallet's limit per payment (set by the guardian)."}
	ErrDaily           = &Refusal{"wallet-limit-daily", "きょうの支払いの上限をこえています（保護者の設定）。", "Above the wallet's daily limit (set by the guardian)."}
	ErrRefundTooLarge  = &Refusal{"refund-too-large", "返金額が支払額（返金済みを除く）をこえています。", "The refund is larger than what is left of the payment."}
	ErrRefundElsewhere = &Refusal{"refund-other-shop", "この店の支払いではありません。", "That payment was not made at this shop."}
	ErrRefundOfRefused = &Refusal{"refund-of-refused", "返金する支払いは受け付けられていません。", "The payment to refund was itself refused."}
	ErrSecondStaff     = &Refusal{"topup-second-staff", "この金額の入金にはもう1人の職員の確認が必要です。", "A top-up of this amount needs a second staff member's confirmation."}
	ErrFaceOnlyMax     = &Refusal{"wallet-face-only-max", "顔だけで払える金額が、市の上限をこえています。", "The face-only limit is above the city's maximum."}
	ErrInvalidBody     = &Refusal{"wallet-invalid", "記録の内容が正しくありません。", "The record is not valid."}
	// ErrUnpaidDonation: a counter's donation whose payment the ledger
	// did not post to that shop's Donations account for its amount: a
	// receipt is for money received.
	ErrUnpaidDonation = &Refusal{"donation-unpaid", "この寄附の支払いが確認できません。", "This donation's payment is not found."}
)
