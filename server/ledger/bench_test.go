package ledger

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"smartpass.city/smartpass/app/wallet"
	"smartpass.city/smartpass/syncproto"
)

// BenchmarkPost measures payments posted per second with durable commits:
// many terminals push at once through oplog.AppendBatch on Badger in a
// temporary folder (SyncWrites on), each push's ops and their postings in
// the writer's group commit. postings/s is the figure the README reports.
func BenchmarkPost(b *testing.B) {
	for _, batch := range []int{1, 20} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			l := open(b)
			led := New(l, Config{})
			var terminals atomic.Int64
			b.SetParallelism(16) // 16 x GOMAXPROCS terminals at once
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				n := terminals.Add(1)
				dev := fmt.Sprintf("till-%d", n)
				seq := uint64(0)
				ops := make([]syncproto.Op, batch)
				for pb.Next() {
					for i := range ops {
						seq++
						ops[i] = op(dev, seq, wallet.OpPayment, wallet.Payment{Facility: "shop-a", Resident: fmt.Sprintf("r%d-%d", n, seq%50), Amount: 800, Offline: true}, time.Now())
					}
					if _, _, err := l.AppendBatch(context.Background(), dev, ops, led.Records(dev, ops)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			r, err := Verify(l)
			if err != nil || r.Entries != b.N*batch {
				b.Fatalf("%d entries for %d payments: %v", r.Entries, b.N*batch, err)
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "postings/s")
		})
	}
}
