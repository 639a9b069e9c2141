package pgstore

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/server/store/pgtest"
	"smartpass.city/smartpass/server/store/storetest"
	"smartpass.city/smartpass/syncproto"
)

// TestFailoverKeepsEveryAcknowledgedOp: devices push to a primary with a
// synchronous standby; the primary is SIGKILLed mid-run and the standby
// promoted. The promoted store holds every acknowledged op once, in a
// gapless global sequence; each device's mark is at least what it was
// acknowledged, and its resend of the rest is taken once.
func TestFailoverKeepsEveryAcknowledgedOp(t *testing.T) {
	primary := pgtest.Start(t)
	standby := primary.StartStandby(t)
	key := testKey(t)
	opt := Options{Tenant: "kaga", Key: key, Feeds: func(op syncproto.Op) []string { return []string{fmt.Sprintf("f%d", op.Seq%3)} }}
	s := openTenant(t, primary.URL("postgres"), opt)

	const devices = 40
	acked := make([]uint64, devices) // what each device was acknowledged
	sent := make([]uint64, devices)  // the highest seq each device sent
	var wg sync.WaitGroup
	for d := range devices {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := uint64(1 + d%5)
				var seqs []uint64
				for i := range n {
					seqs = append(seqs, sent[d]+i+1)
				}
				sent[d] += n
				mark, _, err := s.AppendNew(context.Background(), fmt.Sprintf("dev-%d", d), storetest.Ops(seqs...))
				if err != nil {
					return // the primary is gone
				}
				if mark != sent[d] {
					t.Errorf("dev-%d: acked %d after sending up to %d", d, mark, sent[d])
					return
				}
				acked[d] = mark
			}
		}()
	}
	// A reader pulls as a device would, up to the durable head: no op it
	// was served may be another op after the failover.
	served := map[uint64]string{}
	reading, stopReading := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(reading)
		after := uint64(0)
		for {
			ops, err := s.Since(store.FeedAll, after, 500, 1<<20)
			if err != nil {
				return
			}
			select {
			case <-stopReading:
				return
			default:
			}
			for _, op := range ops {
				served[op.Global] = fmt.Sprintf("%s/%d", op.Device, op.Seq)
				after = op.Global
			}
			if len(ops) == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	time.Sleep(1500 * time.Millisecond)
	if err := primary.Kill(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(stopReading)
	<-reading
	s.Close()
	if err := standby.Promote(); err != nil {
		t.Fatal(err)
	}
	p := openTenant(t, standby.URL("postgres"), opt)

	check := func(when string, want func(d int) (min, max uint64)) {
		t.Helper()
		total := uint64(0)
		for d := range devices {
			m, err := p.Mark(fmt.Sprintf("dev-%d", d))
			if err != nil {
				t.Fatal(err)
			}
			if lo, hi := want(d); m < lo || m > hi {
				t.Fatalf("%s: dev-%d's mark is %d, want %d..%d: an acknowledged op was lost", when, d, m, lo, hi)
			}
			total += m
		}
		all, err := p.Since(store.FeedAll, 0, 1<<30, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for i, op := range all {
			k := fmt.Sprintf("%s/%d", op.Device, op.Seq)
			if was, ok := served[op.Global]; ok && was != k {
				t.Fatalf("%s: global %d was served as %s and is now %s", when, op.Global, was, k)
			}
			if op.Global != uint64(i+1) || seen[k] {
				t.Fatalf("%s: op %d is %s at global %d: a gap or a double", when, i+1, k, op.Global)
			}
			seen[k] = true
		}
		if uint64(len(all)) != total || p.Head() != total {
			t.Fatalf("%s: %d ops, head %d, marks sum to %d", when, len(all), p.Head(), total)
		}
	}
	n := uint64(0)
	for d := range devices {
		n += acked[d]
	}
	if n == 0 {
		t.Fatal("nothing was acknowledged before the kill")
	}
	check("after the failover", func(d int) (uint64, uint64) { return acked[d], sent[d] })
	// Each device resends everything it was not acknowledged.
	for d := range devices {
		var seqs []uint64
		for q := acked[d] + 1; q <= sent[d]; q++ {
			seqs = append(seqs, q)
		}
		if len(seqs) == 0 {
			continue
		}
		if mark, _, err := p.AppendNew(context.Background(), fmt.Sprintf("dev-%d", d), storetest.Ops(seqs...)); err != nil || mark != sent[d] {
			t.Fatalf("dev-%d's resend: mark %d err %v, want %d", d, mark, err, sent[d])
		}
	}
	check("after the resends", func(d int) (uint64, uint64) { return sent[d], sent[d] })
	if len(served) == 0 {
		t.Fatal("the reader was served nothing before the kill")
	}
	t.Logf("%d ops acknowledged and %d served before the primary was killed; none lost or renumbered", n, len(served))
}
