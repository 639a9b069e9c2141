// Command server is the Smart Pass server: it serves the PWA, the sync
// websocket that every tablet and phone talks to, and keeps the op log in
// an embedded Badger store. Its commands and flags are package cli's.
//
// The production build does not link the demo (the simulated card reader
// and its card simulator): build with -tags demo for a server that takes
// -demo (make run, the tests' server builds).
package main

import (
	"log/slog"
	"os"

	"smartpass.city/smartpass/server/cli"
	"smartpass.city/smartpass/server/store"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// newDemo makes the demo's parts in a build tagged demo (demo_on.go);
// nil otherwise.
var newDemo func(log store.Store, logger *slog.Logger) (cli.Demo, error)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.Build{Version: version, NewDemo: newDemo}))
}
