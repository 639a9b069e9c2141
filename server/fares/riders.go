package fares

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/fare"
	"smartpass.city/smartpass/app/transit"
	"smartpass.city/smartpass/server/ledger"
	"smartpass.city/smartpass/server/publish"
	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/syncproto"
)

// Refusal is a pass purchase turned down, with its words for the
// account page (Japanese first) and a code the caller translates.
type Refusal struct {
	Code, JA, EN string
}

// Error implements error: the words, "日本語 / English".
func (r *Refusal) Error() string { return r.JA + " / " + r.EN }

// The refusals of a purchase, compared with errors.Is; a wallet too
// short is the ledger's ErrShort.
var (
	ErrNoProduct = &Refusal{"pass-no-product", "その定期券は販売されていません。", "The operator sells no such pass."}
	ErrNoProfile = &Refusal{"pass-no-consent", "この事業者の顔認証に同意していません。先に顔を登録してください。", "The rider has not consented to this operator's face check: register the face for it first."}
	ErrPassClass = &Refusal{"pass-class", "この定期券は利用者の区分では買えません（小児用は小学生まで）。", "The rider's fare class cannot use this pass (a child's pass is for elementary-school pupils)."}
	ErrPassDay   = &Refusal{"pass-day", "開始日が正しくありません（今日から30日以内）。", "The start day must be from today to 30 days ahead."}
)

// SetProfile publishes prof to the operator's vehicles (transit.rider)
// and keeps the same facts for pricing, in one batch; the allowance is
// the wallet's offline allowance now.
func (p *Poster) SetProfile(ctx context.Context, prof transit.Profile) error {
	ops, records, err := p.profile(prof)
	if err != nil {
		return err
	}
	return p.pub.Write(ctx, ops, records)
}

// FaceFacts is the faces door's More: for a transit operator a resident
// consented to (their face registered for it, or their profiles written
// again), the rider profile its vehicles price by, from the resident's
// record (the birth date; the class is computed on the tablet for the
// day of travel), in the door's batch. Other facilities get nothing.
func (p *Poster) FaceFacts(f facility.Facility, person account.Account) ([]syncproto.Op, func(store.Tx) error, error) {
	if f.Kind != facility.Transit {
		return nil, nil, nil
	}
	birth, err := time.ParseInLocation("20060102", person.Facts.BirthDate, fare.JST)
	if err != nil {
		return nil, nil, fmt.Errorf("fares: birth date of %s: %w", person.ID, err)
	}
	return p.profile(transit.Profile{Operator: f.ID, Resident: person.ID, Birth: birth.Format(time.DateOnly)})
}

// profile returns prof's op, with the wallet's offline allowance now,
// and the write of the same facts (passes kept) for pricing.
func (p *Poster) profile(prof transit.Profile) ([]syncproto.Op, func(store.Tx) error, error) {
	allow, err := p.led.OfflineAllowance(prof.Resident, p.OfflineCap)
	if err != nil {
		return nil, nil, fmt.Errorf("fares: profile of %s: %w", prof.Resident, err)
	}
	prof.Allowance = allow
	ops, err := publish.Ops(transit.OpRider, []transit.Profile{prof}, transit.Profile.Validate)
	if err != nil {
		return nil, nil, fmt.Errorf("fares: profile of %s: %w", prof.Resident, err)
	}
	return ops, func(tx store.Tx) error {
		id := riderID(prof.Operator, prof.Resident)
		f, _, err := store.GetJSON[transit.Facts](tx, kindRider, id)
		if err != nil {
			return err
		}
		f.Profile = prof
		return putJSON(tx, kindRider, id, f)
	}, nil
}

// passID names the pass of a purchase: the same request of the same
// holder is the same pass.
func passID(holder string, b transit.BuyPass) string {
	h := sha256.Sum256([]byte(holder + "\x00" + b.Resident + "\x00" + b.Operator + "\x00" + b.Request))
	return "pass-" + hex.EncodeToString(h[:8])
}

// BuyPass sells the operator's pass product to a rider, as the account
// of holder (a guardian for a child; the caller checked the household):
// the price moves from the rider's wallet to the operator's account
// (never below zero: ledger.ErrShort), then the pass reaches the
// operator's vehicles (transit.pass) and the facts the server prices
// by. A request sent again charges nothing more and publishes the same
// pass.
func (p *Poster) BuyPass(ctx context.Context, holder string, b transit.BuyPass) (transit.PassRecord, error) {
	from, err := fare.ParseDay(b.From)
	today := p.Now().In(fare.JST)
	today = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, fare.JST)
	if err != nil || from.Before(today) || from.After(today.AddDate(0, 0, 30)) {
		return transit.PassRecord{}, ErrPassDay
	}
	s, err := p.nets.On(b.Operator, from)
	if err != nil {
		return transit.PassRecord{}, fmt.Errorf("%w: %w", ErrNoProduct, err)
	}
	prod, ok := s.Network.Config.Product(b.Product)
	if !ok {
		return transit.PassRecord{}, ErrNoProduct
	}
	var facts transit.Facts
	var known bool
	err = p.recs.View(func(tx store.Tx) error {
		facts, known, err = store.GetJSON[transit.Facts](tx, kindRider, riderID(b.Operator, b.Resident))
		return err
	})
	if err != nil {
		return transit.PassRecord{}, err
	}
	rider, valid := facts.Rider()
	if !known || !valid {
		return transit.PassRecord{}, ErrNoProfile
	}
	rules, err := s.Tables.On(b.Operator, from)
	if err != nil {
		return transit.PassRecord{}, fmt.Errorf("%w: %w", ErrNoProduct, err)
	}
	if prod.Class == fare.Child && rules.ClassOn(rider.Birth, from) == fare.Adult {
		return transit.PassRecord{}, ErrPassClass
	}
	rec := transit.PassRecord{Resident: b.Resident, Pass: fare.Pass{
		ID: passID(holder, b), Operator: b.Operator, From: b.From, Until: from.AddDate(0, 0, prod.Days-1).Format(time.DateOnly),
		Routes: prod.Routes, Zones: prod.Zones, Class: prod.Class,
	}}
	if err := rec.Validate(); err != nil {
		return transit.PassRecord{}, fmt.Errorf("%w: %w", ErrNoProduct, err)
	}
	_, _, err = p.led.Post(ledger.Transfer{Cause: "pass:" + b.Operator + ":" + rec.Pass.ID, Kind: ledger.KindPass,
		From: ledger.Wallet(b.Resident), To: ledger.Transit(b.Operator), Amount: prod.Price, Actor: "resident:" + holder}, p.Now())
	if err != nil {
		return transit.PassRecord{}, fmt.Errorf("fares: pass for %s: %w", b.Resident, err)
	}
	ops, err := publish.Ops(transit.OpPass, []transit.PassRecord{rec}, transit.PassRecord.Validate)
	if err != nil {
		return transit.PassRecord{}, err
	}
	err = p.pub.Write(ctx, ops, func(tx store.Tx) error {
		id := riderID(b.Operator, b.Resident)
		f, _, err := store.GetJSON[transit.Facts](tx, kindRider, id)
		if err != nil {
			return err
		}
		return putJSON(tx, kindRider, id, f.WithPass(rec.Pass))
	})
	if err != nil {
		// Paid, not yet published: the same request publishes it.
		return transit.PassRecord{}, fmt.Errorf("fares: pass %s paid but not yet sent to the vehicles (send the request again): %w", rec.Pass.ID, err)
	}
	return rec, nil
}

// IsRefusal reports whether err is a purchase refused (its words for
// the page), rather than the server failing.
func IsRefusal(err error) bool {
	var r *Refusal
	var l *ledger.Refusal
	return errors.As(err, &r) || errors.As(err, &l)
}
