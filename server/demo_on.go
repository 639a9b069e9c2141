//go:build demo

package main

import (
	"log/slog"

	"smartpass.city/smartpass/server/cli"
	"smartpass.city/smartpass/server/demo"
	"smartpass.city/smartpass/server/store"
)

// A build tagged demo links the demo: a simulated card reader and cards.
func init() {
	newDemo = func(log store.Store, logger *slog.Logger) (cli.Demo, error) { return demo.New(log, logger) }
}
