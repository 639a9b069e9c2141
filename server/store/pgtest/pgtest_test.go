package pgtest

import "testing"

// TestStartKillRestart: a cluster answers on its socket, comes back after
// a SIGKILL, and is gone after Stop.
func TestStartKillRestart(t *testing.T) {
	c := Start(t)
	query := func() (string, error) { return c.SQL("show fsync") }
	steps := []struct {
		name   string
		action func() error
		wantOK bool
	}{
		{"started", func() error { return nil }, true},
		{"killed", c.Kill, false},
		{"restarted", c.Start, true},
		{"stopped", c.Stop, false},
	}
	for _, st := range steps {
		if err := st.action(); err != nil {
			t.Fatalf("%s: %v\n%s", st.name, err, c.Log())
		}
		got, err := query()
		if ok := err == nil && got == "on"; ok != st.wantOK {
			t.Fatalf("%s: query answered %q (%v), want answering with fsync on: %v", st.name, got, err, st.wantOK)
		}
	}
}
