// Package security holds the attacks: each test performs one attack a
// security review found (or one we know of) against a real server process
// over loopback, and fails if the attack works. The package has no code of
// its own beyond the harness; the fixes live where the attacked code does.
//
// Every test names the finding it performs (issue 16's numbering, or
// issue 19's review for the wallet, hometown-tax and hospital endpoints)
// and says in its comment whether it failed on the code before the fix.
// The table in findings_test.go lists every known attack with the test
// that performs it, here or in process in the attacked package; a test
// keeps the table true. TestEveryPostIsGuarded walks the running
// server's route table, so an endpoint added without the guard or its
// authentication fails it.
package security
