package pgtest

import (
	"fmt"
	"testing"
)

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

// recorder is a testing.TB that notes a failure or a skip instead of
// ending the test.
type recorder struct {
	testing.TB
	failed, skipped string
}

func (r *recorder) Helper()                      {}
func (r *recorder) Fatalf(f string, args ...any) { r.failed = fmt.Sprintf(f, args...) }
func (r *recorder) Skipf(f string, args ...any)  { r.skipped = fmt.Sprintf(f, args...) }

// TestNeedFailsInCI: without PostgreSQL a developer's run skips, CI's
// fails: the Postgres store is never left untested silently there.
func TestNeedFailsInCI(t *testing.T) {
	tests := []struct {
		name               string
		err                error
		ci                 string
		wantFail, wantSkip bool
	}{
		{"installed", nil, "true", false, false},
		{"missing on a developer's machine", ErrNoPostgres, "", false, true},
		{"missing in CI", ErrNoPostgres, "true", true, false},
	}
	for _, tt := range tests {
		r := &recorder{TB: t}
		got := need(r, "/bin", tt.err, tt.ci)
		if (r.failed != "") != tt.wantFail || (r.skipped != "") != tt.wantSkip {
			t.Errorf("%s: failed %q skipped %q, want fail %v skip %v", tt.name, r.failed, r.skipped, tt.wantFail, tt.wantSkip)
		}
		if tt.err == nil && got != "/bin" {
			t.Errorf("%s: bin %q", tt.name, got)
		}
	}
}
