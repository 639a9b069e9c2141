// Package loadtest measures the sync server as a separate process under
// the loads of a city: hundreds of devices pushing at once over real
// websockets on loopback, and a tablet coming back after days offline.
// Run with `make bench`; the figures go in the README.
package loadtest
