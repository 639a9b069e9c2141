package loadtest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/app/synclog"
	"smartpass.city/smartpass/server/serverproc"
	"smartpass.city/smartpass/syncproto"
	"smartpass.city/smartpass/syncproto/wsconn"
)

var serverBin string

func TestMain(m *testing.M) { serverproc.RunTests(m, &serverBin) }

func start(b *testing.B) (*serverproc.Proc, synclog.Dialer) {
	b.Helper()
	addr := serverproc.FreeAddr(b)
	dir := b.TempDir()
	p := serverproc.Start(b, serverBin, []string{"GOMEMLIMIT=150MiB"}, addr, "-data", dir, "-assets", dir, "-dev", "-demo")
	p.WaitHealthy(b)
	url := "ws://" + addr + "/sync"
	return p, func(ctx context.Context) (synclog.Conn, error) { return wsconn.Dial(ctx, url) }
}

// engine enrolls a shelter tablet named name and returns its engine.
func engine(b *testing.B, ctx context.Context, p *serverproc.Proc, name string, dial synclog.Dialer) (*synclog.Engine, *synclog.MemStore) {
	key := p.Enroll(b, name, body.Shelter, string(scope.Shelter))
	store := synclog.NewMemStore(name)
	e, err := synclog.New(ctx, store, dial, synclog.Options{Signer: key, MinBackoff: 10 * time.Millisecond, MaxBackoff: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	return e, store
}

var body = shelter.Evacuee{Shelter: "shelter-daishoji", Name: "山田 太郎", Kana: "ヤマダ　タロウ", BirthYear: 1950}

func reportMemory(b *testing.B, p *serverproc.Proc) {
	rss, err := p.PeakRSS()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(rss)/(1<<20), "server-peak-MiB")
}

// BenchmarkIngest200Devices: 200 devices connected at once, each recording
// check-ins as fast as it can; the figure is ops acknowledged per second,
// durable on the server. All devices are at one shelter, so every device
// also receives every op on its feed.
func BenchmarkIngest200Devices(b *testing.B) {
	const devices = 200
	p, dial := start(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	engines := make([]*synclog.Engine, devices)
	for i := range engines {
		engines[i], _ = engine(b, ctx, p, fmt.Sprintf("bench-%d", i), dial)
		go engines[i].Run(ctx)
	}
	for _, e := range engines {
		for !e.Status().Online {
			time.Sleep(time.Millisecond)
		}
	}
	perDevice := max(1, b.N/devices)
	b.ResetTimer()
	var wg sync.WaitGroup
	for _, e := range engines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perDevice {
				if _, err := e.Record(ctx, shelter.OpEvacueeAdd, body); err != nil {
					b.Error(err)
					return
				}
			}
			for e.Status().Pending > 0 {
				time.Sleep(time.Millisecond)
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(perDevice*devices)/b.Elapsed().Seconds(), "ops/s")
	reportMemory(b, p)
}

// BenchmarkConverge10kOffline: a tablet recorded 10,000 check-ins offline;
// the figure is the time from reconnecting until the server acknowledged
// all of them and the tablet pulled them back with their global numbers.
func BenchmarkConverge10kOffline(b *testing.B) {
	const offline = 10000
	p, dial := start(b)
	b.StopTimer()
	for i := range b.N {
		ctx, cancel := context.WithCancel(context.Background())
		e, store := engine(b, ctx, p, fmt.Sprintf("offline-%d", i), dial)
		for range offline {
			if _, err := e.Record(ctx, shelter.OpEvacueeAdd, body); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		go e.Run(ctx)
		for {
			if e.Status().Pending == 0 {
				if ops, _ := store.All(ctx); confirmed(ops) >= offline {
					break
				}
			}
			time.Sleep(time.Millisecond)
		}
		b.StopTimer()
		cancel()
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/converge")
	reportMemory(b, p)
}

// confirmed counts the ops the server has numbered.
func confirmed(ops []syncproto.Op) int {
	n := 0
	for _, op := range ops {
		if op.Global != 0 {
			n++
		}
	}
	return n
}
