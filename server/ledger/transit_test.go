package ledger

import (
	"errors"
	"testing"

	"smartpass.city/smartpass/server/store"
)

// TestPostFare: a ride's fare posts once per ride whatever the times it
// is priced; a wallet short of it records the rest as debt (the vehicle
// took it offline) and Verify accepts a fare's debt; a ¥0 fare (a
// commuter pass) is decided with no entry; a negative one is a bug,
// refused.
func TestPostFare(t *testing.T) {
	l := open(t)
	led := New(l, Config{})
	if _, _, err := led.Post(Transfer{Cause: "card:pi_1", Kind: KindTopUp, From: Clearing(Card), To: Wallet("r1"), Amount: 200}, noon); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		fare   RideFare
		posted bool
		debt   int64
		err    error
	}{
		{"fare", RideFare{Cause: RideCause("bus", "v.1"), Resident: "r1", Operator: "bus", Amount: 150, At: noon}, true, 0, nil},
		{"priced again", RideFare{Cause: RideCause("bus", "v.1"), Resident: "r1", Operator: "bus", Amount: 150, At: noon}, false, 0, nil},
		{"short", RideFare{Cause: RideCause("bus", "v.2"), Resident: "r1", Operator: "bus", Amount: 300, At: noon}, true, 250, nil},
		{"on a pass", RideFare{Cause: RideCause("bus", "v.3"), Resident: "r1", Operator: "bus", Amount: 0, At: noon}, false, 0, nil},
		{"negative", RideFare{Cause: RideCause("bus", "v.4"), Resident: "r1", Operator: "bus", Amount: -1, At: noon}, false, 0, ErrAmount},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e Entry
			var posted bool
			err := l.Update(func(tx store.Tx) (err error) {
				e, posted, err = PostFare(tx, tc.fare)
				return err
			})
			if posted != tc.posted || e.Debt != tc.debt || !errors.Is(err, tc.err) {
				t.Fatalf("posted %v debt %d err %v, want %v %d %v", posted, e.Debt, err, tc.posted, tc.debt, tc.err)
			}
		})
	}
	if _, _, ok, err := led.Posted(RideCause("bus", "v.3")); !ok || err != nil {
		t.Errorf("the pass ride is not decided: %v", err)
	}
	if b, _ := led.Balance(Transit("bus")); b.Balance != 450 {
		t.Errorf("the operator holds ¥%d, want ¥450", b.Balance)
	}
	if r := verify(t, l); r.Debt != 250 || r.Entries != 3 {
		t.Errorf("verify: %+v", r)
	}
}
