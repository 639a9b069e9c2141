// Package property holds the city wallet's property test: thousands of
// random top-ups, payments (online and offline), refunds and refunds too
// large, recorded by a city desk and several shop terminals whose sync
// suffers the chaos harness's faults (dropped connections, duplicated,
// reordered and delayed frames), against the real server binary on a real
// Badger directory, SIGKILLed and restarted mid-run. It then checks the
// books against what the server holds: no yen created or lost, every op
// posted once, and `ledger-verify` clean.
//
// SMARTPASS_LEDGER_OPS sets the ops of a round (default 2,400),
// SMARTPASS_LEDGER_ROUNDS the rounds (default 1; make soak runs more),
// SMARTPASS_LEDGER_SEED the first seed.
package property
