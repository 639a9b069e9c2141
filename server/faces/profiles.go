package faces

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/checkout"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/playpark"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/syncproto"
)

// profileFor returns what facility f may know of person, of household
// (ARCHITECTURE §3): a play park, the age bands and whether they live in
// city; a shelter, the name, birth year, sex and whether they agreed to
// disclosure; a hospital, whether they agreed to share their medication
// (it links its own patient number). Facts that are a guardian's word
// only (account.Declared) are marked so, and earn no free entry.
func profileFor(f facility.Facility, person account.Account, household, city string) (template.Profile, error) {
	declared := account.Declared(person.Source)
	p := template.Profile{Resident: person.ID, Facility: f.ID, Household: household, Cards: person.Cards, Declared: declared}
	birth, err := playpark.ParseBirth(person.Facts.BirthDate)
	if err != nil {
		return p, fmt.Errorf("profile of %s: %w", person.ID, err)
	}
	switch f.Kind {
	case facility.PlayPark:
		p.Bands = playpark.Bands(birth)
		// Free entry is for children proven to live in the city: a
		// guardian's word is not enough (staff can still admit by sight).
		p.Local = !declared && city != "" && strings.Contains(person.Facts.Address, city)
	case facility.Shelter:
		p.Name, p.BirthYear, p.Sex = person.Facts.Name, birth.Year(), person.Facts.Sex
		p.Disclose = person.Consents[account.PurposeDisclosure]
	case facility.Hospital:
		p.Medication = person.Consents[account.PurposeMedication]
	case facility.Shop:
		// The name only to be masked on the till; the age as a fact,
		// never the birth date (a fact made today stays true: of age
		// now is of age later, and From is a fixed day). The allowance
		// is the ledger's (profileOps).
		age, err := checkout.AgeFactOf(person.Facts.BirthDate, time.Now())
		if err != nil {
			return p, fmt.Errorf("profile of %s: %w", person.ID, err)
		}
		p.Pay = &template.Pay{Name: person.Facts.Name, Adult: age.Adult, AdultFrom: age.From}
	}
	return p, nil
}

// Wallets is what the profiles of shops need of the ledger: a
// resident's wallet as a till knows it (template.Pay's Allowance,
// Blocked, FaceOnly, PerPayment and Daily; the rest is the profile's).
type Wallets func(resident string) (template.Pay, error)

// profileOps returns the profile ops of person for each of facilities;
// wallets (nil: no wallet, no allowance) fills the shops' allowance.
func profileOps(facilities []facility.Facility, person account.Account, household, city string, wallets Wallets) ([]syncproto.Op, error) {
	var ops []syncproto.Op
	for _, f := range facilities {
		p, err := profileFor(f, person, household, city)
		if err != nil {
			return nil, err
		}
		if p.Pay != nil && wallets != nil {
			w, err := wallets(person.ID)
			if err != nil {
				return nil, fmt.Errorf("profile of %s: %w", person.ID, err)
			}
			p.Pay.Allowance, p.Pay.Blocked, p.Pay.FaceOnly = w.Allowance, w.Blocked, w.FaceOnly
			p.Pay.PerPayment, p.Pay.Daily = w.PerPayment, w.Daily
		}
		b, err := json.Marshal(p)
		if err != nil {
			return nil, err
		}
		ops = append(ops, syncproto.Op{Kind: template.OpProfile, Body: b})
	}
	return ops, nil
}
