// Package facilities reads the server's facility records. Facilities are
// ops in the log like any other, written by the server's one writer
// (package publish) under the reserved device id Device and served on the
// public feed, so a tablet that synced once knows every facility while
// offline. The server reads the current set back from that feed when it
// checks an enrollment code or a connecting device.
package facilities

import (
	"context"
	"fmt"
	"sync"

	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/state"
	"smartpass.city/smartpass/server/publish"
	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/syncproto"
)

// Device is the device id under which the server writes its own ops
// (publish.Device), which no enrolled device may take.
const Device = publish.Device

// SeedDemo writes the demo facilities into an empty log, with a writer of
// its own: for a log nobody else writes yet (a test's). The server seeds
// with its one publish.Writer.
func SeedDemo(ctx context.Context, log store.Store) error {
	w, err := publish.New(log)
	if err != nil {
		return err
	}
	return w.SeedDemo(ctx)
}

// Current returns the facilities as the log has them now, folded from the
// public feed by the same code the devices use.
func Current(log store.Store) (map[string]facility.Facility, error) {
	ops, err := public(log, 0)
	if err != nil {
		return nil, err
	}
	return state.Fold(ops).Facilities, nil
}

// public reads the public feed after the global number after: a few
// records per facility.
func public(log store.Store, after uint64) ([]syncproto.Op, error) {
	var ops []syncproto.Op
	for {
		batch, err := log.Since(scope.FeedPublic, after, 1024, 8<<20)
		if err != nil {
			return nil, fmt.Errorf("facilities: read: %w", err)
		}
		if len(batch) == 0 {
			return ops, nil
		}
		ops = append(ops, batch...)
		after = batch[len(batch)-1].Global
	}
}

// Cache is Current for a caller that asks often: every device's
// handshake looks its facility up, and in a reconnect surge thousands of
// tablets did so at once, each folding every facility's records again
// (three quarters of the server's CPU with 200 shelters). It keeps the
// public feed's ops and their fold, and reads only what the feed gained
// since, folding again only then.
type Cache struct {
	log store.Store

	mu      sync.Mutex
	ops     []syncproto.Op
	current map[string]facility.Facility
}

// NewCache returns a cache of log's facilities.
func NewCache(log store.Store) *Cache { return &Cache{log: log} }

// Current returns the facilities as the log has them now. The map is
// shared by every caller until the feed changes: read it, never change it.
func (c *Cache) Current() (map[string]facility.Facility, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	after := uint64(0)
	if n := len(c.ops); n > 0 {
		after = c.ops[n-1].Global
	}
	more, err := public(c.log, after)
	if err != nil {
		return nil, err
	}
	if c.current == nil || len(more) > 0 {
		c.ops = append(c.ops, more...)
		c.current = state.Fold(c.ops).Facilities
	}
	return c.current, nil
}
