package api

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/playpark"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/server/publish"
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
	}
	return p, nil
}

// deskProfiles is the hub's Stored: a template a city desk recorded for
// a resident the registry knows gets its facilities' profiles, as one
// registered from an account does. A template of an unknown resident
// (a number typed at the desk with no record) goes without.
func (a *accounts) deskProfiles(device string, stored []syncproto.Op) {
	if a.reg == nil {
		return
	}
	for _, op := range stored {
		if op.Kind != template.OpPut || op.Device == publish.Device {
			continue
		}
		var t template.Template
		if json.Unmarshal(op.Body, &t) != nil {
			continue
		}
		person, err := a.reg.Person(t.Resident)
		if err != nil {
			continue
		}
		err = a.publishProfiles(context.Background(), person, t.Facilities)
		if err != nil {
			a.logger.Error("profiles of a desk registration", "device", device, "resident", t.Resident, "err", err)
		}
	}
}

// publishProfiles writes person's profiles for the facilities (ids) as
// the server's next ops.
func (a *accounts) publishProfiles(ctx context.Context, person account.Account, ids []string) error {
	facs, err := a.recognisingFacilities()
	if err != nil {
		return err
	}
	facs = slices.DeleteFunc(facs, func(f facility.Facility) bool { return !slices.Contains(ids, f.ID) })
	household := cmp.Or(person.Guardian, person.ID)
	ops, err := profileOps(facs, person, household, a.city)
	if err != nil || len(ops) == 0 {
		return err
	}
	return a.pub.Write(ctx, ops, nil)
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
