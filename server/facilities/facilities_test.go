package facilities

import (
	"context"
	"reflect"
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

// The cache answers as Current does, before and after the feed changes.
func TestCacheFollowsTheFeed(t *testing.T) {
	ctx := context.Background()
	l, err := oplog.Open(t.TempDir(), oplog.Options{Feeds: scope.Feeds})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := SeedDemo(ctx, l); err != nil {
		t.Fatal(err)
	}
	w, err := publish.New(l)
	if err != nil {
		t.Fatal(err)
	}
	c := NewCache(l)
	changes := []struct {
		name string
		f    *facility.Facility // written before the check; nil: nothing
	}{
		{"seeded", nil},
		{"unchanged", nil},
		{"a new shelter", &facility.Facility{ID: "shelter-new", Kind: facility.Shelter, NameJA: "新しい避難所", Capacity: 40}},
		{"its capacity changed", &facility.Facility{ID: "shelter-new", Kind: facility.Shelter, NameJA: "新しい避難所", Capacity: 90}},
	}
	for _, ch := range changes {
		t.Run(ch.name, func(t *testing.T) {
			if ch.f != nil {
				if err := w.Facilities(ctx, *ch.f); err != nil {
					t.Fatal(err)
				}
			}
			got, err := c.Current()
			if err != nil {
				t.Fatal(err)
			}
			want, err := Current(l)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("cache %+v, want %+v", got, want)
			}
			if ch.f != nil && got[ch.f.ID].Capacity != ch.f.Capacity {
				t.Fatalf("%s has capacity %d, want %d", ch.f.ID, got[ch.f.ID].Capacity, ch.f.Capacity)
			}
		})
	}
}
