package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/app/state"
	"smartpass.city/smartpass/app/synclog"
	"smartpass.city/smartpass/app/template"
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
	b.Logf("sessions opened: %d", strings.Count(p.Log(), "sync: device connected"))
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

// countingConn counts the bytes a device receives.
type countingConn struct {
	synclog.Conn
	n *atomic.Int64
}

func (c countingConn) Recv(ctx context.Context) ([]byte, error) {
	b, err := c.Conn.Recv(ctx)
	c.n.Add(int64(len(b)))
	return b, err
}

// BenchmarkBootstrap60kTemplates: the city desk has recorded 60,000
// templates for the play park; the figure is the time for a new
// play-park terminal to bootstrap all of them (the snapshot, then caught
// up) and the bytes it received, for templates of dlib's 128 and of
// MobileFaceNet's 512 float16 dimensions.
func BenchmarkBootstrap60kTemplates(b *testing.B) {
	for _, dims := range []int{128, 512} {
		b.Run(fmt.Sprintf("%ddims", dims), func(b *testing.B) { bootstrap(b, dims) })
	}
}

// bootstrap is BenchmarkBootstrap60kTemplates for templates of dims
// dimensions, on a server of its own.
func bootstrap(b *testing.B, dims int) {
	const templates, desks = 60000, 8
	p, _ := start(b)
	url := "ws://" + p.Addr + "/sync"
	ctx := context.Background()
	// Several desks, so the per-device rate limit does not pace the seed.
	var wg sync.WaitGroup
	for d := range desks {
		key := p.Enroll(b, fmt.Sprintf("desk-%d", d), "kaga-hq", string(scope.Registrar))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := seedTemplates(ctx, url, fmt.Sprintf("desk-%d", d), key, d, templates/desks, dims); err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
	if b.Failed() {
		return
	}
	feed := scope.TemplateFeed("kaga-playpark")
	var received atomic.Int64
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		name := fmt.Sprintf("park-%d", i)
		key := p.Enroll(b, name, "kaga-playpark", string(scope.PlayPark))
		store := synclog.NewMemStore(name)
		runCtx, cancel := context.WithCancel(ctx)
		e, err := synclog.New(runCtx, store, func(ctx context.Context) (synclog.Conn, error) {
			c, err := wsconn.Dial(ctx, url)
			if err != nil {
				return nil, err
			}
			return countingConn{c, &received}, nil
		}, synclog.Options{Signer: key})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		go e.Run(runCtx)
		for {
			if c, _ := store.Cursor(runCtx, feed); c != 0 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		b.StopTimer()
		cancel()
		ops, _ := store.All(ctx)
		if n := len(state.Fold(ops).Templates); n != templates {
			b.Fatalf("terminal holds %d templates, want %d", n, templates)
		}
		b.StartTimer()
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/bootstrap")
	b.ReportMetric(float64(received.Load())/float64(b.N)/(1<<20), "MiB/bootstrap")
	reportMemory(b, p)
}

// seedTemplates pushes n templates of dims dimensions for the play park
// as the registrar device.
func seedTemplates(ctx context.Context, url, device string, key syncproto.Signer, desk, n, dims int) error {
	vec := make([]float32, dims)
	ops := make([]syncproto.Op, n)
	for i := range ops {
		for j := range vec {
			vec[j] = float32((i*31+j*7+desk)%97) - 48
		}
		body, _ := json.Marshal(template.Template{Resident: fmt.Sprintf("r-%d-%06d", desk, i), Model: fmt.Sprintf("bench-%d", dims), Facilities: []string{"kaga-playpark"}, Vec: template.Pack(vec)})
		ops[i] = syncproto.Op{Seq: uint64(i + 1), HLC: uint64(i + 1), Kind: template.OpPut, Body: body}
	}
	return wsconn.PushAll(ctx, url, device, key, ops)
}
