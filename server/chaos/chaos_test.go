package chaos_test

import (
	"context"
	"fmt"
	"math/rand/v2"
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
	"smartpass.city/smartpass/server/serverproc"
	"smartpass.city/smartpass/server/visits"
	"smartpass.city/smartpass/syncproto"
	"smartpass.city/smartpass/syncproto/wsconn"
)

var serverBin string

func TestMain(m *testing.M) { serverproc.RunTests(m, &serverBin) }

// TestChaos runs seeded rounds of devices syncing through injected faults
// and server kills, then checks that nothing was lost or duplicated.
// SMARTPASS_CHAOS_RUNS sets the number of rounds (make soak runs 1,000),
// SMARTPASS_CHAOS_SEED the first seed; a failing round names its seed.
func TestChaos(t *testing.T) {
	runs := chaos.EnvInt("SMARTPASS_CHAOS_RUNS", 30)
	first := chaos.EnvInt("SMARTPASS_CHAOS_SEED", 1)
	var total chaos.Counts
	kills := 0
	for seed := first; seed < first+runs; seed++ {
		var c chaos.Counts
		var k int
		ok := t.Run("seed="+strconv.Itoa(seed), func(t *testing.T) { c, k = round(t, uint64(seed)) })
		if !ok {
			t.Fatalf("rerun with SMARTPASS_CHAOS_SEED=%d SMARTPASS_CHAOS_RUNS=1", seed)
		}
		total.Drops += c.Drops
		total.Duplicates += c.Duplicates
		total.Reorders += c.Reorders
		total.Delays += c.Delays
		kills += k
	}
	t.Logf("%d rounds: %d drops, %d duplicates, %d reorders, %d delays, %d server kills",
		runs, total.Drops, total.Duplicates, total.Reorders, total.Delays, kills)
	if total.Drops == 0 || total.Duplicates == 0 || total.Reorders == 0 || total.Delays == 0 || kills == 0 {
		t.Fatalf("a fault never happened, so the run proves nothing about it: %+v, %d kills", total, kills)
	}
}

type device struct {
	store *synclog.MemStore
	eng   *synclog.Engine
	scope scope.Device
	ops   int
	want  int // ops the device holds once quiet
}

// The demo shelters the devices are enrolled at.
var shelters = []string{"shelter-daishoji", "shelter-yamashiro"}

func round(t *testing.T, seed uint64) (chaos.Counts, int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	addr := serverproc.FreeAddr(t)
	data := t.TempDir()
	start := func() *serverproc.Proc {
		p := serverproc.Start(t, serverBin, nil, addr, "-data", data, "-assets", data, "-dev", "-demo")
		p.WaitHealthy(t)
		return p
	}
	srv := start()

	inj := chaos.New(chaos.Faults{
		Drop:      0.01 + rng.Float64()*0.05,
		Duplicate: 0.1,
		Reorder:   0.1,
		Delay:     0.1,
		MaxDelay:  20 * time.Millisecond,
	}, seed)
	url := "ws://" + addr + "/sync"
	dial := inj.Dialer(func(ctx context.Context) (synclog.Conn, error) { return wsconn.Dial(ctx, url) })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	devices := make([]*device, 2+rng.IntN(4))
	for i := range devices {
		// Clocks off by up to four hours either way.
		skew := time.Duration(rng.Int64N(int64(8*time.Hour))) - 4*time.Hour
		id := fmt.Sprintf("dev-%d", i)
		at := shelters[rng.IntN(len(shelters))]
		key := srv.Enroll(t, id, at, string(scope.Shelter))
		store := synclog.NewMemStore(id)
		eng, err := synclog.New(ctx, store, dial, synclog.Options{
			Signer:     key,
			Batch:      1 + rng.IntN(20),
			MinBackoff: 2 * time.Millisecond,
			MaxBackoff: 50 * time.Millisecond,
			Now:        func() time.Time { return time.Now().Add(skew) },
		})
		if err != nil {
			t.Fatal(err)
		}
		devices[i] = &device{store: store, eng: eng, ops: 20 + rng.IntN(80),
			scope: scope.Device{ID: id, Facility: facility.Facility{ID: at, Kind: facility.Shelter}, Role: scope.Shelter}}
		go eng.Run(ctx)
	}

	// Devices record concurrently, each at its own pace.
	var wg sync.WaitGroup
	for i, d := range devices {
		pace := time.Duration(rng.IntN(2000)) * time.Microsecond
		// A few check-ins are typed for the other shelter, which this
		// device may not record: the server must store its refusal, and
		// the device must end up agreeing.
		wrong := rand.New(rand.NewPCG(seed, uint64(i)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range d.ops {
				at := d.scope.Facility.ID
				if wrong.IntN(30) == 0 {
					at = shelters[0]
					if at == d.scope.Facility.ID {
						at = shelters[1]
					}
				}
				kind, body := shelter.OpEvacueeAdd, any(shelter.Evacuee{Shelter: at, Kana: "テスト", BirthYear: 1950 + n%50, Name: fmt.Sprintf("device %d person %d", i, n)})
				if n%7 == 6 {
					// A correction of a name some device at this shelter
					// recorded, made without seeing other corrections:
					// conflicts must fold alike everywhere.
					other := devices[wrong.IntN(len(devices))]
					kind, body = shelter.OpEvacueeEdit, shelter.Edit{Shelter: d.scope.Facility.ID, Record: fmt.Sprintf("%s.%d", other.store.DeviceID(), 1+wrong.IntN(5)), Field: shelter.FieldName, Value: fmt.Sprintf("corrected by %d at %d", i, n)}
				}
				if _, err := d.eng.Record(ctx, kind, body); err != nil {
					t.Error(err)
					return
				}
				time.Sleep(pace)
			}
		}()
	}
	// Meanwhile the server is killed and restarted, up to twice.
	kills := 0
	for k := rng.IntN(3); k > 0; k-- {
		time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
		srv.Signal(syscall.SIGKILL)
		srv.Wait(t)
		kills++
		time.Sleep(time.Duration(rng.IntN(100)) * time.Millisecond)
		srv = start()
	}
	wg.Wait()
	inj.Calm()

	awaitQuiescence(ctx, t, devices, nil)

	server := srv.Ops(t)
	checkServer(t, server, devices)
	for _, d := range devices {
		all, _ := d.store.All(ctx)
		want := state.Fold(inScope(server, d.scope))
		if got := state.Fold(all); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: state differs from the server's (for its scope) after quiescence", d.store.DeviceID())
		}
		held := map[uint64]bool{}
		for _, op := range all {
			if op.Device == d.store.DeviceID() {
				held[op.Seq] = true
			}
		}
		for s := uint64(1); s <= uint64(d.ops); s++ {
			if !held[s] {
				t.Fatalf("%s lost its own op %d", d.store.DeviceID(), s)
			}
		}
	}
	return inj.Counts(), kills
}

// awaitQuiescence waits up to 60 s for quiescence: nothing pending
// anywhere, every device holding every op of its scope (the facilities,
// the demo JPKI's anchors, the QR pass key and its shelter's check-ins).
// On time-out it logs each device's status, then calls more (when set:
// the servers' logs), and fails.
func awaitQuiescence(ctx context.Context, t *testing.T, devices []*device, more func()) {
	t.Helper()
	for _, d := range devices {
		// The demo hospitals' publications are public; their slots
		// go to the hospitals' feeds, which no shelter holds.
		d.want = len(facility.Demo()) + 2 + len(visits.Hospitals)
		for _, o := range devices {
			if o.scope.Facility.ID == d.scope.Facility.ID {
				d.want += o.ops
			}
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for !settled(ctx, devices) {
		if time.Now().After(deadline) {
			for _, d := range devices {
				all, _ := d.store.All(ctx)
				t.Logf("%s: status %+v, holds %d of %d", d.store.DeviceID(), d.eng.Status(), len(all), d.want)
			}
			if more != nil {
				more()
			}
			t.Fatalf("no quiescence in 60 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// inScope returns the ops of the device's feeds.
func inScope(ops []syncproto.Op, dev scope.Device) []syncproto.Op {
	var out []syncproto.Op
	for _, op := range ops {
		for _, feed := range scope.Feeds(op) {
			if dev.MayPull(feed) {
				out = append(out, op)
				break
			}
		}
	}
	return out
}

func settled(ctx context.Context, devices []*device) bool {
	for _, d := range devices {
		all, _ := d.store.All(ctx)
		if d.eng.Status().Pending != 0 || len(all) != d.want {
			return false
		}
		for _, op := range all {
			if op.Global == 0 {
				return false // not yet confirmed by the server's feed
			}
		}
	}
	return true
}

// checkServer: every op of every device is on the server exactly once,
// under a gapless global sequence.
func checkServer(t *testing.T, ops []syncproto.Op, devices []*device) {
	t.Helper()
	seen := map[string]map[uint64]bool{}
	rejected := 0
	for i, op := range ops {
		if op.Kind == scope.OpRejected {
			rejected++
		}
		if op.Global != uint64(i+1) {
			t.Fatalf("global sequence broken at %d: %d", i+1, op.Global)
		}
		if seen[op.Device] == nil {
			seen[op.Device] = map[uint64]bool{}
		}
		if seen[op.Device][op.Seq] {
			t.Fatalf("op %s/%d stored twice", op.Device, op.Seq)
		}
		seen[op.Device][op.Seq] = true
	}
	for _, d := range devices {
		if n := len(seen[d.store.DeviceID()]); n != d.ops {
			t.Fatalf("server holds %d ops of %s, want %d", n, d.store.DeviceID(), d.ops)
		}
	}
	conflicts := len(state.Fold(ops).Conflicts())
	t.Logf("%d ops on the server, %d of them refused by scope; %d conflicts for staff", len(ops), rejected, conflicts)
}
