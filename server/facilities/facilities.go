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
	ops, err := public(log)
	if err != nil {
		return nil, err
	}
	return state.Fold(ops).Facilities, nil
}

// public reads the whole public feed: a few records per facility.
func public(log store.Store) ([]syncproto.Op, error) {
	var ops []syncproto.Op
	for after := uint64(0); ; {
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
