package ledger

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"smartpass.city/smartpass/app/checkout"
	"smartpass.city/smartpass/app/furusato"
	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/wallet"
	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/syncproto"
)

// Config is what the city sets.
type Config struct {
	// SecondStaffAbove is the cash top-up above which a second staff
	// member confirms (yen; default ¥30,000).
	SecondStaffAbove int64
	// Zone is the city's time zone, where a day of the daily limit
	// starts (default Asia/Tokyo, +09:00).
	Zone *time.Location
	// FaceOnlyMax bounds the face-only limit a resident may choose
	// (default checkout's, the bound the shops' tills apply).
	FaceOnlyMax int64
}

// Ledger posts the wallet's ops and the server's own movements to the
// journal in recs, and reads it.
type Ledger struct {
	recs store.Records
	cfg  Config
	// Audit, when set, records the server's own postings (card
	// top-ups, sweeps, payouts) and every read of a wallet in the audit
	// chain; a read it cannot record is refused. The ops' postings are
	// audited by the hub from their kinds (app/wallet).
	Audit func(actor, action, subject, detail string) error
}

// New returns the ledger kept in recs.
func New(recs store.Records, cfg Config) *Ledger {
	if cfg.SecondStaffAbove <= 0 {
		cfg.SecondStaffAbove = 30_000
	}
	if cfg.Zone == nil {
		cfg.Zone = time.FixedZone("JST", 9*60*60)
	}
	if cfg.FaceOnlyMax <= 0 {
		cfg.FaceOnlyMax = checkout.DefaultFaceOnlyMax
	}
	return &Ledger{recs: recs, cfg: cfg}
}

// settings are a wallet's freeze and limits, each kept from its latest op
// (by clock, then cause, so every order of arrival keeps the same one).
type settings struct {
	Frozen    bool   `json:"frozen,omitempty"`
	Reason    string `json:"reason,omitempty"`
	FrozenAt  stamp  `json:"frozen_at"`
	Daily     int64  `json:"daily,omitempty"`
	PerPay    int64  `json:"per_payment,omitempty"`
	Guardian  string `json:"guardian,omitempty"`
	FaceOnly  *int64 `json:"face_only,omitempty"`
	LimitedAt stamp  `json:"limited_at"`
	// Closed: the resident's account was deleted (Close). The balance
	// stays on the books (the issuer still owes it), but the wallet
	// pays no more online.
	Closed bool `json:"closed,omitempty"`
}

// stamp orders the ops that set a setting.
type stamp struct {
	HLC   uint64 `json:"hlc"`
	Cause string `json:"cause"`
}

func (s stamp) before(o stamp) bool {
	return s.HLC < o.HLC || s.HLC == o.HLC && s.Cause < o.Cause
}

// payment is what a refund needs of its payment.
type payment struct {
	Merchant string `json:"merchant"`
	Resident string `json:"resident"`
	Amount   int64  `json:"amount"`
	Refunded int64  `json:"refunded,omitempty"`
}

// pendingRefund waits for its payment.
type pendingRefund struct {
	Cause  string        `json:"cause"`
	Refund wallet.Refund `json:"refund"`
	At     time.Time     `json:"at"`
}

// Records is the hub's Options.Records: it posts the wallet's ops of a
// push in the transaction that stores them, each once whatever the
// resends (keyed by the op). A short wallet on an offline payment is
// recorded debt, a refund larger than its payment is refused: it fails
// only when the store does.
func (l *Ledger) Records(device string, ops []syncproto.Op) func(store.Tx) error {
	var mine []syncproto.Op
	for _, op := range ops {
		if isWallet(op.Kind) || op.Kind == scope.OpRejected {
			op.Device = device
			mine = append(mine, op)
		}
	}
	if len(mine) == 0 {
		return nil
	}
	return func(tx store.Tx) error {
		for _, op := range mine {
			if err := l.apply(tx, op); err != nil {
				return fmt.Errorf("ledger: %s %s: %w", op.Kind, wallet.ID(op), err)
			}
		}
		return nil
	}
}

func isWallet(kind string) bool {
	return strings.HasPrefix(kind, "wallet.")
}

// apply posts one op, unless its cause is decided.
func (l *Ledger) apply(tx store.Tx, op syncproto.Op) error {
	cause := wallet.ID(op)
	if _, done, err := decided(tx, cause); err != nil || done {
		return err
	}
	at := hlc.Wall(op.HLC)
	switch op.Kind {
	case scope.OpRejected:
		var r scope.Rejection
		if err := json.Unmarshal(op.Body, &r); err != nil || !isWallet(r.Kind) {
			return nil
		}
		// Refused by the hub: the cause is decided, so a later resend the
		// hub would accept posts nothing (the log keeps the refusal).
		if err := refuse(tx, cause, r.Reason); err != nil {
			return err
		}
		return l.settlePending(tx, cause)
	case wallet.OpPayment:
		p, err := wallet.Body[wallet.Payment](op)
		if err != nil {
			return refuse(tx, cause, fmt.Sprintf("%v: %v", ErrInvalidBody, err))
		}
		if _, _, err := post(tx, Entry{Cause: cause, Kind: KindPayment, At: at, Postings: []Posting{
			{Wallet(p.Resident), -p.Amount}, {Merchant(p.Facility), p.Amount},
		}}, true); err != nil {
			return err
		}
		if err := putJSON(tx, kindPayment, cause, payment{Merchant: p.Facility, Resident: p.Resident, Amount: p.Amount}); err != nil {
			return err
		}
		if err := l.addSpent(tx, p.Resident, at, p.Amount); err != nil {
			return err
		}
		return l.settlePending(tx, cause)
	case wallet.OpRefund:
		r, err := wallet.Body[wallet.Refund](op)
		if err != nil {
			return refuse(tx, cause, fmt.Sprintf("%v: %v", ErrInvalidBody, err))
		}
		return l.refund(tx, pendingRefund{Cause: cause, Refund: r, At: at})
	case wallet.OpTopUpCash:
		t, err := wallet.Body[wallet.TopUpCash](op)
		if err == nil {
			err = l.checkTopUp(t)
		}
		if err != nil {
			return refuse(tx, cause, err.Error())
		}
		_, _, err = post(tx, Entry{Cause: cause, Kind: KindTopUp, At: at, Postings: []Posting{
			{Clearing(Cash), -t.Amount}, {Wallet(t.Resident), t.Amount},
		}}, false)
		return err
	case wallet.OpLimits:
		lim, err := wallet.Body[wallet.Limits](op)
		if err == nil {
			err = l.CheckLimits(lim)
		}
		if err != nil {
			return refuse(tx, cause, err.Error())
		}
		return l.setLimits(tx, cause, lim, op.HLC)
	case wallet.OpFreeze:
		f, err := wallet.Body[wallet.Freeze](op)
		if err != nil {
			return refuse(tx, cause, err.Error())
		}
		return l.set(tx, cause, f.Resident, func(s *settings) *stamp { return &s.FrozenAt }, op.HLC, func(s *settings) {
			s.Frozen, s.Reason = f.Frozen, f.Reason
		})
	}
	return nil
}

// setLimits keeps lim as the wallet's limits unless a later op set them.
func (l *Ledger) setLimits(tx store.Tx, cause string, lim wallet.Limits, hlcTime uint64) error {
	return l.set(tx, cause, lim.Resident, func(s *settings) *stamp { return &s.LimitedAt }, hlcTime, func(s *settings) {
		s.Daily, s.PerPay, s.Guardian, s.FaceOnly = lim.Daily, lim.PerPay, lim.Guardian, lim.FaceOnly
	})
}

// CheckLimits applies the city's bound on the face-only limit.
func (l *Ledger) CheckLimits(lim wallet.Limits) error {
	if lim.FaceOnly != nil && *lim.FaceOnly > l.cfg.FaceOnlyMax {
		return fmt.Errorf("%w (¥%d)", ErrFaceOnlyMax, l.cfg.FaceOnlyMax)
	}
	return nil
}

// set applies a setting op unless a later one set it already; the cause
// is decided either way.
func (l *Ledger) set(tx store.Tx, cause, resident string, at func(*settings) *stamp, hlcTime uint64, apply func(*settings)) error {
	s, _, err := store.GetJSON[settings](tx, kindWallet, resident)
	if err != nil {
		return err
	}
	now := stamp{HLC: hlcTime, Cause: cause}
	if p := at(&s); p.before(now) {
		apply(&s)
		*p = now
		if err := putJSON(tx, kindWallet, resident, s); err != nil {
			return err
		}
	}
	return putJSON(tx, kindCause, cause, decision{Setting: true})
}

// refund posts r, refuses it, or keeps it waiting for its payment.
func (l *Ledger) refund(tx store.Tx, r pendingRefund) error {
	pay, ok, err := store.GetJSON[payment](tx, kindPayment, r.Refund.Payment)
	if err != nil {
		return err
	}
	if !ok {
		d, done, err := decided(tx, r.Refund.Payment)
		if err != nil {
			return err
		}
		if done && d.Refused != "" {
			return refuse(tx, r.Cause, ErrRefundOfRefused.Error())
		}
		// Its payment has not arrived (another terminal's, not yet
		// synced): it posts when the payment does.
		waiting, _, err := store.GetJSON[[]pendingRefund](tx, kindPending, r.Refund.Payment)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(waiting, func(w pendingRefund) bool { return w.Cause == r.Cause }) {
			waiting = append(waiting, r)
		}
		if err := putJSON(tx, kindPending, r.Refund.Payment, waiting); err != nil {
			return err
		}
		return putJSON(tx, kindCause, r.Cause, decision{Pending: true})
	}
	if why := refundRefusal(pay, r.Refund); why != nil {
		return refuse(tx, r.Cause, why.Error())
	}
	if _, _, err := post(tx, Entry{Cause: r.Cause, Kind: KindRefund, Of: r.Refund.Payment, At: r.At, Postings: []Posting{
		{Merchant(pay.Merchant), -r.Refund.Amount}, {Wallet(pay.Resident), r.Refund.Amount},
	}}, false); err != nil {
		return err
	}
	pay.Refunded += r.Refund.Amount
	return putJSON(tx, kindPayment, r.Refund.Payment, pay)
}

// refundRefusal says why r may not refund pay, or nil.
func refundRefusal(pay payment, r wallet.Refund) error {
	switch {
	case r.Facility != pay.Merchant:
		return ErrRefundElsewhere
	case r.Amount > pay.Amount-pay.Refunded:
		return fmt.Errorf("%w (¥%d of ¥%d left)", ErrRefundTooLarge, pay.Amount-pay.Refunded, pay.Amount)
	}
	return nil
}

// settlePending decides the refunds that waited for payment cause, in
// the order they were recorded.
func (l *Ledger) settlePending(tx store.Tx, cause string) error {
	waiting, ok, err := store.GetJSON[[]pendingRefund](tx, kindPending, cause)
	if err != nil || !ok {
		return err
	}
	if err := tx.Delete(kindPending, cause); err != nil {
		return err
	}
	for _, r := range waiting {
		if err := tx.Delete(kindCause, r.Cause); err != nil {
			return err
		}
		if err := l.refund(tx, r); err != nil {
			return err
		}
	}
	return nil
}

func (l *Ledger) day(at time.Time) string { return at.In(l.cfg.Zone).Format(time.DateOnly) }

func (l *Ledger) addSpent(tx store.Tx, resident string, at time.Time, amount int64) error {
	id := resident + "/" + l.day(at)
	n, _, err := store.GetJSON[int64](tx, kindSpent, id)
	if err != nil {
		return err
	}
	return putJSON(tx, kindSpent, id, n+amount)
}

// checkTopUp applies the city's second-staff rule.
func (l *Ledger) checkTopUp(t wallet.TopUpCash) error {
	if t.Amount > l.cfg.SecondStaffAbove && strings.TrimSpace(t.Confirmer) == "" {
		return fmt.Errorf("%w (above ¥%d)", ErrSecondStaff, l.cfg.SecondStaffAbove)
	}
	return nil
}

// Check is the hub's Verify for the wallet's ops: it refuses, before
// anything is stored, an online payment the wallet cannot make (short,
// frozen, deleted, over a guardian's limit), a refund larger than what is
// left of its payment or of another shop's, a cash top-up above the
// city's amount without a second staff member, and limits with a
// face-only limit above the city's bound. An offline payment is
// not refused (the goods are gone: short, it becomes recorded debt). An
// op already decided passes (a resend). Two online payments racing for
// the last yen both pass here; the second then posts as recorded debt,
// so no yen is lost either way.
func (l *Ledger) Check(device string, op syncproto.Op) error {
	if op.Kind == furusato.OpDonation {
		return l.checkDonation(op)
	}
	if op.Kind == wallet.OpLimits {
		// A desk's limits past the city's face-only bound: refused in
		// words before they are stored, as the holder's are.
		lim, err := wallet.Body[wallet.Limits](op)
		if err != nil {
			return nil // scope judged the body
		}
		return l.CheckLimits(lim)
	}
	switch op.Kind {
	case wallet.OpPayment, wallet.OpRefund, wallet.OpTopUpCash:
	default:
		return nil
	}
	op.Device = device
	return l.recs.View(func(tx store.Tx) error {
		if _, done, err := decided(tx, wallet.ID(op)); err != nil || done {
			return err
		}
		switch op.Kind {
		case wallet.OpPayment:
			p, err := wallet.Body[wallet.Payment](op)
			if err != nil || p.Offline {
				return nil // scope judged the body; offline is never refused
			}
			return l.checkPayment(tx, p, hlc.Wall(op.HLC))
		case wallet.OpRefund:
			r, err := wallet.Body[wallet.Refund](op)
			if err != nil {
				return nil
			}
			pay, ok, err := store.GetJSON[payment](tx, kindPayment, r.Payment)
			if err != nil || !ok {
				return err
			}
			return refundRefusal(pay, r)
		default:
			t, err := wallet.Body[wallet.TopUpCash](op)
			if err != nil {
				return nil
			}
			return l.checkTopUp(t)
		}
	})
}

// checkDonation refuses a counter's donation op unless its payment
// reference names what the ledger posted for it (the counter's payment
// through server/furusato: a card's "card:" intent or a cash cause) into
// the shop's Donations account, for the donation's amount. A body the
// kind's rules refuse is theirs to refuse.
func (l *Ledger) checkDonation(op syncproto.Op) error {
	var d furusato.Donation
	if err := json.Unmarshal(op.Body, &d); err != nil || d.Validate() != nil {
		return nil
	}
	e, _, ok, err := l.Posted(d.Payment)
	if err != nil {
		return err
	}
	if ok && e.Kind == KindDonation && slices.Contains(e.Postings, Posting{Account: Donations(d.Shop), Amount: d.Amount}) {
		return nil
	}
	return ErrUnpaidDonation
}

// checkPayment says why an online payment p may not be made now, or nil.
func (l *Ledger) checkPayment(tx store.Tx, p wallet.Payment, at time.Time) error {
	s, _, err := store.GetJSON[settings](tx, kindWallet, p.Resident)
	if err != nil {
		return err
	}
	if s.Closed {
		return ErrDeleted
	}
	if s.Frozen {
		return ErrFrozen
	}
	if s.PerPay > 0 && p.Amount > s.PerPay {
		return fmt.Errorf("%w (¥%d)", ErrPerPayment, s.PerPay)
	}
	if s.Daily > 0 {
		spent, _, err := store.GetJSON[int64](tx, kindSpent, p.Resident+"/"+l.day(at))
		if err != nil {
			return err
		}
		if spent+p.Amount > s.Daily {
			return fmt.Errorf("%w (¥%d, ¥%d spent today)", ErrDaily, s.Daily, spent)
		}
	}
	b, err := BalanceIn(tx, Wallet(p.Resident))
	if err != nil {
		return err
	}
	if b.Balance < p.Amount {
		return fmt.Errorf("%w (¥%d)", ErrShort, b.Balance)
	}
	return nil
}
