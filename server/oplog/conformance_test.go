package oplog

import (
	"testing"

	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/server/store/storetest"
)

// TestConformance runs the store seam's suite against the Badger log.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, cfg storetest.Config) store.Store {
		l, err := Open(t.TempDir(), Options{Feeds: cfg.Feeds, Erasure: cfg.Erasure})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l
	})
}
