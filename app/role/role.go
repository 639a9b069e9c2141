// Package role names what an enrolled device does at its facility. It sits
// below every domain package, so that each op kind can declare the roles
// that record it (app/opkind) without importing the rules that judge a
// device (app/scope), which import the kinds.
package role

import "slices"

// Role is what a device does at its facility.
type Role string

// The roles. Each belongs to one facility kind (scope.RolesFor).
const (
	Shelter   Role = "shelter"   // a shelter's check-in tablet
	Reception Role = "reception" // a hospital's reception terminal
	PlayPark  Role = "playpark"  // a play park's entrance terminal
	HQ        Role = "hq"        // the disaster HQ's screens: every shelter, read only
	// Shop is a shop's payment terminal: it records payments from the
	// city wallet and the shop's refunds, on the identify screen's
	// checkout panel (app/ui/shop.go).
	Shop Role = "shop"
	// Registrar is the city office's enrollment desk, which records
	// residents' face templates for the facilities they consented to.
	Registrar Role = "registrar"
	// Vehicle is a bus's or shared taxi's tablet at a transit operator:
	// it records riders' boarding and alighting taps, on the identify
	// screen's vehicle panel (app/ui/vehicle.go, route /vehicle).
	Vehicle Role = "vehicle"
	// Counter is a donation counter's tablet at a roadside station or
	// souvenir shop (facility kind donation): it records hometown-tax
	// donations and the gifts handed over. (No screen yet: issue 23's
	// screens come with the app's refactoring.)
	Counter Role = "counter"
	// Audit reads the whole log (FeedAll), templates included: backup
	// checks and the tests' auditor, never a screen.
	Audit Role = "audit"
)

// screenRoles are the roles a tablet works in through a screen of the
// app. Only these are issued from the admin screen: a role without a
// screen (Audit, which pulls the whole log) is for the data directory's
// owner alone, at the command line.
var screenRoles = []Role{Shelter, Reception, PlayPark, HQ, Registrar, Shop, Vehicle, Counter}

// HasScreen reports whether r is a role a tablet works in through one of
// the app's screens, so that staff may hand out set-up codes for it.
func (r Role) HasScreen() bool { return slices.Contains(screenRoles, r) }
