package security

import (
	"testing"

	"smartpass.city/smartpass/server/serverproc"
)

// serverBin is the server binary every attack runs against, built once.
var serverBin string

func TestMain(m *testing.M) { serverproc.RunTests(m, &serverBin) }
