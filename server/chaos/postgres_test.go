package chaos_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/app/state"
	"smartpass.city/smartpass/app/synclog"
	"smartpass.city/smartpass/server/chaos"
	"smartpass.city/smartpass/server/commands"
	"smartpass.city/smartpass/server/serverproc"
	"smartpass.city/smartpass/server/store/pgtest"
	"smartpass.city/smartpass/syncproto"
	"smartpass.city/smartpass/syncproto/wsconn"
)

// TestChaosPostgres runs seeded rounds against two server processes on
// one tenant of a PostgreSQL primary with a synchronous standby, while
// devices sync through injected faults, reaching either server. Per
// round: the standby is paused for a second or two (the primary's
// commits wait for it), a server is SIGKILLed and restarted, and the
// primary is SIGKILLed and the standby promoted (the servers follow it
// through their connection string). Then: every acknowledged op is
// stored once, the global sequence is gapless, no global number was ever
// served for two different ops, and every device equals the server.
// SMARTPASS_CHAOS_PG_RUNS sets the rounds (make soak runs hundreds),
// SMARTPASS_CHAOS_SEED the first seed.
func TestChaosPostgres(t *testing.T) {
	pgtest.Need(t)
	runs := chaos.EnvInt("SMARTPASS_CHAOS_PG_RUNS", 3)
	first := chaos.EnvInt("SMARTPASS_CHAOS_SEED", 1)
	var total chaos.Counts
	for seed := first; seed < first+runs; seed++ {
		var c chaos.Counts
		ok := t.Run("seed="+strconv.Itoa(seed), func(t *testing.T) { c = pgRound(t, uint64(seed)) })
		if !ok {
			t.Fatalf("rerun with SMARTPASS_CHAOS_SEED=%d SMARTPASS_CHAOS_PG_RUNS=1", seed)
		}
		total.Drops += c.Drops
		total.Duplicates += c.Duplicates
		total.Reorders += c.Reorders
		total.Delays += c.Delays
	}
	t.Logf("%d rounds, each with a standby pause, a server kill and a failover: %d drops, %d duplicates, %d reorders, %d delays",
		runs, total.Drops, total.Duplicates, total.Reorders, total.Delays)
}

// servedLog remembers which op every global number was served as, to any
// device, and fails the test when one is served as two.
type servedLog struct {
	t  *testing.T
	mu sync.Mutex
	m  map[uint64]string
}

func (s *servedLog) saw(ops []syncproto.Op) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, op := range ops {
		k := fmt.Sprintf("%s/%d", op.Device, op.Seq)
		if was, ok := s.m[op.Global]; ok && was != k {
			s.t.Errorf("global %d served as %s and as %s", op.Global, was, k)
		}
		s.m[op.Global] = k
	}
}

// servedConn passes on what a device receives, noting the ops served.
type servedConn struct {
	synclog.Conn
	log *servedLog
}

func (c servedConn) Recv(ctx context.Context) ([]byte, error) {
	b, err := c.Conn.Recv(ctx)
	if err == nil {
		if f, derr := syncproto.Decode(b); derr == nil {
			if ops, ok := f.(*syncproto.Ops); ok {
				c.log.saw(ops.Ops)
			}
		}
	}
	return b, err
}

func pgRound(t *testing.T, seed uint64) chaos.Counts {
	rng := rand.New(rand.NewPCG(seed, 2))
	primary := pgtest.Start(t)
	standby := primary.StartStandby(t)
	url := pgtest.FailoverURL("postgres", primary, standby)
	keyFile := filepath.Join(t.TempDir(), "store.key")

	// Two servers, each with its own address and admin socket; the first
	// seeds the demo facilities.
	type server struct {
		addr, data string
		demo       bool
		p          *serverproc.Proc
	}
	servers := []*server{{demo: true}, {}}
	start := func(s *server) {
		args := []string{"-data", s.data, "-assets", s.data, "-key-file", keyFile, "-store", url, "-tenant", "kaga", "-dev"}
		if s.demo {
			args = append(args, "-demo")
		}
		s.p = serverproc.Start(t, serverBin, nil, s.addr, args...)
		s.p.WaitHealthy(t)
	}
	for _, s := range servers {
		s.addr, s.data = serverproc.FreeAddr(t), filepath.Join(t.TempDir(), "data")
		start(s)
	}

	inj := chaos.New(chaos.Faults{
		Drop:      0.01 + rng.Float64()*0.03,
		Duplicate: 0.1,
		Reorder:   0.1,
		Delay:     0.1,
		MaxDelay:  20 * time.Millisecond,
	}, seed)
	served := &servedLog{t: t, m: map[uint64]string{}}
	// Any device may reach any server: each connection goes to one of
	// them at random, as behind a load balancer.
	dial := inj.Dialer(func(ctx context.Context) (synclog.Conn, error) {
		c, err := wsconn.Dial(ctx, "ws://"+servers[rand.IntN(len(servers))].addr+"/sync")
		if err != nil {
			return nil, err
		}
		return servedConn{c, served}, nil
	})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	devices := make([]*device, 2+rng.IntN(3))
	for i := range devices {
		id := fmt.Sprintf("dev-%d", i)
		at := shelters[rng.IntN(len(shelters))]
		key := servers[i%2].p.Enroll(t, id, at, string(scope.Shelter))
		store := synclog.NewMemStore(id)
		eng, err := synclog.New(ctx, store, dial, synclog.Options{
			Signer:     key,
			Batch:      1 + rng.IntN(20),
			MinBackoff: 5 * time.Millisecond,
			MaxBackoff: 200 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		devices[i] = &device{store: store, eng: eng, ops: 40 + rng.IntN(60),
			scope: scope.Device{ID: id, Facility: facility.Facility{ID: at, Kind: facility.Shelter}, Role: scope.Shelter}}
		go eng.Run(ctx)
	}

	// Devices record through the whole run (about four seconds).
	var wg sync.WaitGroup
	for i, d := range devices {
		pace := time.Duration(40+rng.IntN(40)) * time.Millisecond
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range d.ops {
				body := shelter.Evacuee{Shelter: d.scope.Facility.ID, Kana: "テスト", BirthYear: 1950 + n%50, Name: fmt.Sprintf("device %d person %d", i, n)}
				if _, err := d.eng.Record(ctx, shelter.OpEvacueeAdd, body); err != nil {
					t.Error(err)
					return
				}
				time.Sleep(pace)
			}
		}()
	}
	sleep := func(lo, hi int) { time.Sleep(time.Duration(lo+rng.IntN(hi-lo)) * time.Millisecond) }

	sleep(200, 600)
	// The standby stops answering: the primary's commits wait, none is
	// cancelled, and they complete when it is back.
	if err := standby.Pause(); err != nil {
		t.Fatal(err)
	}
	sleep(1000, 2000)
	if err := standby.Resume(); err != nil {
		t.Fatal(err)
	}
	sleep(100, 400)
	victim := servers[rng.IntN(len(servers))]
	victim.p.Signal(syscall.SIGKILL)
	victim.p.Wait(t)
	sleep(50, 300)
	start(victim)
	sleep(100, 500)
	// The primary dies; the standby, which holds every commit the primary
	// acknowledged, is promoted.
	if err := primary.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := standby.Promote(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	inj.Calm()

	awaitQuiescence(ctx, t, devices, func() {
		for _, s := range servers {
			t.Logf("server %s log:\n%s", s.addr, s.p.Log())
		}
		lacking(ctx, t, servers[0].p.Ops(t), devices)
	})

	// Both servers serve the same log, which every device agrees with.
	// A server learns the head another one committed by notification or
	// by its poll: it may lag a moment behind the devices.
	// Every op: the demo's facilities, anchors and pass key, its bus
	// operator's routes and its hospitals' slots, and the devices'.
	head, err := commands.DemoHead()
	if err != nil {
		t.Fatal(err)
	}
	want := int(head)
	for _, d := range devices {
		want += d.ops
	}
	var first []syncproto.Op
	for i, s := range servers {
		ops := s.p.Ops(t)
		for deadline := time.Now().Add(10 * time.Second); len(ops) < want && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond)
			ops = s.p.Ops(t)
		}
		served.saw(ops)
		checkServer(t, ops, devices)
		if i == 0 {
			first = ops
		} else if !reflect.DeepEqual(ops, first) {
			t.Fatalf("the two servers serve different logs (%d and %d ops)", len(first), len(ops))
		}
	}
	for _, d := range devices {
		all, _ := d.store.All(ctx)
		if got, want := state.Fold(all), state.Fold(inScope(first, d.scope)); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: state differs from the server's (for its scope) after quiescence", d.store.DeviceID())
		}
	}
	return inj.Counts()
}

// lacking logs, for each device, the ops of its scope the server holds
// and it does not (by device and seq, with the global each side gives),
// and its cursors: what a failed quiescence needs to be explained.
func lacking(ctx context.Context, t *testing.T, server []syncproto.Op, devices []*device) {
	t.Helper()
	for _, d := range devices {
		all, _ := d.store.All(ctx)
		held := map[string]uint64{}
		for _, op := range all {
			held[fmt.Sprintf("%s/%d", op.Device, op.Seq)] = op.Global
		}
		var missing []string
		for _, op := range inScope(server, d.scope) {
			k := fmt.Sprintf("%s/%d", op.Device, op.Seq)
			if g, ok := held[k]; !ok || g != op.Global {
				missing = append(missing, fmt.Sprintf("%s global %d (device has %d)", k, op.Global, g))
			}
		}
		var cursors []string
		for _, feed := range d.scope.Feeds() {
			c, _ := d.store.Cursor(ctx, feed)
			cursors = append(cursors, fmt.Sprintf("%s=%d", feed, c))
		}
		t.Logf("%s: cursors %v; lacks %d: %v", d.store.DeviceID(), cursors, len(missing), missing)
	}
}
