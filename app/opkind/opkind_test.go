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
}

var atFacility = Field(func(v visit) string { return v.Facility })

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
