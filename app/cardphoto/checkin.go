package cardphoto

import (
	"fmt"
	"slices"

	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/app/state"
)

// Holder is the resident whose profile at facility lists the card with
// fingerprint fp, as the card path finds a card's holder: "" for none,
// or for more than one (never guess). A person the terminal holds a
// profile of is then checked in, or received, as the card path does.
func Holder(st *state.State, facility, fp string) string {
	if st == nil || fp == "" {
		return ""
	}
	var holders []string
	for id, prof := range st.Profiles {
		if prof.Facility == facility && slices.Contains(prof.Cards, fp) {
			holders = append(holders, id)
		}
	}
	if len(holders) != 1 {
		return ""
	}
	return holders[0]
}

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
