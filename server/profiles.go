package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/playpark"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/syncproto"
)

// profileFor returns what facility f may know of person, of household
// (ARCHITECTURE §3): a play park, the age bands and whether they live in
// city; a shelter, the name, birth year and sex; a hospital, nothing but
// the household (it links its own patient number).
func profileFor(f facility.Facility, person account.Account, household, city string) (template.Profile, error) {
	p := template.Profile{Resident: person.ID, Facility: f.ID, Household: household}
	birth, err := playpark.ParseBirth(person.Facts.BirthDate)
	if err != nil {
		return p, fmt.Errorf("profile of %s: %w", person.ID, err)
	}
	switch f.Kind {
	case facility.PlayPark:
		p.Bands = playpark.Bands(birth)
		p.Local = city != "" && strings.Contains(person.Facts.Address, city)
	case facility.Shelter:
		p.Name, p.BirthYear, p.Sex = person.Facts.Name, birth.Year(), person.Facts.Sex
	}
	return p, nil
}

// profileOps returns the profile ops of person for each of facilities.
func profileOps(facilities []facility.Facility, person account.Account, household, city string) ([]syncproto.Op, error) {
	var ops []syncproto.Op
	for _, f := range facilities {
		p, err := profileFor(f, person, household, city)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(p)
		if err != nil {
			return nil, err
		}
		ops = append(ops, syncproto.Op{Kind: template.OpProfile, Body: b})
	}
	return ops, nil
}
