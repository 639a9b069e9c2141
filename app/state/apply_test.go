package state

import (
	"reflect"
	"slices"
	"testing"

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
