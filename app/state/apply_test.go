package state

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/syncproto"
)

// foldChecked returns Fold(ops), having checked that folding any prefix
// of them (in fold order) and applying the rest one by one gives the same
// state, and that an op from before the last one folded is refused
// without a change. Every fold test goes through it, so Apply is held to
// Fold on each one's ops.
func foldChecked(t *testing.T, ops []syncproto.Op) *State {
	t.Helper()
	want := Fold(ops)
	sorted := slices.Clone(ops)
	slices.SortFunc(sorted, compareOps)
	for k := range len(sorted) + 1 {
		st := Fold(sorted[:k])
		for _, op := range sorted[k:] {
			if !st.Apply(op) {
				t.Fatalf("Apply refused %s %s.%d, next in order after a fold of %d ops", op.Kind, op.Device, op.Seq, k)
			}
		}
		if !reflect.DeepEqual(st, want) {
			t.Fatalf("Fold of %d ops then Apply of the other %d:\n got %+v\nwant %+v", k, len(sorted)-k, st, want)
		}
	}
	if len(sorted) > 0 {
		st := Fold(sorted)
		for _, op := range sorted { // each at or before the last folded
			if st.Apply(op) {
				t.Fatalf("Apply took %s %s.%d, out of order", op.Kind, op.Device, op.Seq)
			}
		}
		if !reflect.DeepEqual(st, want) {
			t.Fatal("an op refused as out of order changed the state")
		}
	}
	return want
}

// TestFoldPaced: a paced fold gives the state Fold gives, pausing after
// each stretch of its slice (checked every checkEvery ops), and never
// with no pause or a slice longer than the fold.
func TestFoldPaced(t *testing.T) {
	var ops []syncproto.Op
	for i := range 1000 {
		b, _ := json.Marshal(shelter.Evacuee{Shelter: "s1", Kana: "ア", BirthYear: 1950 + i%50})
		ops = append(ops, syncproto.Op{Device: "tab", Seq: uint64(i + 1), HLC: uint64(1000 - i), Kind: shelter.OpEvacueeAdd, Body: b})
	}
	want := Fold(ops)
	for _, c := range []struct {
		name   string
		slice  time.Duration
		pause  bool
		pauses int
	}{
		{"every check", 0, true, len(ops) / checkEvery},
		{"a slice longer than the fold", time.Hour, true, 0},
		{"no pause", 0, false, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := 0
			var pause func()
			if c.pause {
				pause = func() { n++ }
			}
			got := FoldPaced(ops, c.slice, pause)
			if n != c.pauses {
				t.Errorf("%d pauses, want %d", n, c.pauses)
			}
			if !reflect.DeepEqual(got, want) {
				t.Error("a paced fold differs from Fold")
			}
		})
	}
}
