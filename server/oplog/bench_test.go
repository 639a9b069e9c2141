package oplog

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"smartpass.city/smartpass/server/store/storetest"
	"smartpass.city/smartpass/syncproto"
)

// BenchmarkAppend measures durable ingest (SyncWrites on) with many
// devices pushing at once, which the writer group-commits. ops/s is the
// figure the README reports.
func BenchmarkAppend(b *testing.B) {
	for _, batch := range []int{1, 50} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			l, err := Open(b.TempDir(), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			var devices atomic.Int64
			b.SetParallelism(32) // 32 x GOMAXPROCS concurrent devices
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				dev := fmt.Sprintf("dev-%d", devices.Add(1))
				seq := uint64(0)
				ops := make([]syncproto.Op, batch)
				for pb.Next() {
					for i := range ops {
						seq++
						ops[i] = syncproto.Op{Seq: seq, HLC: seq, Kind: "shelter.evacuee.add", Body: []byte(`{"shelter":"s1","kana":"ヤマダ","birth_year":1950}`)}
					}
					if _, err := l.Append(context.Background(), dev, ops); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

// BenchmarkIngest is the store harness shared with pgstore (storetest.
// Ingest): 200 devices pushing batches straight to the store.
func BenchmarkIngest(b *testing.B) {
	for _, batch := range storetest.IngestBatches {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			l, err := Open(b.TempDir(), Options{Key: bytes.Repeat([]byte{7}, 32), Feeds: func(syncproto.Op) []string { return []string{"shelter.s1"} }})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			storetest.Ingest(b, l, storetest.IngestDevices, batch, nil)
		})
	}
}
