package fares_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/fare"
	"smartpass.city/smartpass/app/gtfsjp"
	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/synclog"
	"smartpass.city/smartpass/app/transit"
	"smartpass.city/smartpass/app/transit/demofeed"
	"smartpass.city/smartpass/app/wallet"
	"smartpass.city/smartpass/server/fares"
	"smartpass.city/smartpass/server/hub"
	"smartpass.city/smartpass/server/hub/hubtest"
	"smartpass.city/smartpass/server/ledger"
	"smartpass.city/smartpass/server/publish"
	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/syncproto"
)

const operator = "kaga-demo"

func jst(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, fare.JST)
	if err != nil {
		panic(err)
	}
	return t
}

// city is a hub with the real ledger and the fare poster joined as its
// Records, the demo operator's network imported, and a city desk.
type city struct {
	t      *testing.T
	ctx    context.Context
	hs     *hubtest.Server
	led    *ledger.Ledger
	poster *fares.Poster
	now    time.Time
	desk   *synclog.Engine
}

func newCity(t *testing.T) *city {
	c := &city{t: t}
	var cancel context.CancelFunc
	c.ctx, cancel = context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c.hs = hubtest.Start(t, hub.Options{
		Verify:  func(device string, op syncproto.Op) error { return c.led.Check(device, op) },
		Records: func(device string, ops []syncproto.Op) func(store.Tx) error { return c.records(device, ops) },
	})
	c.led = ledger.New(c.hs.Log, ledger.Config{})
	pub, err := publish.New(c.hs.Log)
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Facilities(c.ctx, facility.Facility{ID: operator, Kind: facility.Transit, NameJA: "加賀デモ交通"}); err != nil {
		t.Fatal(err)
	}
	feed, err := gtfsjp.Read(demofeed.Feed())
	if err != nil {
		t.Fatal(err)
	}
	b := demofeed.Config()
	conf, err := transit.ParseConfig(b)
	if err != nil {
		t.Fatal(err)
	}
	conf.Passes = []transit.PassProduct{{ID: "z1z2-30", NameJA: "通勤定期 1か月 Z1-Z2", Zones: []string{"Z1", "Z2"}, Class: fare.Adult, Days: 30, Price: 6900},
		{ID: "z1z2-30c", NameJA: "通学定期 1か月 小児 Z1-Z2", Zones: []string{"Z1", "Z2"}, Class: fare.Child, Days: 30, Price: 3450}}
	parts, err := transit.Compile(operator, "2026-04-01", feed, conf)
	if err != nil {
		t.Fatal(err)
	}
	ops, err := publish.Ops(transit.OpNetwork, parts, transit.Part.Validate)
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Write(c.ctx, ops, nil); err != nil {
		t.Fatal(err)
	}
	c.poster = fares.New(c.hs.Log, fares.NewNetworks(c.hs.Log), c.led, pub)
	c.poster.Now = func() time.Time { return c.now }
	c.desk = c.engine("desk-1", "kaga-hq", scope.Registrar, true)
	return c
}

// records is what server/api sets: the ledger's, then the fares'.
func (c *city) records(device string, ops []syncproto.Op) func(store.Tx) error {
	return hub.JoinRecords(c.led.Records, c.poster.Records)(device, ops)
}

func (c *city) engine(id, at string, role scope.Role, online bool) *synclog.Engine {
	_, priv, _ := ed25519.GenerateKey(nil)
	key := c.hs.Enroll(c.t, id, at, role, priv)
	eng, err := synclog.New(c.ctx, synclog.NewMemStore(id), c.hs.Dialer(), synclog.Options{Signer: key})
	if err != nil {
		c.t.Fatal(err)
	}
	if online {
		go eng.Run(c.ctx)
	}
	return eng
}

func (c *city) record(eng *synclog.Engine, kind string, body any) syncproto.Op {
	c.t.Helper()
	op, err := eng.Record(c.ctx, kind, body)
	if err != nil {
		c.t.Fatal(err)
	}
	return op
}

// rider tops up a resident's wallet at the desk and gives the operator
// their transit profile.
func (c *city) rider(id, birth string, yen int64) {
	c.t.Helper()
	c.record(c.desk, wallet.OpTopUpCash, wallet.TopUpCash{Resident: id, Amount: yen, Staff: "窓口 山田"})
	hubtest.WaitFor(c.t, "the top-up acknowledged", func() bool { return c.desk.Status().Pending == 0 })
	if err := c.poster.SetProfile(c.ctx, transit.Profile{Operator: operator, Resident: id, Birth: birth}); err != nil {
		c.t.Fatal(err)
	}
}

func (c *city) balance(a ledger.Account) ledger.Balance {
	c.t.Helper()
	b, err := c.led.Balance(a)
	if err != nil {
		c.t.Fatal(err)
	}
	return b
}

// The scenario at the ledger: a bus on the distance-fare line is
// offline all morning; a father, his elementary-school daughter and a
// senior board at D1 (Z1) and alight two zones later at D4 (Z3); a
// commuter-pass holder rides D2→D3 inside the pass's zones; a rider
// whose pass expired yesterday rides the same and pays; a rider whose
// wallet is short rides D1→D4; a rider boards and is never seen
// alighting. The bus syncs at 09:00: the ledger holds each completed
// ride's fare once, a resend of the push posts nothing more, the
// never-alighted rider is charged by the sweep once the trip's grace has
// passed, and Verify is clean.
func TestDayOnTheBus(t *testing.T) {
	c := newCity(t)
	c.now = jst("2026-05-11 10:00")
	for _, r := range []struct {
		id, birth string
		yen       int64
	}{
		{"father", "1985-05-05", 2000},
		{"daughter", "2018-06-01", 500},
		{"grandpa", "1950-03-03", 1000},
		{"holder", "1990-01-01", 7000},
		{"lapsed", "1992-02-02", 7000},
		{"shorty", "1999-09-09", 100},
		{"sleeper", "1990-01-01", 1000},
	} {
		c.rider(r.id, r.birth, r.yen)
	}
	// The lapsed rider's pass runs 2026-05-11..06-09; the holder's,
	// bought later, 06-01..06-30.
	if _, err := c.poster.BuyPass(c.ctx, "lapsed", transit.BuyPass{Resident: "lapsed", Operator: operator, Product: "z1z2-30", From: "2026-05-11", Request: "r1"}); err != nil {
		t.Fatal(err)
	}
	c.now = jst("2026-06-01 07:00")
	buy := transit.BuyPass{Resident: "holder", Operator: operator, Product: "z1z2-30", From: "2026-06-01", Request: "r1"}
	pass, err := c.poster.BuyPass(c.ctx, "holder", buy)
	if err != nil {
		t.Fatal(err)
	}
	if pass.Pass.Until != "2026-06-30" || pass.Pass.Class != fare.Adult {
		t.Fatalf("the pass bought: %+v", pass)
	}
	// The browser sends the purchase again after a lost answer: the same
	// pass, charged once.
	if again, err := c.poster.BuyPass(c.ctx, "holder", buy); err != nil || again.Pass.ID != pass.Pass.ID {
		t.Fatalf("the purchase again: %+v, %v", again, err)
	}
	if got := c.balance(ledger.Wallet("holder")).Balance; got != 7000-6900 {
		t.Fatalf("the holder's wallet after the pass: ¥%d", got)
	}

	// The bus records the morning with no signal.
	bus := c.engine("bus-7", operator, scope.Vehicle, false)
	tap := func(kind, trip, stop, who, party, at string) string {
		op := c.record(bus, kind, transit.Tap{Facility: operator, Trip: trip, Day: "2026-06-10", Stop: stop, Resident: who, Party: party, At: jst(at), Via: transit.ByFace})
		return opkind.RecordID(syncproto.Op{Device: "bus-7", Seq: op.Seq})
	}
	dad := tap(transit.OpBoard, "line-0800", "D1", "father", "", "2026-06-10 08:00")
	tap(transit.OpBoard, "line-0800", "D1", "daughter", dad, "2026-06-10 08:00")
	tap(transit.OpBoard, "line-0800", "D1", "grandpa", "", "2026-06-10 08:01")
	tap(transit.OpBoard, "line-0800", "D1", "shorty", "", "2026-06-10 08:01")
	tap(transit.OpBoard, "line-0800", "D2", "holder", "", "2026-06-10 08:04")
	tap(transit.OpBoard, "line-0800", "D2", "lapsed", "", "2026-06-10 08:04")
	sleeper := tap(transit.OpBoard, "line-0800", "D2", "sleeper", "", "2026-06-10 08:04")
	// A face the bus matched of a rider who gave it no fare facts (a
	// profile not yet down): priced by nobody, left to the operator.
	stranger := tap(transit.OpBoard, "line-0800", "D2", "stranger", "", "2026-06-10 08:04")
	tap(transit.OpAlight, "line-0800", "D3", "stranger", "", "2026-06-10 08:12")
	tap(transit.OpAlight, "line-0800", "D3", "holder", "", "2026-06-10 08:12")
	tap(transit.OpAlight, "line-0800", "D3", "lapsed", "", "2026-06-10 08:12")
	for _, who := range []string{"father", "daughter", "grandpa", "shorty"} {
		tap(transit.OpAlight, "line-0800", "D4", who, "", "2026-06-10 08:25")
	}

	// At 09:00 it syncs.
	c.now = jst("2026-06-10 09:00")
	go bus.Run(c.ctx)
	hubtest.WaitFor(t, "the bus's push acknowledged", func() bool { return bus.Status().Pending == 0 })

	// The fares from the feed: Z1→Z3 ¥300, Z1→Z2 ¥230; the daughter
	// half (¥150), the senior the operator's one-coin ¥100.
	wallets := []struct {
		who  string
		want ledger.Balance
	}{
		{"father", ledger.Balance{Balance: 2000 - 300}},
		{"daughter", ledger.Balance{Balance: 500 - 150}},
		{"grandpa", ledger.Balance{Balance: 1000 - 100}},
		{"holder", ledger.Balance{Balance: 7000 - 6900}},
		// The lapsed rider's wallet held ¥100 after the pass: ¥130 is debt.
		{"lapsed", ledger.Balance{Balance: 100 - 230, Debt: 130}},
		{"shorty", ledger.Balance{Balance: 100 - 300, Debt: 200}},
		{"sleeper", ledger.Balance{Balance: 1000}},
	}
	check := func(when string, sleeperPaid int64) {
		t.Helper()
		for _, w := range wallets {
			want := w.want
			if w.who == "sleeper" {
				want.Balance -= sleeperPaid
			}
			if got := c.balance(ledger.Wallet(w.who)); got != want {
				t.Errorf("%s: %s's wallet %+v, want %+v", when, w.who, got, want)
			}
		}
		if got, want := c.balance(ledger.Transit(operator)).Balance, int64(6900*2+300+150+100+230+300)+sleeperPaid; got != want {
			t.Errorf("%s: the operator's account ¥%d, want ¥%d", when, got, want)
		}
		r, err := ledger.Verify(c.hs.Log)
		if err != nil || r.Debt != 200+130 {
			t.Errorf("%s: verify %+v, %v", when, r, err)
		}
	}
	check("after the sync", 0)
	before, err := ledger.Verify(c.hs.Log)
	if err != nil {
		t.Fatal(err)
	}

	// The push again, as after a lost acknowledgement: the log holds it,
	// the hook is given it again, and nothing more is posted.
	ops, err := bus.Ops(c.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var mine []syncproto.Op
	for _, op := range ops {
		if op.Device == "bus-7" {
			mine = append(mine, op)
		}
	}
	if len(mine) != 15 {
		t.Fatalf("the bus holds %d taps of its own, want 15", len(mine))
	}
	if _, stored, err := c.hs.Log.AppendBatch(c.ctx, "bus-7", mine, c.records("bus-7", mine)); err != nil || len(stored) != 0 {
		t.Fatalf("resend: stored %d, %v", len(stored), err)
	}
	check("after the resend", 0)
	if after, _ := ledger.Verify(c.hs.Log); after.Entries != before.Entries {
		t.Errorf("the resend posted %d entries", after.Entries-before.Entries)
	}

	// The sleeper's trip ends 08:45 at D5 (Z4); 30 minutes' grace. At
	// 09:00 the sweep charges nothing; at 09:30, the fare to the trip's
	// end (Z1→Z4 ¥380), once.
	if n, err := c.poster.Sweep(); err != nil || n != 0 {
		t.Fatalf("sweep at 09:00: %d, %v", n, err)
	}
	c.now = jst("2026-06-10 09:30")
	for i, want := range []int{1, 0} {
		if n, err := c.poster.Sweep(); err != nil || n != want {
			t.Fatalf("sweep %d at 09:30: %d, %v; want %d", i, n, err, want)
		}
	}
	check("after the sweep", 380)
	if e, _, ok, err := c.led.Posted(ledger.RideCause(operator, sleeper)); err != nil || !ok || e.Kind != ledger.KindFare {
		t.Errorf("the sleeper's ride: %+v, %v, %v", e, ok, err)
	}
	if u, err := c.poster.Unpriced(operator); err != nil || len(u) != 1 || u[stranger] == "" {
		t.Errorf("unpriced: %v, %v; want the stranger's ride %s", u, err, stranger)
	}
	if _, _, ok, _ := c.led.Posted(ledger.RideCause(operator, stranger)); ok {
		t.Error("the stranger's ride was decided by the ledger")
	}

	// The operator's ridership of the day counts the priced rides by
	// category (the stranger's, unpriced, is not among them), names
	// nobody, and puts the commuter-pass ride D2→D3 on its stop pair.
	rows, err := c.poster.Ridership(operator, "2026-06-10")
	if err != nil {
		t.Fatal(err)
	}
	byCat := map[fare.Category]int{}
	for _, r := range rows {
		byCat[r.Category] += r.Rides
		if r.Category == fare.CommPass && (r.From != "D2" || r.To != "D3" || r.Hour != 8) {
			t.Errorf("the pass ride's row %+v, want D2→D3 at 8", r)
		}
	}
	for cat, want := range map[fare.Category]int{fare.Category(fare.Adult): 4, fare.Category(fare.Child): 1, fare.Senior: 1, fare.CommPass: 1} {
		if byCat[cat] != want {
			t.Errorf("ridership: %d rides of %s, want %d (all: %v)", byCat[cat], cat, want, byCat)
		}
	}
	for _, tc := range []struct {
		name, operator, day string
		rows                int
		err                 error
	}{
		{"a day with no rides", operator, "2026-06-11", 0, nil},
		{"a day that is not a day", operator, "2026-6-10", 0, fares.ErrReport},
		{"an operator with no network", "komatsu-bus", "2026-06-10", 0, fares.ErrReport},
	} {
		if rows, err := c.poster.Ridership(tc.operator, tc.day); len(rows) != tc.rows || !errors.Is(err, tc.err) {
			t.Errorf("%s: %d rows, %v; want %d, %v", tc.name, len(rows), err, tc.rows, tc.err)
		}
	}

	// What the bus holds of its riders came down its feed: the holder's
	// pass and every rider's profile.
	hubtest.WaitFor(t, "the riders' facts on the bus", func() bool {
		ops, _ := bus.Ops(c.ctx)
		var p opkind.Parts
		for _, op := range ops {
			opkind.Fold(&p, op)
		}
		facts := *transit.Riders.In(&p)
		return len(facts) == 7 && len(facts["holder"].Passes) == 1 && facts["holder"].Passes[0].ID == pass.Pass.ID
	})
}

// TestBuyPassRefused: a purchase the operator does not sell, for a rider
// who gave the operator no profile, a child's pass for an adult, a start
// day in the past, and a wallet too short are each refused in their own
// words, and nothing is charged.
func TestBuyPassRefused(t *testing.T) {
	c := newCity(t)
	c.now = jst("2026-06-01 10:00")
	c.rider("adult", "1990-01-01", 100)
	for _, tc := range []struct {
		name string
		buy  transit.BuyPass
		want error
	}{
		{"no product", transit.BuyPass{Resident: "adult", Operator: operator, Product: "nope", From: "2026-06-01"}, fares.ErrNoProduct},
		{"no profile", transit.BuyPass{Resident: "stranger", Operator: operator, Product: "z1z2-30", From: "2026-06-01"}, fares.ErrNoProfile},
		{"child's pass", transit.BuyPass{Resident: "adult", Operator: operator, Product: "z1z2-30c", From: "2026-06-01"}, fares.ErrPassClass},
		{"past day", transit.BuyPass{Resident: "adult", Operator: operator, Product: "z1z2-30", From: "2026-05-31"}, fares.ErrPassDay},
		{"short", transit.BuyPass{Resident: "adult", Operator: operator, Product: "z1z2-30", From: "2026-06-01"}, ledger.ErrShort},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.poster.BuyPass(c.ctx, "adult", tc.buy)
			if !errors.Is(err, tc.want) || !fares.IsRefusal(err) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if got := c.balance(ledger.Wallet("adult")).Balance; got != 100 {
		t.Fatalf("the wallet after refusals: ¥%d", got)
	}
}
