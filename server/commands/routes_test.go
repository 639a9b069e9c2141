package commands_test

import (
	"slices"
	"testing"

	"smartpass.city/smartpass/server/audit"
	"smartpass.city/smartpass/server/commands"
	"smartpass.city/smartpass/server/devices"
	"smartpass.city/smartpass/server/oplog"
	"smartpass.city/smartpass/server/publish"
)

// TestRoutes: the owner's socket lists the running server's routes; a
// store opened offline has none, and a staff member's session from the
// browser may not ask.
func TestRoutes(t *testing.T) {
	l, err := oplog.Open(t.TempDir(), oplog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	w, err := publish.New(l)
	if err != nil {
		t.Fatal(err)
	}
	set := commands.New(l, w, devices.New(l, commands.FacilitiesOf(l)), nil, audit.New(l))
	if _, err := set.Do("routes", nil); err == nil {
		t.Fatal("routes on a store opened offline: answered, want refused (there is no server)")
	}
	table := []string{"GET /healthz", "POST /accounts/create"}
	set.Routes = func() []string { return table }
	for _, c := range []struct {
		name string
		set  commands.Set
		ok   bool
	}{
		{"the owner", *set, true},
		{"a staff member", set.ByStaff("officer"), false},
	} {
		reply, err := c.set.Do("routes", nil)
		if got := err == nil && slices.Equal(reply.Routes, table); got != c.ok {
			t.Errorf("%s: %+v, %v; want listed %t", c.name, reply, err, c.ok)
		}
	}
}
