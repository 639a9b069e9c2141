package furusato

import (
	"context"
	"errors"
	"fmt"
	"time"

	"smartpass.city/smartpass/app/jpaddress"
)

// Payer takes a donation's payment at the counter (the wallet issue's
// gateway: a credit card for a visitor, the city wallet for a resident)
// and returns the payment's reference. The counter calls it once per
// donation, after the gift rules passed, so nobody pays for a gift the
// counter then refuses.
type Payer interface {
	Pay(ctx context.Context, amount int64) (ref string, err error)
}

// Sale is what staff and the donor chose at the counter.
type Sale struct {
	Shop string
	// Donor is the donor's account; Address the address their card's
	// certificate gives (the gift rule reads the municipality).
	Donor, Address string
	// Item is the gift picked (its ID "" for a donation without one);
	// Amount the donation when there is no item.
	Item   Item
	Amount int64
}

// Donate applies the gift rules to s, takes the payment through pay and
// returns the OpDonation body to record. A resident of city donates
// without a gift (the donation is still welcome); an item out of stock
// or an address that cannot be parsed is refused before anything is
// paid.
func Donate(ctx context.Context, pay Payer, city jpaddress.Place, s Sale, now time.Time) (Donation, error) {
	d := Donation{Shop: s.Shop, Donor: s.Donor, Amount: s.Amount, At: now.UTC()}
	if s.Item.ID != "" {
		d.Item, d.Amount = s.Item.ID, s.Item.Donation
		err := Gift(city, s.Address, s.Item)
		switch {
		case errors.Is(err, ErrOwnResident):
			d.Item = ""
		case err != nil:
			return Donation{}, err
		default:
			d.Gift = true
		}
	}
	// The body's rules, checked before the money moves: the reference
	// Validate wants comes after.
	pre := d
	pre.Payment = "(before payment)"
	if err := pre.Validate(); err != nil {
		return Donation{}, err
	}
	ref, err := pay.Pay(ctx, d.Amount)
	if err != nil {
		return Donation{}, fmt.Errorf("furusato: payment: %w", err)
	}
	d.Payment = ref
	return d, d.Validate()
}
