package identify

import (
	"errors"
	"testing"
)

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		i    Identification
		ok   bool
	}{
		{"accepted", Identification{Facility: "p", Resident: "R-1", Method: "face", Outcome: Accepted, Score: 0.95}, true},
		{"unknown", Identification{Facility: "p", Method: "face", Outcome: Unknown}, true},
		{"flat", Identification{Facility: "p", Method: "face", Outcome: Flat}, true},
		{"expired", Identification{Facility: "p", Resident: "R-1", Method: "face", Outcome: Expired}, true},
		{"expired naming nobody", Identification{Facility: "p", Method: "face", Outcome: Expired}, false},
		{"no facility", Identification{Method: "face", Outcome: Unknown}, false},
		{"accepted without resident", Identification{Facility: "p", Method: "face", Outcome: Accepted}, false},
		{"unknown naming a resident", Identification{Facility: "p", Resident: "R-1", Method: "face", Outcome: Unknown}, false},
		{"other method", Identification{Facility: "p", Method: "iris", Outcome: Unknown}, false},
		{"other outcome", Identification{Facility: "p", Method: "face", Outcome: "maybe"}, false},
		{"pass admitted", Identification{Facility: "p", Resident: "R-1", Method: MethodQR, Outcome: Accepted, Pass: "0011223344556677"}, true},
		{"pass admitted unnamed", Identification{Facility: "p", Resident: "R-1", Method: MethodQR, Outcome: Accepted}, false},
		{"pass used again", Identification{Facility: "p", Method: MethodQR, Outcome: Used}, true},
		{"pass forged", Identification{Facility: "p", Method: MethodQR, Outcome: Invalid}, true},
		{"pass refused naming it", Identification{Facility: "p", Method: MethodQR, Outcome: Used, Pass: "0011223344556677"}, false},
		{"face cannot be used", Identification{Facility: "p", Method: MethodFace, Outcome: Used}, false},
		{"a pass cannot be flat", Identification{Facility: "p", Method: MethodQR, Outcome: Flat}, false},
		{"staff by sight, a band", Identification{Facility: "p", Method: MethodStaff, Outcome: Accepted, Band: "elementary"}, true},
		{"staff by sight, naming a resident", Identification{Facility: "p", Resident: "R-1", Method: MethodStaff, Outcome: Accepted}, false},
		{"a band judged by a face", Identification{Facility: "p", Resident: "R-1", Method: MethodFace, Outcome: Accepted, Band: "elementary"}, false},
		{"staff cannot refuse by record", Identification{Facility: "p", Method: MethodStaff, Outcome: Unknown}, false},
		{"card photo 1:1 accepted, nobody named", Identification{Facility: "s", Method: MethodCardFace, Outcome: Accepted, Score: 0.97}, true},
		{"card photo 1:1 refused", Identification{Facility: "s", Method: MethodCardFace, Outcome: Unknown, Score: 0.41}, true},
		{"card photo 1:1, a picture held up", Identification{Facility: "s", Method: MethodCardFace, Outcome: Flat}, true},
		{"card photo 1:1 naming a resident", Identification{Facility: "s", Resident: "R-1", Method: MethodCardFace, Outcome: Accepted}, false},
		{"card photo 1:1 cannot be ambiguous", Identification{Facility: "s", Method: MethodCardFace, Outcome: Ambiguous}, false},
	}
	for _, c := range cases {
		err := c.i.Validate()
		if c.ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}
