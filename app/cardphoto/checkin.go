package cardphoto

import (
	"fmt"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/shelter"
)

// Record is the shelter record of a person the check accepted whom the
// tablet has no profile of: the reading of the name staff typed (the
// card-face application's name is an image, and no PIN opens the text),
// the birth year and sex the card's face data gives. It is validated as
// the shelter's form is.
func (p Photo) Record(shelterID, kana string, thisYear int) (shelter.Evacuee, error) {
	e := shelter.Evacuee{Shelter: shelterID, Kana: kana, BirthYear: p.BirthYear, Sex: p.Sex}
	if err := e.Validate(thisYear); err != nil {
		return shelter.Evacuee{}, fmt.Errorf("cardphoto: the record: %w", err)
	}
	return e, nil
}

// ForDesk is what a city desk records of how staff checked the person
// they register, after the check decided id (the zero Identification:
// no check decided, it refused to run or was not made): by the
// card-face check when it accepted, else by sight, with the 1:1
// outcome and score whenever one was made, so a refusal staff overrode
// by sight stays on the record.
func ForDesk(id identify.Identification) account.DeskCheck {
	if id.Method != identify.MethodCardFace {
		return account.DeskCheck{By: account.ByStaff}
	}
	by := account.ByStaff
	if id.Outcome == identify.Accepted {
		by = account.ByCardFace
	}
	return account.DeskCheck{By: by, Outcome: id.Outcome, Score: id.Score}
}
