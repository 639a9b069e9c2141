package faces

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/app/transit"
	"smartpass.city/smartpass/server/fares"
	"smartpass.city/smartpass/server/ledger"
	"smartpass.city/smartpass/server/oplog"
)

// TestTransitConsent: a transit operator recognises faces; a resident
// registered for it gets, in the registration's batch, the rider profile
// its vehicles price by (server/fares: the birth date, never shown, and
// the wallet's offline allowance), and only that operator does; writing
// the profiles again writes it again. A door without More writes none.
func TestTransitConsent(t *testing.T) {
	for _, tc := range []struct {
		name  string
		more  bool
		rider int
	}{
		{"with the fares' facts", true, 1},
		{"without", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			d, reg, l := newDoor(t)
			if err := d.pub.Facilities(ctx, facility.Facility{ID: "kaga-bus", Kind: facility.Transit, NameJA: "加賀デモ交通"}); err != nil {
				t.Fatal(err)
			}
			if tc.more {
				d.More = fares.New(l, fares.NewNetworks(l), ledger.New(l, ledger.Config{}), d.pub).FaceFacts
			}
			acc, err := reg.AddSupervised(card.Facts{Name: "加賀\u3000花子", Address: "石川県加賀市大聖寺", BirthDate: "20180505", Sex: "2"}, "desk-1 山田")
			if err != nil {
				t.Fatal(err)
			}
			d.Now = func() time.Time { return time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC) }
			seeded := l.Head()
			if err := d.Register(ctx, template.Template{Resident: acc.ID, Model: "test", Vec: []byte{1, 2, 3, 4}, Facilities: []string{"kaga-playpark", "kaga-bus"}}); err != nil {
				t.Fatal(err)
			}
			riders := func(after uint64) []transit.Profile {
				ops, err := l.Since(oplog.FeedAll, after, 1000, 8<<20)
				if err != nil {
					t.Fatal(err)
				}
				var out []transit.Profile
				for _, op := range ops {
					if op.Kind == transit.OpRider {
						var p transit.Profile
						if err := json.Unmarshal(op.Body, &p); err != nil {
							t.Fatal(err)
						}
						out = append(out, p)
					}
				}
				return out
			}
			got := riders(seeded)
			if len(got) != tc.rider {
				t.Fatalf("rider profiles %+v, want %d", got, tc.rider)
			}
			if tc.rider == 1 && (got[0] != transit.Profile{Operator: "kaga-bus", Resident: acc.ID, Birth: "2018-05-05"}) {
				t.Errorf("rider profile %+v", got[0])
			}
			person, err := reg.Person(acc.ID)
			if err != nil {
				t.Fatal(err)
			}
			again := l.Head()
			if err := d.Profiles(ctx, person); err != nil {
				t.Fatal(err)
			}
			if n := len(riders(again)); n != tc.rider {
				t.Errorf("profiles written again: %d rider profiles, want %d", n, tc.rider)
			}
		})
	}
}
