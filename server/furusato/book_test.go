package furusato

import (
	"fmt"
	"testing"
	"time"

	rules "smartpass.city/smartpass/app/furusato"
)

// BenchmarkDonorPage is what a donor's page costs the server as the
// counters' donations grow: the year's donations of one donor (mine,
// behind DonationsPath and ReceiptsPath) in a log of n donations, with
// a new donation recorded before every other request (a busy
// counter), so the book must take new ops as well as serve.
func BenchmarkDonorPage(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("donations=%d", n), func(b *testing.B) {
			e := newEnv(b)
			at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
			for i := range n {
				e.record(uint64(i+1), rules.OpDonation, rules.Donation{Shop: "michinoeki-kaga", Donor: fmt.Sprintf("R-%06d", i%500), Amount: 10000, Payment: fmt.Sprintf("pi_%d", i), At: at})
			}
			s := &Service{d: Deps{Log: e.log}}
			seq := uint64(n)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if i%2 == 0 {
					seq++
					e.record(seq, rules.OpDonation, rules.Donation{Shop: "michinoeki-kaga", Donor: "R-000007", Amount: 5000, Payment: fmt.Sprintf("pi_x%d", seq), At: at})
				}
				if _, given, err := s.mine("R-000007", 2026); err != nil || len(given) == 0 {
					b.Fatalf("mine: %d, %v", len(given), err)
				}
			}
		})
	}
}

// TestBookFedByTheLog: the book kept between requests, fed the ops
// stored since, equals the book folded afresh from the whole log after
// every kind of op the counters record; a book already handed out is
// not changed by later folds.
func TestBookFedByTheLog(t *testing.T) {
	e := newEnv(t)
	kept := &Service{d: Deps{Log: e.log}}
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	crab := rules.Item{ID: "crab", NameJA: "加能ガニ", Donation: 10000, Cost: 3000, Local: true, Stock: 2}
	steps := []struct {
		kind string
		body any
	}{
		{rules.OpDonation, rules.Donation{Shop: "michinoeki-kaga", Donor: "R-000001", Amount: 5000, Payment: "pi_1", At: at}},
		{rules.OpItem, rules.Listing{Shop: "michinoeki-kaga", Item: crab}},
		{rules.OpDonation, rules.Donation{Shop: "michinoeki-kaga", Donor: "R-000002", Amount: 10000, Item: "crab", Gift: true, Payment: "pi_2", At: at}},
		{rules.OpGift, rules.Handover{Shop: "michinoeki-kaga", Donation: "counter-1.3", Donor: "R-000002", Item: "crab"}},
		{rules.OpDonation, rules.Donation{Shop: "michinoeki-kaga", Donor: "R-000001", Amount: 3000, Payment: "pi_3", At: at}},
	}
	var earlier rules.Book
	for i, st := range steps {
		e.record(uint64(i+1), st.kind, st.body)
		got, err := kept.book()
		if err != nil {
			t.Fatal(err)
		}
		want, err := (&Service{d: Deps{Log: e.log}}).book()
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("after op %d (%s): kept %+v, folded afresh %+v", i+1, st.kind, got, want)
		}
		if i == 0 {
			earlier = got
		}
	}
	if len(earlier.Donations) != 1 || len(earlier.Items) != 0 || len(earlier.Given) != 0 {
		t.Fatalf("the book handed out after the first op changed with later folds: %+v", earlier)
	}
}
