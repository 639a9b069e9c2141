// Package facility describes the places that use the pass: hospitals, play
// parks, evacuation shelters, shops and the disaster HQ. Facilities are records in
// the op log, so a tablet that has synced once knows them while offline.
package facility

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
)

// OpUpsert is the op kind that creates or replaces a facility record.
const OpUpsert = "facility.upsert"

// Kind is what a facility does; it decides which terminal modes and which
// personal attributes a device of the facility may have.
type Kind string

// The facility kinds.
const (
	Hospital Kind = "hospital"
	PlayPark Kind = "playpark"
	Shelter  Kind = "shelter"
	HQ       Kind = "hq"
	// Transit is a bus or shared-taxi operator: its devices are the
	// vehicles' tablets (issue 22).
	Transit Kind = "transit"
	// Shop is a merchant that takes payment from the city wallet: its
	// terminals record payments and refunds (app/wallet).
	Shop Kind = "shop"
	// Donation is a shop that takes hometown-tax donations for its
	// gifts (a roadside station, a souvenir shop): its devices are the
	// donation counters (issue 23).
	Donation Kind = "donation"
)

// Kinds are every kind of facility, in the order screens list them.
var Kinds = []Kind{Hospital, PlayPark, Shelter, HQ, Transit, Shop, Donation}

// RecognisingFaces are the kinds of facility whose terminals match faces:
// a resident consents to each such facility, and only those receive
// templates. A donation counter recognises its donors (a visitor's one
// consent is to the shop); a transit operator's vehicles, its riders
// (the consent is to the operator, whose every vehicle holds them); a
// shop's till, its payers.
var RecognisingFaces = []Kind{Hospital, PlayPark, Shelter, Shop, Donation, Transit}

// Facility is one place. Names are kept in Japanese and English because the
// UI language is the reader's choice, not the facility's.
type Facility struct {
	ID       string `json:"id"`
	Kind     Kind   `json:"kind"`
	NameJA   string `json:"name_ja"`
	NameEN   string `json:"name_en"`
	Capacity int    `json:"capacity,omitempty"` // people; shelters only
}

// ErrInvalid is wrapped by Validate.
var ErrInvalid = errors.New("invalid facility")

// idRE keeps ids usable in feed names and URLs.
var idRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Validate reports whether f can be stored.
func (f Facility) Validate() error {
	switch {
	case len(f.ID) > 64 || !idRE.MatchString(f.ID):
		return fmt.Errorf("%w: id %q (lower-case letters, digits and hyphens)", ErrInvalid, f.ID)
	case !slices.Contains(Kinds, f.Kind):
		return fmt.Errorf("%w: kind %q", ErrInvalid, f.Kind)
	case f.NameJA == "":
		return fmt.Errorf("%w: %s has no Japanese name", ErrInvalid, f.ID)
	case f.Capacity < 0:
		return fmt.Errorf("%w: %s capacity %d", ErrInvalid, f.ID, f.Capacity)
	}
	return nil
}

// Name returns the facility's name in lang ("ja" or "en"), falling back to
// Japanese where no English name was given.
func (f Facility) Name(lang string) string {
	if lang == "en" && f.NameEN != "" {
		return f.NameEN
	}
	return f.NameJA
}

// DemoOperator is the demo's bus operator, whose feed the demo server
// imports.
const DemoOperator = "kaga-demo-bus"

// Demo returns the facilities a demo server starts with: two hospitals, one
// play park, two shelters, a shop that takes the city wallet, the HQ and a
// bus operator, named after real kinds of places in Kaga so a newcomer
// sees a believable city.
func Demo() []Facility {
	return []Facility{
		{ID: "kaga-medical", Kind: Hospital, NameJA: "加賀市医療センター", NameEN: "Kaga Medical Center"},
		{ID: "kaga-playpark", Kind: PlayPark, NameJA: "かがっこパーク", NameEN: "Kagakko Play Park"},
		{ID: "shelter-daishoji", Kind: Shelter, NameJA: "大聖寺地区会館（避難所）", NameEN: "Daishoji Community Hall (shelter)", Capacity: 120},
		{ID: "shelter-yamashiro", Kind: Shelter, NameJA: "山代小学校体育館（避難所）", NameEN: "Yamashiro Elementary Gym (shelter)", Capacity: 300},
		{ID: "kaga-shop", Kind: Shop, NameJA: "山中温泉 みやげ処", NameEN: "Yamanaka Onsen Gift Shop"},
		{ID: "kaga-hq", Kind: HQ, NameJA: "加賀市災害対策本部", NameEN: "Kaga Disaster HQ"},
		// A second hospital, last so the others keep their places: the
		// consented history across hospitals needs two (issue 24).
		{ID: "yamanaka-medical", Kind: Hospital, NameJA: "山中温泉医療センター", NameEN: "Yamanaka Onsen Medical Center"},
		// A bus operator, last for the same reason: the demo server
		// imports its feed (app/transit/demofeed) for its vehicle
		// tablets (issue 22).
		{ID: DemoOperator, Kind: Transit, NameJA: "加賀デモ交通", NameEN: "Kaga Demo Transit"},
		// A roadside station's hometown-tax counter, last for the same
		// reason (issue 23).
		{ID: "kaga-michinoeki", Kind: Donation, NameJA: "道の駅 かが ふるさと納税窓口", NameEN: "Roadside Station Kaga, hometown-tax counter"},
	}
}
