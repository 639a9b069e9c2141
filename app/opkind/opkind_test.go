package opkind

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"smartpass.city/smartpass/app/role"
	"smartpass.city/smartpass/syncproto"
)

// visit is the body of the kinds these tests declare.
type visit struct {
	Facility string `json:"facility"`
	Shut     bool   `json:"shut"`
}

var atFacility = Field(func(v visit) string { return v.Facility })

func (v visit) at() string { return v.Facility }

// check refuses one facility, for the tests of Over.
func (v visit) check() error {
	if v.Facility == "closed" || v.Shut {
		return errClosed
	}
	return nil
}

var errClosed = errors.New("that facility is closed")

// TestOver: a kind declared with Body validates and names its facility
// as Rule and Field would, through Validate and Facility as filled in by
// Register, and Inspect gives the same answers from one reading.
func TestOver(t *testing.T) {
	Register(Kind{Name: "opkind.test.over", Body: Over(visit.check, visit.at), Feeds: Feeds{Facility: true}})
	k, _ := Lookup("opkind.test.over")
	plain := Kind{Name: "plain", Validate: Rule(visit.check), Facility: atFacility}
	tests := []struct {
		name, body string
		at         string
		invalid    bool // Validate refuses it
		wantErr    bool // Inspect refuses it (rules or facility)
	}{
		{"a facility", `{"facility":"park"}`, "park", false, false},
		{"refused by the rules", `{"facility":"closed"}`, "", true, true},
		{"names no facility", `{}`, "", false, true},
		{"refused by the rules and names no facility: the rules speak", `{"shut":true}`, "", true, true},
		{"not the body", `[]`, "", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := syncproto.Op{Kind: "opkind.test.over", Body: json.RawMessage(tt.body)}
			if err := k.Validate(op); (err != nil) != tt.invalid || fmt0(err) != fmt0(plain.Validate(op)) {
				t.Fatalf("Validate = %v, Rule gives %v", err, plain.Validate(op))
			}
			at, ok, err := k.Inspect(op)
			if !ok || (err != nil) != tt.wantErr || at != tt.at {
				t.Fatalf("Inspect = %q, %v, %v; want %q, error %v", at, ok, err, tt.at, tt.wantErr)
			}
			if tt.invalid && fmt0(err) != fmt0(k.Validate(op)) {
				t.Fatalf("Inspect's error %v, Validate's %v: want the rules' error first", err, k.Validate(op))
			}
			if !tt.invalid {
				fat, ferr := k.Facility(op)
				pat, perr := plain.Facility(op)
				if fat != pat || fmt0(ferr) != fmt0(perr) || fmt0(ferr) != fmt0(err) {
					t.Fatalf("Facility = %q, %v; Field gives %q, %v; Inspect's error %v", fat, ferr, pat, perr, err)
				}
			}
		})
	}
	if _, ok, _ := plain.Inspect(syncproto.Op{}); ok {
		t.Fatal("Inspect of a kind without Body: want ok false")
	}
}

// fmt0 is an error's text, "" for none.
func fmt0(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestRegisterRefusesContradictions: a declaration that contradicts
// itself or repeats a name stops the program at init.
func TestRegisterRefusesContradictions(t *testing.T) {
	Register(Kind{Name: "opkind.test.once"})
	tests := []struct {
		name string
		k    Kind
	}{
		{"no name", Kind{}},
		{"declared twice", Kind{Name: "opkind.test.once"}},
		{"server-only with roles", Kind{Name: "opkind.test.a", ServerOnly: true, Roles: []role.Role{role.Shelter}}},
		{"facility feed without a facility", Kind{Name: "opkind.test.b", Feeds: Feeds{Facility: true}}},
		{"HQ without the facility", Kind{Name: "opkind.test.c", Facility: atFacility, Feeds: Feeds{HQ: true}}},
		{"a body and its own rules", Kind{Name: "opkind.test.d", Body: Over(visit.check, visit.at), Validate: Rule(visit.check)}},
		{"a body and its own facility", Kind{Name: "opkind.test.e", Body: Over(visit.check, visit.at), Facility: atFacility}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				err, _ := recover().(error)
				if !errors.Is(err, ErrDeclaration) {
					t.Fatalf("Register(%+v) panicked with %v, want ErrDeclaration", tt.k, err)
				}
			}()
			Register(tt.k)
		})
	}
}

// TestFeedsOf: an op goes to the feeds its kind declares, in the order
// public, facility, HQ, then the body's own.
func TestFeedsOf(t *testing.T) {
	Register(Kind{Name: "opkind.test.public", Feeds: Feeds{Public: true}})
	Register(Kind{Name: "opkind.test.hq", Facility: atFacility, Feeds: Feeds{Facility: true, HQ: true}})
	Register(Kind{Name: "opkind.test.by", Feeds: Feeds{By: func(syncproto.Op) []string { return []string{TemplateFeed("x")} }}})
	Register(Kind{Name: "opkind.test.private", Facility: atFacility})
	op := func(kind, at string) syncproto.Op {
		b, _ := json.Marshal(visit{Facility: at})
		return syncproto.Op{Kind: kind, Body: b}
	}
	tests := []struct {
		op   syncproto.Op
		want []string
	}{
		{op("opkind.test.public", ""), []string{FeedPublic}},
		{op("opkind.test.hq", "s-1"), []string{FacilityFeed("s-1"), FeedHQ}},
		{op("opkind.test.hq", ""), nil}, // no facility: no one's feed
		{op("opkind.test.by", ""), []string{TemplateFeed("x")}},
		{op("opkind.test.private", "s-1"), nil},
		{op("opkind.test.undeclared", "s-1"), nil},
	}
	for _, tt := range tests {
		if got := FeedsOf(tt.op); !slices.Equal(got, tt.want) {
			t.Errorf("FeedsOf(%s %s) = %v, want %v", tt.op.Kind, tt.op.Body, got, tt.want)
		}
	}
}

// TestFold: a kind folds into its part, bound or not; a fold that fails
// lists the op among the Rejections; an undeclared kind changes nothing.
func TestFold(t *testing.T) {
	counts := NewSlot("visits", func() map[string]int { return make(map[string]int) })
	Register(Kind{Name: "opkind.test.fold", Fold: func(p *Parts, op syncproto.Op) error {
		v, err := Decode[visit](op)
		if err != nil {
			return err
		}
		(*counts.In(p))[v.Facility]++
		return nil
	}})
	var p Parts
	var bound map[string]int
	counts.Bind(&p, &bound)
	for _, body := range []string{`{"facility":"a"}`, `{"facility":"a"}`, `[]`} {
		Fold(&p, syncproto.Op{Kind: "opkind.test.fold", Body: json.RawMessage(body)})
	}
	Fold(&p, syncproto.Op{Kind: "opkind.test.newer", Body: json.RawMessage(`{}`)})
	if bound["a"] != 2 {
		t.Fatalf("bound part = %v, want a: 2", bound)
	}
	rs := *Rejections.In(&p)
	if len(rs) != 1 || string(rs[0].Op.Body) != `[]` {
		t.Fatalf("rejections = %+v, want the broken body", rs)
	}
	var unbound Parts
	Fold(&unbound, syncproto.Op{Kind: "opkind.test.fold", Body: json.RawMessage(`{"facility":"b"}`)})
	if got := *counts.In(&unbound); got["b"] != 1 {
		t.Fatalf("unbound part = %v, want b: 1", got)
	}
}
