package procstat

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestFields(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, stat string
		own, all   float64
		err        bool
	}{
		{"plain", "42 (server) S 1 42 42 0 -1 0 0 0 0 0 150 50 30 20 20 0 1 0", 2, 2.5, false},
		{"name with spaces and parentheses", "7 (a b) c)) R 1 7 7 0 -1 0 0 0 0 0 1 2 3 4 20 0 1 0", 0.03, 0.1, false},
		{"truncated", "7 (x) R 1 7", 0, 0, true},
		{"no name", "garbage", 0, 0, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, string(rune('a'+i)))
			os.WriteFile(p, []byte(tt.stat), 0o600)
			f, err := Fields(p)
			if (err != nil) != tt.err {
				t.Fatalf("err %v, want error %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if got := CPUSeconds(f, false); got != tt.own {
				t.Errorf("own CPU %v, want %v", got, tt.own)
			}
			if got := CPUSeconds(f, true); got != tt.all {
				t.Errorf("with reaped children %v, want %v", got, tt.all)
			}
		})
	}
}

// The test's own process has used CPU, has a peak RSS, and the machine a
// load average. The kernel counts CPU in ticks of 10 ms, and a test
// binary may start in less: the test works until its count moves (a loop
// whose result is kept, so the compiler cannot drop it), for at most 5 s.
func TestSelf(t *testing.T) {
	var s float64
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		for i := range 5_000_000 {
			sink ^= i
		}
		if s, err = CPU(os.Getpid()); err != nil || s > 0 {
			break
		}
	}
	if err != nil || s <= 0 {
		t.Fatalf("CPU %v, %v after 5 s of work", s, err)
	}
	if r, err := PeakRSS(os.Getpid()); err != nil || r < 1<<20 {
		t.Fatalf("peak RSS %d, %v", r, err)
	}
	if _, err := Load1(); err != nil {
		t.Fatal(err)
	}
}

// sink keeps TestSelf's loop from being optimised away.
var sink int
