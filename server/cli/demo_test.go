package cli

import (
	"errors"
	"log/slog"
	"testing"
)

// TestDemoRefusedWithoutTheDemo: a build without the demo (NewDemo nil,
// the production build) refuses -demo before it opens anything.
func TestDemoRefusedWithoutTheDemo(t *testing.T) {
	err := serve([]string{"-demo", "-data", t.TempDir()}, Build{Version: "test"}, slog.New(slog.DiscardHandler))
	if !errors.Is(err, ErrNoDemo) {
		t.Fatalf("-demo without the demo: %v, want %v", err, ErrNoDemo)
	}
}
