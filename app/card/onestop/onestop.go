// Package onestop reads what the hometown-tax one-stop application
// (ワンストップ特例申請, form 第55号の5) needs from the My Number Card and
// nothing more: the basic four facts and the individual number, from the
// card-info application, after its 4-digit PIN, presented once.
//
// It is the only package that holds the grant to read the number
// (card/internal/numbergrant; a house rule checks that no other package
// imports it), so the firewall opens the number's file for this flow
// alone. A wrong PIN is returned with the tries left, for the screen to
// show; nothing here tries again.
package onestop

import (
	"context"
	"fmt"

	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/internal/numbergrant"
	"smartpass.city/smartpass/app/mynumber"
)

// Read is what the application takes from the card.
type Read struct {
	Facts  card.Facts
	Number mynumber.Number
}

// ReadCard opens the card-info application on c, presents pin once, and
// reads the basic four facts and the individual number. A wrong PIN
// comes back as *apdu.WrongPINError (with the tries left), a blocked one
// as apdu.ErrPINBlocked; in either case nothing was read.
func ReadCard(ctx context.Context, c *card.Card, pin string) (Read, error) {
	ci, err := card.OpenCardInfo(ctx, c)
	if err != nil {
		return Read{}, fmt.Errorf("onestop: %w", err)
	}
	if err := ci.Verify(ctx, pin); err != nil {
		return Read{}, fmt.Errorf("onestop: %w", err)
	}
	facts, err := ci.BasicFour(ctx)
	if err != nil {
		return Read{}, fmt.Errorf("onestop: %w", err)
	}
	digits, err := ci.IndividualNumber(ctx, numbergrant.New())
	if err != nil {
		return Read{}, fmt.Errorf("onestop: %w", err)
	}
	n, err := mynumber.Parse(digits)
	if err != nil {
		return Read{}, fmt.Errorf("onestop: the card's number: %w", err)
	}
	return Read{Facts: facts, Number: n}, nil
}
