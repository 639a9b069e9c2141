// Package security holds the attacks: each test performs one attack a
// security review found (or one we know of) against a real server process
// over loopback, and fails if the attack works. The package has no code of
// its own beyond the harness; the fixes live where the attacked code does.
//
// Every test names the finding it performs (issue 16's numbering) and says
// in its comment whether it failed on the code before the fix.
package security
