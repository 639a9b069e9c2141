package facility

import (
	"errors"
	"testing"
)

func TestValidate(t *testing.T) {
	for _, f := range Demo() {
		if err := f.Validate(); err != nil {
			t.Errorf("demo facility %s: %v", f.ID, err)
		}
	}
	bad := []Facility{
		{},
		{ID: "x", Kind: "zoo", NameJA: "x"},
		{ID: "x", Kind: Shelter},
		{ID: "x", Kind: Shelter, NameJA: "x", Capacity: -1},
		{ID: "Shelter A", Kind: Shelter, NameJA: "x"},
		{ID: "-a", Kind: Shelter, NameJA: "x"},
	}
	for _, f := range bad {
		if err := f.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("Validate(%+v) = %v, want ErrInvalid", f, err)
		}
	}
}

func TestName(t *testing.T) {
	f := Facility{NameJA: "避難所", NameEN: "Shelter"}
	if f.Name("en") != "Shelter" || f.Name("ja") != "避難所" {
		t.Fatalf("Name: got %q / %q", f.Name("en"), f.Name("ja"))
	}
	f.NameEN = ""
	if f.Name("en") != "避難所" {
		t.Fatalf("Name(en) without English = %q, want Japanese fallback", f.Name("en"))
	}
}
