package hlc

import (
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	wall := time.UnixMilli(1_700_000_000_000)
	c := New(func() time.Time { return wall }, 0)

	a := c.Now()
	b := c.Now()
	if b <= a {
		t.Fatalf("second reading %d not after first %d with a frozen wall clock", b, a)
	}
	if got := Wall(a); !got.Equal(wall) {
		t.Fatalf("Wall(a) = %v, want %v", got, wall)
	}

	// The wall clock jumps back an hour: readings still grow.
	wall = wall.Add(-time.Hour)
	if d := c.Now(); d <= b {
		t.Fatalf("reading after clock went back: %d, not after %d", d, b)
	}

	// A device whose clock is three hours ahead sent an op: our next local
	// op orders after it.
	remote := Make(wall.Add(3*time.Hour).UnixMilli(), 7)
	c.Observe(remote)
	if e := c.Now(); e <= remote {
		t.Fatalf("reading after Observe = %d, not after remote %d", e, remote)
	}
	if c.Last() <= remote {
		t.Fatalf("Last = %d, want > %d", c.Last(), remote)
	}
}

func TestNewResumesAfterLast(t *testing.T) {
	last := Make(time.Now().Add(time.Hour).UnixMilli(), 3)
	c := New(nil, last)
	if got := c.Now(); got <= last {
		t.Fatalf("Now = %d after restoring %d", got, last)
	}
}
