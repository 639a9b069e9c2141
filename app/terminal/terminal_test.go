package terminal

import (
	"crypto/ed25519"
	"encoding/json"
	"testing"
	"time"

	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/pass"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/state"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/syncproto"
)

// TestCheckPass: a play park admits a pass of a child who consented
// to it, once; and refuses, each with its own words, a pass for
// somebody who did not, an expired one, one from another server and a
// QR code that is not a pass.
func TestCheckPass(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	_, forger, _ := ed25519.GenerateKey(nil)
	now := time.Now()
	op := func(seq uint64, kind string, body any) syncproto.Op {
		b, _ := json.Marshal(body)
		return syncproto.Op{Device: "server", Seq: seq, HLC: seq, Kind: kind, Body: b}
	}
	vec := template.Pack([]float32{1, 0})
	ops := []syncproto.Op{
		op(1, pass.OpKeys, pass.Keys{Keys: []ed25519.PublicKey{pub}}),
		op(2, template.OpPut, template.Template{Resident: "R-1", Model: "m", Facilities: []string{"park"}, Vec: vec}),
		op(3, template.OpPut, template.Template{Resident: "R-2", Model: "m", Facilities: []string{"hospital"}, Vec: vec}),
	}
	issue := func(key ed25519.PrivateKey, resident string, at time.Time) string {
		text, _, err := pass.Issue(key, resident, at)
		if err != nil {
			t.Fatal(err)
		}
		return text
	}
	child := issue(priv, "R-1", now)
	st := state.Fold(ops)
	for _, tt := range []struct {
		name     string
		text     string
		outcome  string
		resident string
		key      string
	}{
		{"her pass", child, identify.Accepted, "R-1", "face.id.ok.playpark"},
		{"no consent here", issue(priv, "R-2", now), identify.Unknown, "", "face.id.unknown"},
		{"not registered", issue(priv, "R-3", now), identify.Unknown, "", "face.id.unknown"},
		{"expired", issue(priv, "R-1", now.Add(-pass.Lifetime-time.Second)), identify.Invalid, "", "pass.id.expired"},
		{"forged", issue(forger, "R-1", now), identify.Invalid, "", "pass.id.invalid"},
		{"a web address", "https://example.jp/", identify.Invalid, "", "pass.id.invalid"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := CheckPass(st, "park", scope.PlayPark, tt.text, now)
			if c.Outcome != tt.outcome || c.Resident != tt.resident || c.Key != tt.key {
				t.Fatalf("got %s %q %s, want %s %q %s", c.Outcome, c.Resident, c.Key, tt.outcome, tt.resident, tt.key)
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("the record cannot be stored: %v", err)
			}
		})
	}

	// Once admitted (the terminal's own record, folded), the same pass
	// is refused, even after a reload; a new pass is admitted.
	first := CheckPass(st, "park", scope.PlayPark, child, now)
	st = state.Fold(append(ops, op(4, identify.OpIdentified, first.Identification)))
	if c := CheckPass(st, "park", scope.PlayPark, child, now); c.Outcome != identify.Used || c.Key != "pass.id.used" {
		t.Fatalf("the pass again: %s %s, want used", c.Outcome, c.Key)
	}
	if c := CheckPass(st, "park", scope.PlayPark, issue(priv, "R-1", now), now); c.Outcome != identify.Accepted {
		t.Fatalf("a new pass: %s, want accepted", c.Outcome)
	}
}

// TestCardHolder (issue 16, finding 2): a card names the one resident
// whose profile here lists it, always the same; a card two profiles
// list (stale or forged data) names nobody, and so does a card of
// somebody who did not consent to this facility or withdrew it. The
// card-face check (app/ui cardface.go) finds its holder by this rule.
func TestCardHolder(t *testing.T) {
	st := &state.State{
		Profiles: map[string]template.Profile{
			"R-1": {Resident: "R-1", Cards: []string{"a"}},
			"R-2": {Resident: "R-2", Cards: []string{"b"}},
			"R-3": {Resident: "R-3", Cards: []string{"b"}},
			"R-4": {Resident: "R-4", Cards: []string{"c"}},
			"R-5": {Resident: "R-5", Cards: []string{"e"}},
		},
		Templates: map[string]template.Template{
			"R-1": {Resident: "R-1", Facilities: []string{"park"}},
			"R-2": {Resident: "R-2", Facilities: []string{"park"}},
			"R-3": {Resident: "R-3", Facilities: []string{"park"}},
			"R-4": {Resident: "R-4", Facilities: []string{"hospital"}},
		},
	}
	// R-5 withdrew their consent: the profile still lists the card, but
	// no template of theirs names this facility any more.
	for _, tc := range []struct{ card, want string }{{"a", "R-1"}, {"b", ""}, {"c", ""}, {"d", ""}, {"e", ""}} {
		for range 20 { // map order varies from run to run; the answer must not
			if got := CardHolder(st, "park", tc.card); got != tc.want {
				t.Fatalf("card %s: %q, want %q", tc.card, got, tc.want)
			}
		}
	}
}
