package facilities

import (
	"context"
	"testing"

	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/server/oplog"
	"smartpass.city/smartpass/server/publish"
)

func TestSeedAndRead(t *testing.T) {
	ctx := context.Background()
	l, err := oplog.Open(t.TempDir(), oplog.Options{Feeds: scope.Feeds})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for range 2 { // a second seed is a no-op
		if err := SeedDemo(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	w, err := publish.New(l)
	if err != nil {
		t.Fatal(err)
	}
	renamed := facility.Demo()[2]
	renamed.Capacity = 150
	if err := w.Facilities(ctx, renamed); err != nil {
		t.Fatal(err)
	}
	got, err := Current(l)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(facility.Demo()) || got[renamed.ID].Capacity != 150 {
		t.Fatalf("Current = %+v, want the demo set with %s at 150", got, renamed.ID)
	}
	if h := l.Head(); h != uint64(len(facility.Demo())+1) {
		t.Fatalf("head %d: the second seed wrote again", h)
	}
	if err := w.Facilities(ctx, facility.Facility{ID: "Bad ID"}); err == nil {
		t.Fatal("an invalid facility was written")
	}
}
