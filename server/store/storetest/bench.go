package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/syncproto"
)

// IngestDevices is how many devices the ingest benchmark runs: the
// issue's 200 tablets pushing at once.
const IngestDevices = 200

// Ingest measures acknowledged ops per second into s from devices
// goroutines, each a device pushing batches of batch ops directly to the
// store and waiting for each acknowledgement: the store's capacity, with
// no sync sessions or client engines on the same cores. b.N counts
// batches. It reports ops/s and the CPU seconds per 1,000 ops of the
// benchmark process plus, when engineCPU is not nil, the engine's own
// processes (PostgreSQL's), so both engines are charged all their work.
func Ingest(b *testing.B, s store.Store, devices, batch int, engineCPU func() float64) {
	if engineCPU == nil {
		engineCPU = func() float64 { return 0 }
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	body := []byte(`{"shelter":"s1","kana":"ヤマダ","birth_year":1950}`)
	start := cpuSeconds() + engineCPU()
	b.ResetTimer()
	began := time.Now()
	for d := range devices {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dev := fmt.Sprintf("bench-%d", d)
			seq := uint64(0)
			ops := make([]syncproto.Op, batch)
			for next.Add(1) <= int64(b.N) {
				for i := range ops {
					seq++
					ops[i] = syncproto.Op{Seq: seq, HLC: seq, Kind: "shelter.evacuee.add", Body: body}
				}
				mark, _, err := s.AppendNew(context.Background(), dev, ops)
				if err != nil {
					b.Error(err)
					return
				}
				if mark != seq {
					b.Errorf("%s: acked %d, want %d", dev, mark, seq)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(began)
	b.StopTimer()
	ops := float64(b.N * batch)
	b.ReportMetric(ops/elapsed.Seconds(), "ops/s")
	b.ReportMetric((cpuSeconds()+engineCPU()-start)/ops*1000, "cpu-s/kop")
}

// cpuSeconds is the process's user and system CPU time so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// IngestBatches are the batch sizes the ingest benchmark runs: one op per
// push (a tablet checking in one person) to a tablet's backlog.
var IngestBatches = []int{1, 10, 50}
