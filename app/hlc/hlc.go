// Package hlc implements a hybrid logical clock: timestamps that follow wall
// time when clocks agree, and still order causally related events when a
// shelter tablet's clock is hours off.
//
// A timestamp packs milliseconds since the Unix epoch in the high 48 bits and
// a logical counter in the low 16 bits, so timestamps compare as plain
// unsigned integers and fit in one JSON number.
package hlc

import (
	"sync"
	"time"
)

const logicalBits = 16

// MaxSkew is how far ahead of the server's clock a device's timestamp
// may be. A tablet set to the wrong time zone is up to 14 hours ahead;
// beyond a day, a timestamp is a wrong date or a forgery, and stored it
// would win over every correction made until then, so the server
// refuses it (Limit).
const MaxSkew = 24 * time.Hour

// Limit returns the latest timestamp a server whose clock reads now
// accepts from a device.
func Limit(now time.Time) Timestamp {
	return Make(now.Add(MaxSkew).UnixMilli(), 1<<logicalBits-1)
}

// Timestamp is a hybrid logical clock reading.
type Timestamp = uint64

// Make builds a timestamp from wall milliseconds and a logical counter.
func Make(ms int64, logical uint16) Timestamp {
	return uint64(ms)<<logicalBits | uint64(logical)
}

// Wall returns the wall-clock part of ts.
func Wall(ts Timestamp) time.Time {
	return time.UnixMilli(int64(ts >> logicalBits))
}

// Clock issues timestamps that never go backwards, even if the wall clock
// does, and that stay after every timestamp it has observed.
// The zero value is not usable; call New.
type Clock struct {
	mu   sync.Mutex
	now  func() time.Time
	last Timestamp
}

// New returns a clock reading wall time from now (time.Now when nil),
// starting after last (a value restored from storage, or 0).
func New(now func() time.Time, last Timestamp) *Clock {
	if now == nil {
		now = time.Now
	}
	return &Clock{now: now, last: last}
}

// Now returns a timestamp for a local event, greater than every timestamp
// returned or observed before.
func (c *Clock) Now() Timestamp {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.advance(0)
}

// Observe moves the clock past a timestamp received from another device,
// so later local events order after what this device has seen.
func (c *Clock) Observe(remote Timestamp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.advance(remote)
}

// Last returns the latest timestamp issued or observed, for persisting.
func (c *Clock) Last() Timestamp {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

func (c *Clock) advance(remote Timestamp) Timestamp {
	wall := Make(c.now().UnixMilli(), 0)
	next := max(wall, c.last+1, remote+1)
	c.last = next
	return next
}
