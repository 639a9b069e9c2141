// Package numbergrant holds the capability to read the individual number
// from the card: a Grant, which only the packages under app/card can
// make (Go's internal rule), and of those only the one-stop flow does
// (a house rule). The card's firewall opens the number's file for a
// caller that shows a valid Grant, and for nobody else.
package numbergrant

// Grant is the capability. Its zero value grants nothing, so a Grant
// made without New (by reflection, say) opens nothing.
type Grant struct{ valid bool }

// New makes a Grant.
func New() Grant { return Grant{valid: true} }

// Valid reports whether g was made by New.
func (g Grant) Valid() bool { return g.valid }
