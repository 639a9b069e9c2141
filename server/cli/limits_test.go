package cli

import (
	"testing"
	"time"
)

// TestParseLimits: the test variable sets the limits it names and
// refuses what it cannot mean.
func TestParseLimits(t *testing.T) {
	l, err := parseLimits(defaultLimits, "header=1s, read=2s,hello=3s,preauth=7,code-refill=500ms")
	if err != nil {
		t.Fatal(err)
	}
	want := defaultLimits
	want.header, want.read, want.hello, want.preAuth, want.codeRefill = time.Second, 2*time.Second, 3*time.Second, 7, 500*time.Millisecond
	if l != want {
		t.Fatalf("got %+v, want %+v", l, want)
	}
	if l, err := parseLimits(defaultLimits, ""); err != nil || l != defaultLimits {
		t.Fatalf("empty: %+v, %v", l, err)
	}
	for _, bad := range []string{"read=0s", "read=-1s", "read=soon", "preauth=0", "preauth=x", "nap=1s", "read"} {
		if _, err := parseLimits(defaultLimits, bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
