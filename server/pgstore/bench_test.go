package pgstore

import (
	"fmt"
	"testing"

	"smartpass.city/smartpass/server/store/pgtest"
	"smartpass.city/smartpass/server/store/storetest"
	"smartpass.city/smartpass/syncproto"
)

// BenchmarkIngest is oplog's BenchmarkIngest on PostgreSQL (one
// throwaway cluster, fsync on, a new tenant per run): 200 devices pushing
// batches straight to the store.
func BenchmarkIngest(b *testing.B) {
	c := pgtest.Start(b)
	ingest(b, c, c.CPUSeconds)
}

// BenchmarkIngestStandby is BenchmarkIngest with a synchronous standby:
// every commit waits until the standby has flushed it.
func BenchmarkIngestStandby(b *testing.B) {
	c := pgtest.Start(b)
	standby := c.StartStandby(b)
	ingest(b, c, func() float64 { return c.CPUSeconds() + standby.CPUSeconds() })
}

// ingest runs the shared harness on c, charging it engineCPU.
func ingest(b *testing.B, c *pgtest.Cluster, engineCPU func() float64) {
	for _, batch := range storetest.IngestBatches {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s := openTenant(b, c.URL("postgres"), Options{Feeds: func(syncproto.Op) []string { return []string{"shelter.s1"} }, MaxConns: 8})
			storetest.Ingest(b, s, storetest.IngestDevices, batch, engineCPU)
			s.Close()
		})
	}
}

// BenchmarkEraseInABigFeed is oplog's on PostgreSQL: one erasure in a
// feed of 20,000 other records' ops (storetest.EraseInABigFeed).
func BenchmarkEraseInABigFeed(b *testing.B) {
	c := pgtest.Start(b)
	cfg := storetest.RecConfig()
	s := openTenant(b, c.URL("postgres"), Options{Feeds: cfg.Feeds, Erasure: cfg.Erasure})
	storetest.EraseInABigFeed(b, s)
}
