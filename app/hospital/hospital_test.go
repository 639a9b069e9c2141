package hospital

import (
	"errors"
	"testing"
)

func TestValidate(t *testing.T) {
	for _, tt := range []struct {
		name string
		v    interface{ Validate() error }
		ok   bool
	}{
		{"link", Link{Facility: "h", Resident: "R-1", Patient: "0012345"}, true},
		{"link without patient", Link{Facility: "h", Resident: "R-1"}, false},
		{"link with a name as number", Link{Facility: "h", Resident: "R-1", Patient: "山田"}, false},
		{"link too long", Link{Facility: "h", Resident: "R-1", Patient: "123456789012345678901"}, false},
		{"reception by face", Reception{Facility: "h", Resident: "R-1", Patient: "12", Department: "internal", Via: ByFace, Shares: []string{"medication"}}, true},
		{"reception by staff", Reception{Facility: "h", Patient: "12", Department: "surgery", Via: ByStaff}, true},
		{"staff naming a resident", Reception{Facility: "h", Resident: "R-1", Patient: "12", Department: "surgery", Via: ByStaff}, false},
		{"face naming nobody", Reception{Facility: "h", Patient: "12", Department: "surgery", Via: ByFace}, false},
		{"no such department", Reception{Facility: "h", Resident: "R-1", Patient: "12", Department: "magic", Via: ByFace}, false},
		{"no such data", Reception{Facility: "h", Resident: "R-1", Patient: "12", Department: "ent", Via: ByFace, Shares: []string{"genome"}}, false},
	} {
		err := tt.v.Validate()
		if tt.ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}
