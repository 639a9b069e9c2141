package property

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/synclog"
	"smartpass.city/smartpass/app/wallet"
	"smartpass.city/smartpass/server/chaos"
	"smartpass.city/smartpass/server/cli"
	"smartpass.city/smartpass/server/commands"
	"smartpass.city/smartpass/server/ledger"
	"smartpass.city/smartpass/server/serverproc"
	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/syncproto"
	"smartpass.city/smartpass/syncproto/wsconn"
)

var serverBin string

func TestMain(m *testing.M) { serverproc.RunTests(m, &serverBin) }

// The shops, each with two terminals, and the city desk.
var shops = []facility.Facility{
	{ID: "shop-onsen", Kind: facility.Shop, NameJA: "山代温泉 土産店", NameEN: "Yamashiro Onsen gift shop"},
	{ID: "shop-katayamazu", Kind: facility.Shop, NameJA: "片山津 食堂", NameEN: "Katayamazu diner"},
}

const desk = "kaga-hq"

// TestNoYenCreatedOrLost is the wallet's property test (see the package
// comment). A failing round names its seed.
func TestNoYenCreatedOrLost(t *testing.T) {
	rounds := chaos.EnvInt("SMARTPASS_LEDGER_ROUNDS", 1)
	first := chaos.EnvInt("SMARTPASS_LEDGER_SEED", 1)
	ops := chaos.EnvInt("SMARTPASS_LEDGER_OPS", 2400)
	var faults chaos.Counts
	kills := 0
	for seed := first; seed < first+rounds; seed++ {
		var c chaos.Counts
		var k int
		if !t.Run("seed="+strconv.Itoa(seed), func(t *testing.T) { c, k = round(t, uint64(seed), ops) }) {
			t.Fatalf("rerun with SMARTPASS_LEDGER_SEED=%d SMARTPASS_LEDGER_ROUNDS=1", seed)
		}
		faults.Drops += c.Drops
		faults.Duplicates += c.Duplicates
		faults.Reorders += c.Reorders
		faults.Delays += c.Delays
		kills += k
	}
	t.Logf("%d rounds: %d drops, %d duplicates, %d reorders, %d delays, %d server kills", rounds, faults.Drops, faults.Duplicates, faults.Reorders, faults.Delays, kills)
	if faults.Drops == 0 || faults.Duplicates == 0 || faults.Reorders == 0 || kills == 0 {
		t.Fatalf("a fault never happened, so the run proves nothing about it: %+v, %d kills", faults, kills)
	}
}

// payment is one a terminal took, which any terminal of its shop may
// refund: left is what the terminals have not yet refunded of it.
type payment struct {
	cause  string
	amount int64
	left   int64
}

// shopBook is what a shop's terminals know of its payments.
type shopBook struct {
	mu       sync.Mutex
	payments []*payment
}

type device struct {
	id    string
	at    string
	role  scope.Role
	store *synclog.MemStore
	eng   *synclog.Engine
	ops   int
}

func round(t *testing.T, seed uint64, total int) (chaos.Counts, int) {
	rng := rand.New(rand.NewPCG(seed, 19))
	addr := serverproc.FreeAddr(t)
	data := filepath.Join(t.TempDir(), "data")
	start := func() *serverproc.Proc {
		p := serverproc.Start(t, serverBin, nil, addr, "-data", data, "-assets", t.TempDir(), "-dev", "-demo")
		p.WaitHealthy(t)
		return p
	}
	srv := start()
	for _, f := range shops {
		var r commands.Reply
		admin(t, data, "facility "+commands.Arg(f), &r)
	}
	inj := chaos.New(chaos.Faults{Drop: 0.02, Duplicate: 0.1, Reorder: 0.1, Delay: 0.1, MaxDelay: 20 * time.Millisecond}, seed)
	url := "ws://" + addr + "/sync"
	dial := inj.Dialer(func(ctx context.Context) (synclog.Conn, error) { return wsconn.Dial(ctx, url) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	devices := []*device{{id: "desk-1", at: desk, role: scope.Registrar}}
	for _, f := range shops {
		for i := range 2 {
			devices = append(devices, &device{id: fmt.Sprintf("till-%s-%d", f.ID, i), at: f.ID, role: scope.Shop})
		}
	}
	// A sixth of the ops are the desk's top-ups, the rest the terminals'.
	devices[0].ops = total / 6
	for _, d := range devices[1:] {
		d.ops = (total - devices[0].ops) / (len(devices) - 1)
	}
	for _, d := range devices {
		key := srv.Enroll(t, d.id, d.at, string(d.role))
		d.store = synclog.NewMemStore(d.id)
		eng, err := synclog.New(ctx, d.store, dial, synclog.Options{Signer: key, Batch: 1 + rng.IntN(30), MinBackoff: 2 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		d.eng = eng
		go eng.Run(ctx)
	}

	books := map[string]*shopBook{}
	for _, f := range shops {
		books[f.ID] = &shopBook{}
	}
	residents := make([]string, 24)
	for i := range residents {
		residents[i] = fmt.Sprintf("r%02d", i)
	}
	var wg sync.WaitGroup
	for i, d := range devices {
		r := rand.New(rand.NewPCG(seed, uint64(100+i)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range d.ops {
				kind, body := next(r, d, books[d.at], residents)
				op, err := d.eng.Record(ctx, kind, body)
				if err != nil {
					t.Error(err)
					return
				}
				if p, ok := body.(wallet.Payment); ok {
					b := books[d.at]
					b.mu.Lock()
					b.payments = append(b.payments, &payment{cause: d.id + "." + strconv.FormatUint(op.Seq, 10), amount: p.Amount, left: p.Amount})
					b.mu.Unlock()
				}
				if r.IntN(20) == 0 {
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}
	// Meanwhile the server is killed and restarted, once or twice.
	kills := 0
	for k := 1 + rng.IntN(2); k > 0; k-- {
		time.Sleep(time.Duration(200+rng.IntN(800)) * time.Millisecond)
		srv.Signal(syscall.SIGKILL)
		srv.Wait(t)
		kills++
		time.Sleep(time.Duration(rng.IntN(200)) * time.Millisecond)
		srv = start()
	}
	wg.Wait()
	inj.Calm()
	deadline := time.Now().Add(90 * time.Second)
	for !quiet(devices) {
		if time.Now().After(deadline) {
			for _, d := range devices {
				t.Logf("%s: %+v", d.id, d.eng.Status())
			}
			t.Fatal("no quiescence in 90 s")
		}
		time.Sleep(20 * time.Millisecond)
	}

	held := srv.Ops(t)
	want := expect(t, held, devices)
	var r commands.Reply
	admin(t, data, "ledger-verify", &r)
	if r.Ledger == nil || r.Ledger.Entries != len(want.posted) {
		t.Fatalf("ledger-verify: %+v, want %d entries", r.Ledger, len(want.posted))
	}
	cancel()
	srv.Signal(syscall.SIGTERM)
	srv.Wait(t)
	check(t, data, want)
	t.Logf("%d ops of the devices held: %d posted (%d payments offline, ¥%d of recorded debt), %d refused; wallets hold ¥%d", len(want.posted)+len(want.refused), len(want.posted), want.offline, r.Ledger.Debt, len(want.refused), r.Ledger.Outstanding)
	t.Logf("the server's refusals: %v", want.reasons)
	return inj.Counts(), kills
}

// next is a device's next op: a desk tops up; a terminal mostly takes
// payments (offline while it has no session, and a third of the time
// anyway), sometimes refunds one of its shop's (a part of what is left
// of it), and now and then tries to refund more than a payment was.
func next(r *rand.Rand, d *device, b *shopBook, residents []string) (string, any) {
	who := residents[r.IntN(len(residents))]
	if d.role == scope.Registrar {
		return wallet.OpTopUpCash, wallet.TopUpCash{Resident: who, Amount: int64(10+r.IntN(141)) * 100, Staff: "窓口 山田"}
	}
	if r.IntN(6) == 0 {
		b.mu.Lock()
		defer b.mu.Unlock()
		if len(b.payments) > 0 {
			p := b.payments[r.IntN(len(b.payments))]
			if r.IntN(8) == 0 {
				return wallet.OpRefund, wallet.Refund{Facility: d.at, Payment: p.cause, Amount: p.amount + 1, Staff: "店員 佐藤"}
			}
			if p.left > 0 {
				n := 1 + r.Int64N(p.left)
				p.left -= n
				return wallet.OpRefund, wallet.Refund{Facility: d.at, Payment: p.cause, Amount: n, Staff: "店員 佐藤"}
			}
		}
	}
	offline := !d.eng.Status().Online || r.IntN(3) == 0
	return wallet.OpPayment, wallet.Payment{Facility: d.at, Resident: who, Amount: int64(1+r.IntN(30)) * 100, Offline: offline}
}

func quiet(devices []*device) bool {
	for _, d := range devices {
		if d.eng.Status().Pending != 0 {
			return false
		}
	}
	return true
}

// books are what the ledger must hold, worked out from the ops the server
// holds alone, independently of the ledger's code.
type books struct {
	balances map[ledger.Account]int64
	posted   map[string]bool // causes with an entry
	refused  map[string]bool // causes refused, posting nothing
	offline  int
	reasons  map[string]int // of the server's refusals
}

// firstWords is a refusal's reason up to its details.
func firstWords(s string) string {
	if i := strings.IndexAny(s, "(:"); i > 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}

func expect(t *testing.T, held []syncproto.Op, devices []*device) books {
	t.Helper()
	w := books{balances: map[ledger.Account]int64{}, posted: map[string]bool{}, refused: map[string]bool{}, reasons: map[string]int{}}
	mine := map[string]bool{}
	seen := map[string]bool{}
	for _, d := range devices {
		mine[d.id] = true
	}
	payments := map[string]wallet.Payment{}
	var refunds []syncproto.Op
	count := map[string]int{}
	for _, op := range held {
		if !mine[op.Device] {
			continue
		}
		cause := wallet.ID(op)
		if seen[cause] {
			t.Fatalf("op %s held twice", cause)
		}
		seen[cause] = true
		count[op.Device]++
		switch op.Kind {
		case scope.OpRejected:
			w.refused[cause] = true
			var rej scope.Rejection
			json.Unmarshal(op.Body, &rej)
			w.reasons[rej.Kind+": "+firstWords(rej.Reason)]++
		case wallet.OpTopUpCash:
			b, _ := wallet.Body[wallet.TopUpCash](op)
			w.balances[ledger.Clearing(ledger.Cash)] -= b.Amount
			w.balances[ledger.Wallet(b.Resident)] += b.Amount
			w.posted[cause] = true
		case wallet.OpPayment:
			b, _ := wallet.Body[wallet.Payment](op)
			payments[cause] = b
			w.balances[ledger.Wallet(b.Resident)] -= b.Amount
			w.balances[ledger.Merchant(b.Facility)] += b.Amount
			w.posted[cause] = true
			if b.Offline {
				w.offline++
			}
		case wallet.OpRefund:
			refunds = append(refunds, op)
		default:
			t.Fatalf("unexpected %s", op.Kind)
		}
	}
	for _, d := range devices {
		if count[d.id] != d.ops {
			t.Fatalf("the server holds %d ops of %s, it recorded %d", count[d.id], d.id, d.ops)
		}
	}
	// A refund posts when its payment posted and it is not larger than
	// the payment: the terminals never refund more than is left in all.
	for _, op := range refunds {
		cause := wallet.ID(op)
		b, _ := wallet.Body[wallet.Refund](op)
		p, ok := payments[b.Payment]
		if !ok || b.Amount > p.Amount {
			w.refused[cause] = true
			continue
		}
		w.balances[ledger.Merchant(p.Facility)] -= b.Amount
		w.balances[ledger.Wallet(p.Resident)] += b.Amount
		w.posted[cause] = true
	}
	for a, n := range w.balances {
		if n == 0 {
			delete(w.balances, a)
		}
	}
	return w
}

// check opens the stopped server's store and compares the ledger with
// the books: every balance, every cause decided once, Verify clean.
func check(t *testing.T, data string, want books) {
	t.Helper()
	s, err := cli.OpenStore(data, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := ledger.Verify(s); err != nil {
		t.Fatal(err)
	}
	got := map[ledger.Account]int64{}
	var total int64
	if err := s.View(func(tx store.Tx) error {
		return ledger.EachBalance(tx, func(a ledger.Account, b ledger.Balance) error {
			if b.Balance != 0 {
				got[a] = b.Balance
			}
			total += b.Balance
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	if total != 0 {
		t.Fatalf("the balances sum to ¥%d: yen created or lost", total)
	}
	for a, n := range want.balances {
		if got[a] != n {
			t.Errorf("%s holds ¥%d, the ops held say ¥%d", a, got[a], n)
		}
	}
	for a, n := range got {
		if _, ok := want.balances[a]; !ok {
			t.Errorf("%s holds ¥%d, the ops held say nothing", a, n)
		}
	}
	led := ledger.New(s, ledger.Config{})
	for cause, posted := range merge(want.posted, want.refused) {
		e, why, ok, err := led.Posted(cause)
		switch {
		case err != nil:
			t.Fatal(err)
		case !ok:
			t.Errorf("%s: not decided", cause)
		case posted && (e.Seq == 0 || why != ""):
			t.Errorf("%s: want posted, the ledger says %q (entry %d)", cause, why, e.Seq)
		case !posted && e.Seq != 0:
			t.Errorf("%s: want refused, posted as entry %d", cause, e.Seq)
		}
	}
}

func merge(posted, refused map[string]bool) map[string]bool {
	all := map[string]bool{}
	for c := range posted {
		all[c] = true
	}
	for c := range refused {
		all[c] = false
	}
	return all
}

// admin runs one command line on the running server's admin socket.
func admin(t *testing.T, data, line string, reply *commands.Reply) {
	t.Helper()
	conn, err := net.Dial("unix", filepath.Clean(data)+".sock")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintln(conn, line)
	if err := json.NewDecoder(conn).Decode(reply); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	if reply.Error != "" {
		t.Fatalf("%s: %s", line, reply.Error)
	}
}
