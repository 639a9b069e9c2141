package cardphoto_test

import (
	"errors"
	"testing"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/cardphoto"
	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/shelter"
)

// TestRecord: the record of a person accepted without a profile takes
// the card's birth year and sex and the reading staff typed, validated
// as the shelter's form is.
func TestRecord(t *testing.T) {
	p := cardphoto.Photo{BirthYear: 1980, Sex: "1"}
	e, err := p.Record("shelter-a", "カガタロウ", 2026)
	if err != nil || e.Kana != "カガタロウ" || e.BirthYear != 1980 || e.Sex != "1" || e.Shelter != "shelter-a" || e.Resident != "" {
		t.Fatalf("%+v, %v", e, err)
	}
	var fe *shelter.FieldError
	for _, tc := range []struct {
		kana  string
		photo cardphoto.Photo
		field string
	}{
		{"", p, "kana"},
		{"kaga", p, "kana"},
		{"カガ", cardphoto.Photo{BirthYear: 0, Sex: "1"}, "birth_year"},
	} {
		if _, err := tc.photo.Record("shelter-a", tc.kana, 2026); !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%q %+v: %v, want a %s error", tc.kana, tc.photo, err, tc.field)
		}
	}
}

// TestForDesk: the desk records the card-face check only when it
// accepted the person; a refusal or a picture held up is by sight with
// the check's outcome and score kept; no check at all is by sight; and
// what it records is one a desk can make.
func TestForDesk(t *testing.T) {
	for _, tc := range []struct {
		name string
		id   identify.Identification
		want account.DeskCheck
	}{
		{"accepted", identify.Identification{Method: identify.MethodCardFace, Outcome: identify.Accepted, Score: 0.83},
			account.DeskCheck{By: account.ByCardFace, Outcome: identify.Accepted, Score: 0.83}},
		{"refused", identify.Identification{Method: identify.MethodCardFace, Outcome: identify.Unknown, Score: 0.21},
			account.DeskCheck{By: account.ByStaff, Outcome: identify.Unknown, Score: 0.21}},
		{"a picture", identify.Identification{Method: identify.MethodCardFace, Outcome: identify.Flat},
			account.DeskCheck{By: account.ByStaff, Outcome: identify.Flat}},
		{"no check", identify.Identification{}, account.DeskCheck{By: account.ByStaff}},
	} {
		got := cardphoto.ForDesk(tc.id)
		if got != tc.want || got.Validate() != nil {
			t.Errorf("%s: %+v (%v), want %+v", tc.name, got, got.Validate(), tc.want)
		}
	}
}
