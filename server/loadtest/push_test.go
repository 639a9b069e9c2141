package loadtest

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/server/procstat"
	"smartpass.city/smartpass/server/serverproc"
	"smartpass.city/smartpass/server/store/pgtest"
	"smartpass.city/smartpass/syncproto"
	"smartpass.city/smartpass/syncproto/wsconn"
)

// tablet is a device that only pushes: a raw sync session (handshake,
// push frames, acks), none of an engine's pulling and folding, so the
// benchmark process spends little of the shared cores on its clients.
type tablet struct {
	id      string
	shelter string
	key     syncproto.Signer
	body    []byte // one check-in at its shelter
}

// backend is a store the server runs on, for the benchmarks that
// compare them.
type backend struct {
	name string
	// start runs a server on the store, with the demo facilities; the
	// database (when there is one) is returned too, for its CPU time.
	start func(b *testing.B) (*serverproc.Proc, *pgtest.Cluster)
}

var backends = []backend{
	{"badger", func(b *testing.B) (*serverproc.Proc, *pgtest.Cluster) { return startOn(b, nil), nil }},
	{"postgres", func(b *testing.B) (*serverproc.Proc, *pgtest.Cluster) {
		c := pgtest.Start(b)
		return startOn(b, c), c
	}},
	// Every commit waits until the standby has flushed its WAL.
	{"postgres-standby", func(b *testing.B) (*serverproc.Proc, *pgtest.Cluster) {
		c := pgtest.Start(b)
		c.StartStandby(b)
		return startOn(b, c), c
	}},
}

// serverHeap is the Go heap limit of the servers these benchmarks push
// to, what the README advises for a server taking a city's pushes. Under a
// stream of pushes Badger's table builders, which live on the Go heap in a
// build without jemalloc, keep about 300 MiB of buffers: with 150 or 256
// MiB the collector ran without pause and halved the rate (36,000 and
// 40,000 ops/s over 1,000,000 ops), and the server's peak was 393 MiB
// either way; with 512 MiB, about 70,000 and a peak of 570 MiB.
const serverHeap = "512MiB"

// startOn starts a server with the demo, on Badger in a temporary
// directory or, given c, on the tenant kaga of c's cluster. Its Go heap
// is held to serverHeap; SMARTPASS_BENCH_GOMEMLIMIT overrides it ("off":
// none).
func startOn(b *testing.B, c *pgtest.Cluster) *serverproc.Proc {
	b.Helper()
	addr := serverproc.FreeAddr(b)
	dir := b.TempDir()
	args := []string{"-data", filepath.Join(dir, "data"), "-assets", dir, "-dev", "-demo"}
	if c != nil {
		args = append(args, "-store", c.URL("postgres"), "-tenant", "kaga", "-key-file", filepath.Join(dir, "store.key"))
	}
	p := serverproc.Start(b, serverBin, []string{"GOMEMLIMIT=" + cmp.Or(os.Getenv("SMARTPASS_BENCH_GOMEMLIMIT"), serverHeap)}, addr, args...)
	p.WaitHealthy(b)
	return p
}

// enrollShelters adds shelters shelter-bench-0.. and enrolls perShelter
// tablets at each, several at a time (as many city staff would set up a
// prefecture's tablets), and returns them.
func enrollShelters(b *testing.B, p *serverproc.Proc, shelters, perShelter int) []tablet {
	b.Helper()
	tablets := make([]tablet, shelters*perShelter)
	for s := range shelters {
		id := fmt.Sprintf("shelter-bench-%d", s)
		p.Facility(b, facility.Facility{ID: id, Kind: facility.Shelter, NameJA: fmt.Sprintf("ベンチ避難所 %d", s), Capacity: 500})
		body, err := json.Marshal(shelter.Evacuee{Shelter: id, Name: "山田 太郎", Kana: "ヤマダ　タロウ", BirthYear: 1950})
		if err != nil {
			b.Fatal(err)
		}
		for i := range perShelter {
			tablets[s*perShelter+i] = tablet{id: fmt.Sprintf("tab-%d-%d", s, i), shelter: id, body: body}
		}
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				tablets[i].key = p.Enroll(b, tablets[i].id, tablets[i].shelter, string(scope.Shelter))
			}
		}()
	}
	for i := range tablets {
		next <- i
	}
	close(next)
	wg.Wait()
	return tablets
}

// session is an open sync session of a tablet.
type session struct {
	t    *tablet
	c    *wsconn.Conn
	next uint64 // the seq of the tablet's next op
}

// errBusy is a session refused before it began (the server's cap on
// sessions not yet authenticated): the tablet tries again.
var errBusy = errors.New("server busy")

// open dials url and authenticates as the tablet.
func (t *tablet) open(ctx context.Context, url string) (*session, error) {
	c, err := wsconn.Dial(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBusy, err)
	}
	w, err := syncproto.Handshake(ctx, c, t.id, "loadtest", t.key)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("handshake %s: %w", t.id, err)
	}
	return &session{t: t, c: c, next: w.Acked + 1}, nil
}

// openRetrying opens a session, trying again after a jittered pause
// while the server turns sessions away, as a tablet's engine does; it
// returns how many times it was turned away.
func (t *tablet) openRetrying(ctx context.Context, url string) (*session, int, error) {
	pause := 20 * time.Millisecond
	for tries := 0; ; tries++ {
		s, err := t.open(ctx, url)
		if err == nil || !errors.Is(err, errBusy) || ctx.Err() != nil {
			return s, tries, err
		}
		time.Sleep(pause/2 + rand.N(pause))
		pause = min(2*pause, time.Second)
	}
}

// push sends n check-ins in frames of batch ops, keeping up to window
// frames unacknowledged, and returns once the server acknowledged all.
func (s *session) push(ctx context.Context, n, batch, window int) error {
	last := s.next + uint64(n) - 1
	hlc := uint64(time.Now().UnixMilli()) << 16
	send := func() error {
		k := min(uint64(batch), last-s.next+1)
		ops := make([]syncproto.Op, k)
		for i := range ops {
			seq := s.next + uint64(i)
			ops[i] = syncproto.Op{Seq: seq, HLC: hlc + seq, Kind: shelter.OpEvacueeAdd, Body: s.t.body}
		}
		b, err := syncproto.Encode(&syncproto.Push{Ops: ops})
		if err != nil {
			return err
		}
		s.next += k
		return s.c.Send(ctx, b)
	}
	inflight := 0
	for ; inflight < window && s.next <= last; inflight++ {
		if err := send(); err != nil {
			return err
		}
	}
	for acked := uint64(0); acked < last; {
		raw, err := s.c.Recv(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", s.t.id, err)
		}
		f, err := syncproto.Decode(raw)
		if err != nil {
			return err
		}
		switch f := f.(type) {
		case *syncproto.Ack:
			acked = max(acked, f.Acked)
			// Each push is answered by one ack; send the next batch.
			if s.next <= last {
				if err := send(); err != nil {
					return err
				}
			}
		case *syncproto.Error:
			return fmt.Errorf("%s: %w", s.t.id, f)
		}
	}
	return nil
}

// meter reads the server's (and its database's) CPU time around a
// measured stretch, and reports it per 1,000 ops with the load average.
type meter struct {
	p          *serverproc.Proc
	c          *pgtest.Cluster
	cpu, dbCPU float64
}

func startMeter(b *testing.B, p *serverproc.Proc, c *pgtest.Cluster) *meter {
	m := &meter{p: p, c: c}
	var err error
	if m.cpu, err = p.CPUSeconds(); err != nil {
		b.Fatal(err)
	}
	if c != nil {
		m.dbCPU = c.CPUSeconds()
	}
	return m
}

func (m *meter) report(b *testing.B, ops int) {
	cpu, err := m.p.CPUSeconds()
	if err != nil {
		b.Fatal(err)
	}
	kops := float64(ops) / 1000
	b.ReportMetric((cpu-m.cpu)/kops, "server-cpu-s/kop")
	if m.c != nil {
		b.ReportMetric((m.c.CPUSeconds()-m.dbCPU)/kops, "db-cpu-s/kop")
	}
	if l, err := procstat.Load1(); err == nil {
		b.ReportMetric(l, "load1")
	}
	// The server's peak memory since it started (its store's caches
	// and memtables most of it), beside the heap limit it ran under.
	if rss, err := m.p.PeakRSS(); err == nil {
		b.ReportMetric(float64(rss)/(1<<20), "server-peak-MiB")
	}
}

// BenchmarkPush200Devices: 200 tablets, 10 at each of 20 shelters, push
// check-ins as fast as the server acknowledges them (frames of 256 ops,
// two unacknowledged at a time), over raw sessions that only push; the
// server runs as its own process, on Badger, on PostgreSQL, and on
// PostgreSQL with a synchronous standby. The figures: acknowledged ops
// per second, and the server's CPU seconds per 1,000 ops (and the
// database's), which do not depend on how busy the benchmark's clients
// keep the shared cores. make bench pushes 1,000,000 ops: past Badger's
// first memtable flushes and compactions, which the first 200,000 do not
// reach, and which cost it a third of its rate.
func BenchmarkPush200Devices(b *testing.B) {
	const shelters, perShelter = 20, 10
	for _, be := range backends {
		p, c := be.start(b)
		tablets := enrollShelters(b, p, shelters, perShelter)
		url := "ws://" + p.Addr + "/sync"
		b.Run(be.name, func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			sessions := make([]*session, len(tablets))
			for i := range tablets {
				s, _, err := tablets[i].openRetrying(ctx, url)
				if err != nil {
					b.Fatal(err)
				}
				defer s.c.Close()
				sessions[i] = s
			}
			perTablet := max(1, b.N/len(tablets))
			m := startMeter(b, p, c)
			b.ResetTimer()
			var wg sync.WaitGroup
			for _, s := range sessions {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := s.push(ctx, perTablet, syncproto.MaxOpsPerPush, 2); err != nil {
						b.Error(err)
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			ops := perTablet * len(tablets)
			b.ReportMetric(float64(ops)/b.Elapsed().Seconds(), "ops/s")
			m.report(b, ops)
		})
		p.Stop(b)
		if c != nil {
			c.Stop()
		}
	}
}

// BenchmarkReconnectSurge2000: after an outage, 2,000 tablets (10 at
// each of 200 shelters), each holding 50 check-ins recorded offline,
// reconnect at the same moment; each opens a session (turned away and
// retrying while the server is busy authenticating others), pushes its
// ops in one frame and waits for the ack. The figures, for each store
// (Badger, PostgreSQL, PostgreSQL with a synchronous standby): the time
// until every op is acknowledged, the server's peak memory, and its CPU
// (and the database's).
func BenchmarkReconnectSurge2000(b *testing.B) {
	const shelters, perShelter, offline = 200, 10, 50
	for _, be := range backends {
		p, c := be.start(b)
		tablets := enrollShelters(b, p, shelters, perShelter)
		url := "ws://" + p.Addr + "/sync"
		b.Run(be.name, func(b *testing.B) {
			var turnedAway atomic.Int64
			for range b.N {
				m := startMeter(b, p, c)
				start := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				var wg sync.WaitGroup
				for i := range tablets {
					wg.Add(1)
					go func() {
						defer wg.Done()
						s, tries, err := tablets[i].openRetrying(ctx, url)
						turnedAway.Add(int64(tries))
						if err != nil {
							b.Error(err)
							return
						}
						defer s.c.Close()
						if err := s.push(ctx, offline, offline, 1); err != nil {
							b.Error(err)
						}
					}()
				}
				wg.Wait()
				cancel()
				if b.Failed() {
					b.Fatalf("server log:\n%s", tail(p.Log(), 40))
				}
				b.ReportMetric(time.Since(start).Seconds(), "s/surge")
				m.report(b, len(tablets)*offline)
			}
			b.ReportMetric(float64(turnedAway.Load())/float64(b.N), "turned-away/surge")
			reportMemory(b, p)
		})
		p.Stop(b)
		if c != nil {
			c.Stop()
		}
	}
}

// tail returns the last n lines of log.
func tail(log string, n int) string {
	lines := strings.Split(strings.TrimSpace(log), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
