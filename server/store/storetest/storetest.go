// Package storetest is the conformance suite of the store seam: every
// behaviour of store.Store that the hub and the record-keeping packages
// rely on, written once and run against each engine (the embedded Badger
// log and PostgreSQL), so a second engine cannot drift from the first.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/syncproto"
)

// Config is what a store under test is opened with: the same two hooks
// the server gives every engine.
type Config struct {
	// Feeds names the feeds besides store.FeedAll an op belongs to; nil
	// puts every op in FeedAll only.
	Feeds func(syncproto.Op) []string
	// Erasure, when set, lets an op erase earlier ops.
	Erasure *store.Erasure
}

// Opener opens a new, empty store configured by cfg. The store is the
// test's: the opener closes it at the test's cleanup, and Close must
// tolerate having been called before.
type Opener func(t *testing.T, cfg Config) store.Store

// wait bounds how long a test waits for something a commit must cause
// (a Changed channel closing); an engine that publishes commits through
// its database's notifications may take a moment, not seconds.
const wait = 5 * time.Second

// Run runs the whole suite against the stores open makes.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"AppendIdempotent", testAppendIdempotent},
		{"AppendNewReportsStored", testAppendNew},
		{"MarksPerDevice", testMarks},
		{"LastOfDevice", testLast},
		{"AppendBatchRecords", testAppendBatchRecords},
		{"AppendBatchFailingRecordsStoresNothing", testFailingRecords},
		{"AppendNextNumbersInTheCommit", testAppendNext},
		{"SinceBounds", testSinceBounds},
		{"Feeds", testFeeds},
		{"AppendRoutedTakesTheCallersFeeds", testAppendRouted},
		{"ChangedPerFeed", testChanged},
		{"Epoch", testEpoch},
		{"RecordsCRUD", testRecords},
		{"RecordsByteOrder", testByteOrder},
		{"UpdateIsAtomic", testUpdateAtomic},
		{"Erasure", testErasure},
		{"ConcurrentAppenders", testConcurrent},
		{"ConcurrentFullPushes", testFullPushes},
		{"PullFitsAFrame", testPullFitsAFrame},
		{"Errors", testErrors},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

// Ops returns test ops with the given seqs, each claiming another device
// (a store must take the session's) and a body naming its seq.
func Ops(seqs ...uint64) []syncproto.Op {
	out := make([]syncproto.Op, len(seqs))
	for i, s := range seqs {
		out[i] = syncproto.Op{Device: "spoofed", Seq: s, HLC: 1000 + s, Kind: "test.op", Body: []byte(fmt.Sprintf(`{"n":%d}`, s))}
	}
	return out
}

func all(t *testing.T, s store.Store, feed string) []syncproto.Op {
	t.Helper()
	got, err := s.Since(feed, 0, 1<<20, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// push appends the test ops with seqs as device's and returns the mark.
func push(t *testing.T, s store.Store, device string, seqs ...uint64) uint64 {
	t.Helper()
	return pushOps(t, s, device, Ops(seqs...)...)
}

func pushOps(t *testing.T, s store.Store, device string, ops ...syncproto.Op) uint64 {
	t.Helper()
	mark, _, err := s.AppendNew(context.Background(), device, ops)
	if err != nil {
		t.Fatal(err)
	}
	return mark
}

func markOf(t *testing.T, s store.Store, device string) uint64 {
	t.Helper()
	m, err := s.Mark(device)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func since(t *testing.T, s store.Store, feed string, after uint64, limit, maxBytes int) []syncproto.Op {
	t.Helper()
	got, err := s.Since(feed, after, limit, maxBytes)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func testAppendIdempotent(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t, Config{})
	steps := []struct {
		seqs     []uint64
		wantMark uint64
		wantHead uint64
	}{
		{[]uint64{1, 2}, 2, 2},
		{[]uint64{1, 2}, 2, 2},    // a resend: acknowledged, not stored again
		{[]uint64{4}, 2, 3},       // a gap: held, but the mark waits
		{[]uint64{5, 3, 4}, 5, 5}, // gap filled out of order; 4 not stored twice
		{[]uint64{3}, 5, 5},       // an old resend alone
	}
	for i, st := range steps {
		mark, _, err := s.AppendNew(ctx, "tab-a", Ops(st.seqs...))
		if err != nil {
			t.Fatal(err)
		}
		if mark != st.wantMark || s.Head() != st.wantHead {
			t.Fatalf("step %d: mark %d head %d, want %d %d", i, mark, s.Head(), st.wantMark, st.wantHead)
		}
	}
	got := all(t, s, store.FeedAll)
	seen := map[uint64]bool{}
	for i, op := range got {
		if op.Global != uint64(i+1) || op.Device != "tab-a" || seen[op.Seq] {
			t.Fatalf("op %d = %+v: want global %d, the session's device, no duplicate seq", i, op, i+1)
		}
		if op.HLC != 1000+op.Seq || op.Kind != "test.op" || string(op.Body) != fmt.Sprintf(`{"n":%d}`, op.Seq) {
			t.Fatalf("op %d did not come back as stored: %+v", i, op)
		}
		seen[op.Seq] = true
	}
	if len(got) != 5 {
		t.Fatalf("%d ops stored, want 5", len(got))
	}
}

func testAppendNew(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t, Config{})
	show := func(stored []syncproto.Op) string {
		var out []string
		for _, op := range stored {
			out = append(out, fmt.Sprintf("%d@%d", op.Seq, op.Global))
		}
		return fmt.Sprint(out)
	}
	steps := []struct {
		push       []uint64
		mark       uint64
		wantStored string
	}{
		{[]uint64{2, 3}, 0, "[2@1 3@2]"}, // ahead of a gap: stored, not acknowledged
		{[]uint64{1, 2, 3}, 3, "[1@3]"},  // the gap filled, the rest sent again
		{[]uint64{3, 2, 1}, 3, "[]"},     // all again, in another order
		{[]uint64{4}, 4, "[4@4]"},
	}
	for i, st := range steps {
		mark, stored, err := s.AppendNew(ctx, "tab", Ops(st.push...))
		if err != nil {
			t.Fatal(err)
		}
		if mark != st.mark || show(stored) != st.wantStored {
			t.Errorf("step %d: mark %d stored %s, want %d %s", i, mark, show(stored), st.mark, st.wantStored)
		}
		for _, op := range stored {
			if op.Device != "tab" {
				t.Errorf("step %d: stored op names device %q, want the session's", i, op.Device)
			}
		}
	}
}

// testAppendNext: ops numbered by the store take the device's next free
// seqs (past a gap's held ops), with their records, and callers writing
// at once under one device id never take one seq twice.
func testAppendNext(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t, Config{})
	pushOps(t, s, "srv", Ops(1, 2, 5)...) // 5 held ahead of a gap
	next := func(n int, records func(store.Tx) error) ([]syncproto.Op, error) {
		ops := make([]syncproto.Op, n)
		for i := range ops {
			ops[i] = syncproto.Op{HLC: 5000, Kind: "test.op", Body: []byte(fmt.Sprintf(`{"i":%d}`, i))}
		}
		return s.AppendNext(ctx, "srv", ops, records)
	}
	stored, err := next(3, func(tx store.Tx) error { return tx.Put("outbox", "next", []byte("x")) })
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for i, op := range stored {
		seqs = append(seqs, op.Seq)
		if op.Device != "srv" || op.Global == 0 || string(op.Body) != fmt.Sprintf(`{"i":%d}`, i) {
			t.Errorf("stored op %d: %+v", i, op)
		}
	}
	if !slices.Equal(seqs, []uint64{3, 4, 6}) || markOf(t, s, "srv") != 6 {
		t.Fatalf("numbered %v, mark %d: want [3 4 6] past the held 5, mark 6", seqs, markOf(t, s, "srv"))
	}
	if err := s.View(func(tx store.Tx) error { _, err := tx.Get("outbox", "next"); return err }); err != nil {
		t.Fatalf("the records of a numbered batch: %v", err)
	}
	boom := errors.New("the records failed")
	if stored, err := next(2, func(store.Tx) error { return boom }); !errors.Is(err, boom) || len(stored) != 0 || markOf(t, s, "srv") != 6 {
		t.Fatalf("failing records: stored %d err %v mark %d, want nothing stored and the seqs not taken", len(stored), err, markOf(t, s, "srv"))
	}

	const writers, each = 8, 5
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range each {
				if stored, err := next(2, nil); err != nil || len(stored) != 2 || stored[1].Seq != stored[0].Seq+1 {
					t.Errorf("a concurrent numbered batch: %v, %+v", err, stored)
				}
			}
		})
	}
	wg.Wait()
	want := uint64(6 + writers*each*2)
	if m := markOf(t, s, "srv"); m != want {
		t.Fatalf("after %d concurrent batches the mark is %d, want %d: a batch was taken for another's resend", writers*each, m, want)
	}
	if n := len(all(t, s, store.FeedAll)); n != int(want) {
		t.Fatalf("%d ops held, want %d", n, want)
	}
}

func testMarks(t *testing.T, open Opener) {
	s := open(t, Config{})
	if m := markOf(t, s, "nobody"); m != 0 {
		t.Fatalf("mark of an unknown device = %d, want 0", m)
	}
	push(t, s, "a", 1, 2, 3)
	push(t, s, "b", 1, 3)
	tests := []struct {
		device string
		want   uint64
	}{{"a", 3}, {"b", 1}, {"c", 0}}
	for _, tt := range tests {
		if m := markOf(t, s, tt.device); m != tt.want {
			t.Errorf("Mark(%s) = %d, want %d", tt.device, m, tt.want)
		}
	}
}

func testLast(t *testing.T, open Opener) {
	s := open(t, Config{})
	if _, ok, err := s.Last("w"); err != nil || ok {
		t.Fatalf("Last of a device without ops: ok %v err %v", ok, err)
	}
	push(t, s, "w", 1, 2, 4)
	op, ok, err := s.Last("w")
	if err != nil || !ok || op.Seq != 2 || op.Device != "w" || op.HLC != 1002 || op.Global != 2 {
		t.Fatalf("Last = %+v %v %v, want seq 2 (the mark) of w at global 2", op, ok, err)
	}
}

func testAppendBatchRecords(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t, Config{})
	var seen []uint64
	records := func(tx store.Tx) error {
		seen = seen[:0]
		for i := uint64(1); i <= 3; i++ {
			if err := tx.Put("outbox", fmt.Sprintf("tab/%d", i), []byte("audited")); err != nil {
				return err
			}
			seen = append(seen, i)
		}
		return nil
	}
	mark, stored, err := s.AppendBatch(ctx, "tab", Ops(1, 2, 3), records)
	if err != nil || mark != 3 || len(stored) != 3 {
		t.Fatalf("AppendBatch: mark %d stored %d err %v", mark, len(stored), err)
	}
	// A resend runs records again; what it writes is keyed by the op, so
	// it stays written once.
	if _, stored, err := s.AppendBatch(ctx, "tab", Ops(1, 2, 3), records); err != nil || len(stored) != 0 {
		t.Fatalf("resend: stored %d err %v", len(stored), err)
	}
	var ids []string
	err = s.View(func(tx store.Tx) error {
		ids = ids[:0]
		return tx.Each("outbox", func(id string, v []byte) error {
			ids = append(ids, id+"="+string(v))
			return nil
		})
	})
	if err != nil || fmt.Sprint(ids) != "[tab/1=audited tab/2=audited tab/3=audited]" {
		t.Fatalf("records beside the ops: %v %v", ids, err)
	}
	// Records may read what earlier commits wrote.
	_, _, err = s.AppendBatch(ctx, "tab", Ops(4), func(tx store.Tx) error {
		v, err := tx.Get("outbox", "tab/3")
		if err != nil {
			return err
		}
		return tx.Put("outbox", "tab/4", append(v, '!'))
	})
	if err != nil {
		t.Fatal(err)
	}
	s.View(func(tx store.Tx) error {
		if v, err := tx.Get("outbox", "tab/4"); err != nil || string(v) != "audited!" {
			t.Errorf("record written from a read in the batch: %q %v", v, err)
		}
		return nil
	})
}

func testFailingRecords(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t, Config{})
	push(t, s, "tab", 1)
	changed := s.Changed(store.FeedAll)
	boom := errors.New("the records failed")
	_, stored, err := s.AppendBatch(ctx, "tab", Ops(2, 3), func(tx store.Tx) error {
		if err := tx.Put("outbox", "half", []byte("x")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) || len(stored) != 0 {
		t.Fatalf("AppendBatch with failing records: stored %d err %v, want none and the records' error wrapped", len(stored), err)
	}
	if s.Head() != 1 || markOf(t, s, "tab") != 1 || len(all(t, s, store.FeedAll)) != 1 {
		t.Fatalf("a failed batch left ops behind: head %d", s.Head())
	}
	s.View(func(tx store.Tx) error {
		if _, err := tx.Get("outbox", "half"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a failed batch left its record: %v", err)
		}
		return nil
	})
	select {
	case <-changed:
		t.Fatal("a failed batch woke the readers")
	default:
	}
	// The store keeps working, and the same seqs go in afterwards.
	if mark := push(t, s, "tab", 2, 3); mark != 3 || s.Head() != 3 {
		t.Fatalf("after a failed batch: mark %d head %d, want 3 3", mark, s.Head())
	}
}

func testSinceBounds(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t, Config{})
	big := make([]syncproto.Op, 5)
	for i := range big {
		big[i] = syncproto.Op{Seq: uint64(i + 1), HLC: 1, Kind: "test.op", Body: []byte(`{"pad":"` + strings.Repeat("x", 1000) + `"}`)}
	}
	if _, _, err := s.AppendNew(ctx, "d", big); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		after         uint64
		limit         int
		maxBytes      int
		min, max      int
		firstGlobalIs uint64
	}{
		{1, 2, 1 << 20, 2, 2, 2},  // limit
		{0, 10, 1, 1, 1, 1},       // a budget below one op still returns one
		{0, 10, 2500, 1, 3, 1},    // about the budget
		{0, 10, 1 << 20, 5, 5, 1}, // everything
		{3, 10, 1 << 20, 2, 2, 4}, // after
		{5, 10, 1 << 20, 0, 0, 0}, // nothing after the head
	}
	for _, tt := range tests {
		got, err := s.Since(store.FeedAll, tt.after, tt.limit, tt.maxBytes)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) < tt.min || len(got) > tt.max || (len(got) > 0 && got[0].Global != tt.firstGlobalIs) {
			t.Errorf("Since(all, %d, %d, %d) returned %d ops, want %d..%d from %d", tt.after, tt.limit, tt.maxBytes, len(got), tt.min, tt.max, tt.firstGlobalIs)
		}
		for i := 1; i < len(got); i++ {
			if got[i].Global <= got[i-1].Global {
				t.Errorf("Since out of order: %d after %d", got[i].Global, got[i-1].Global)
			}
		}
	}
}

// evenFeeds puts even seqs in feeds "even" and "n", odd ones in "n".
func evenFeeds(op syncproto.Op) []string {
	if op.Seq%2 == 0 {
		return []string{"even", "n"}
	}
	return []string{"n"}
}

func testFeeds(t *testing.T, open Opener) {
	s := open(t, Config{Feeds: evenFeeds})
	push(t, s, "tab-a", 1, 2, 3, 4, 5, 6)
	push(t, s, "tab-a", 2, 4) // resends index nothing twice
	seqs := func(feed string, after uint64, limit int) string {
		got, err := s.Since(feed, after, limit, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		out := []uint64{}
		for _, op := range got {
			out = append(out, op.Seq)
		}
		return fmt.Sprint(out)
	}
	tests := []struct {
		feed  string
		after uint64
		limit int
		want  string
	}{
		{"even", 0, 10, "[2 4 6]"},
		{"even", 2, 10, "[4 6]"},
		{"even", 0, 2, "[2 4]"},
		{"n", 0, 10, "[1 2 3 4 5 6]"},
		{"none", 0, 10, "[]"},
		{"eve", 0, 10, "[]"}, // a prefix of another feed's name is not that feed
		{store.FeedAll, 4, 10, "[5 6]"},
	}
	for _, tt := range tests {
		if got := seqs(tt.feed, tt.after, tt.limit); got != tt.want {
			t.Errorf("Since(%s, %d, %d) = %s, want %s", tt.feed, tt.after, tt.limit, got, tt.want)
		}
	}
}

// testAppendRouted: feeds the caller read are the ops' feeds as given,
// even where the store's own Feeds would say otherwise; a nil entry is
// read by the store; a list per op or nothing is stored.
func testAppendRouted(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t, Config{Feeds: evenFeeds})
	if _, _, err := s.AppendRouted(ctx, "tab", Ops(1, 2), [][]string{{"x"}}, nil); !errors.Is(err, store.ErrRouting) || s.Head() != 0 {
		t.Fatalf("AppendRouted with one list for two ops: err %v head %d, want ErrRouting and nothing stored", err, s.Head())
	}
	changed := s.Changed("x")
	mark, stored, err := s.AppendRouted(ctx, "tab", Ops(1, 2, 3, 4), [][]string{{"x"}, nil, {}, {"x", "n"}}, nil)
	if err != nil || mark != 4 || len(stored) != 4 {
		t.Fatalf("AppendRouted: mark %d stored %d err %v", mark, len(stored), err)
	}
	if !closedWithin(changed, wait) {
		t.Fatal("a routed op did not wake its feed's readers")
	}
	for feed, want := range map[string]string{"x": "[1 4]", "even": "[2]", "n": "[2 4]", store.FeedAll: "[1 2 3 4]"} {
		got, err := s.Since(feed, 0, 10, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		seqs := []uint64{}
		for _, op := range got {
			seqs = append(seqs, op.Seq)
		}
		if fmt.Sprint(seqs) != want {
			t.Errorf("feed %s = %v, want %s", feed, seqs, want)
		}
	}
}

func closedWithin(ch <-chan struct{}, d time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return false
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func testChanged(t *testing.T, open Opener) {
	s := open(t, Config{Feeds: evenFeeds})
	even, n, everything := s.Changed("even"), s.Changed("n"), s.Changed(store.FeedAll)
	if isClosed(even) || isClosed(n) || isClosed(everything) {
		t.Fatal("Changed closed before any commit")
	}
	push(t, s, "tab", 1)
	if !closedWithin(n, wait) || !closedWithin(everything, wait) {
		t.Fatal(`an op of feed "n" did not wake the waiters on "n" and on all`)
	}
	if isClosed(even) {
		t.Fatal(`an op of feed "n" only woke the waiter on "even"`)
	}
	// A resend adds nothing: no wake-up.
	n = s.Changed("n")
	push(t, s, "tab", 1)
	if isClosed(n) || isClosed(even) {
		t.Fatal("a resend that stored nothing woke a waiter")
	}
	push(t, s, "tab", 2)
	if !closedWithin(even, wait) || !closedWithin(n, wait) {
		t.Fatal(`an op of feed "even" did not wake its waiter`)
	}
	// The op is readable once the wake-up came.
	if got := since(t, s, "even", 0, 10, 1<<20); len(got) != 1 || got[0].Seq != 2 || s.Head() != 2 {
		t.Fatalf("after the wake-up: %+v head %d", got, s.Head())
	}
}

func testEpoch(t *testing.T, open Opener) {
	a, b := open(t, Config{}), open(t, Config{})
	if a.Epoch() == "" || a.Epoch() != a.Epoch() {
		t.Fatalf("epoch %q: want a stable name", a.Epoch())
	}
	if a.Epoch() == b.Epoch() {
		t.Fatalf("two new stores share the epoch %q", a.Epoch())
	}
	push(t, a, "d", 1)
	if a.Epoch() != a.Epoch() || a.Epoch() == "" {
		t.Fatal("the epoch changed with an append")
	}
}

func testRecords(t *testing.T, open Opener) {
	s := open(t, Config{})
	err := s.Update(func(tx store.Tx) error {
		for _, id := range []string{"b", "a"} {
			if err := tx.Put("device", id, []byte("v"+id)); err != nil {
				return err
			}
		}
		if err := tx.Put("dev", "ice", []byte("a kind that prefixes another")); err != nil {
			return err
		}
		return tx.Put("code", "a", []byte("other kind"))
	})
	if err != nil {
		t.Fatal(err)
	}
	each := func(tx store.Tx, kind string) string {
		var got []string
		if err := tx.Each(kind, func(id string, v []byte) error {
			got = append(got, id+"="+string(v))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(got)
	}
	err = s.View(func(tx store.Tx) error {
		if _, err := tx.Get("device", "zzz"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(missing) = %v, want ErrNotFound", err)
		}
		if v, err := tx.Get("code", "a"); err != nil || string(v) != "other kind" {
			t.Errorf("Get(code, a) = %q %v", v, err)
		}
		if got := each(tx, "device"); got != "[a=va b=vb]" {
			t.Errorf("Each(device) = %s", got)
		}
		if got := each(tx, "dev"); got != "[ice=a kind that prefixes another]" {
			t.Errorf("Each(dev) = %s", got)
		}
		if got := each(tx, "nothing"); got != "[]" {
			t.Errorf("Each(nothing) = %s", got)
		}
		id, v, err := tx.Last("device")
		if err != nil || id != "b" || string(v) != "vb" {
			t.Errorf("Last(device) = %s %q %v", id, v, err)
		}
		if _, _, err := tx.Last("nothing"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Last(nothing) = %v, want ErrNotFound", err)
		}
		stop := errors.New("enough")
		calls := 0
		if err := tx.Each("device", func(string, []byte) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
			t.Errorf("Each with fn failing: %v after %d calls, want its error after 1", err, calls)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Overwrite, delete (a missing record is no error), binary values.
	binary := []byte{0, 1, 2, 0xff, 0}
	err = s.Update(func(tx store.Tx) error {
		if err := tx.Put("device", "a", binary); err != nil {
			return err
		}
		if err := tx.Delete("device", "b"); err != nil {
			return err
		}
		if err := tx.Delete("device", "never"); err != nil {
			return fmt.Errorf("deleting a missing record: %w", err)
		}
		// Read your own writes inside the transaction.
		if _, err := tx.Get("device", "b"); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("a deleted record is still there in its transaction: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.View(func(tx store.Tx) error {
		if v, err := tx.Get("device", "a"); err != nil || !bytes.Equal(v, binary) {
			t.Errorf("binary value came back as %x %v", v, err)
		}
		if got := each(tx, "device"); got != fmt.Sprint([]string{"a=" + string(binary)}) {
			t.Errorf("after delete: %q", got)
		}
		return nil
	})
	// A failed update leaves nothing.
	boom := errors.New("no")
	if err := s.Update(func(tx store.Tx) error { tx.Put("device", "z", nil); return boom }); !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	s.View(func(tx store.Tx) error {
		if _, err := tx.Get("device", "z"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a failed update left its write: %v", err)
		}
		return nil
	})
	// Private records are never ops: no feed serves them.
	if got := all(t, s, store.FeedAll); len(got) != 0 {
		t.Fatalf("private records leaked into the log: %+v", got)
	}
}

// testByteOrder: Each and Last order ids by their bytes, whatever the
// engine's collation: the audit chain's ids and the ledger's depend on it.
func testByteOrder(t *testing.T, open Opener) {
	s := open(t, Config{})
	ids := []string{"é", "a", "B", "10", "9", "a b", "a-b", "ab", "Z", "ｱ", "a\x7f"}
	err := s.Update(func(tx store.Tx) error {
		for _, id := range ids {
			if err := tx.Put("k", id, []byte(id)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(ids)
	slices.Sort(want) // Go compares strings bytewise
	var got []string
	s.View(func(tx store.Tx) error {
		err := tx.Each("k", func(id string, v []byte) error {
			if string(v) != id {
				t.Errorf("record %q holds %q", id, v)
			}
			got = append(got, id)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if id, _, err := tx.Last("k"); err != nil || id != want[len(want)-1] {
			t.Errorf("Last = %q %v, want %q", id, err, want[len(want)-1])
		}
		return nil
	})
	if !slices.Equal(got, want) {
		t.Fatalf("Each order %q, want byte order %q", got, want)
	}
}

// testUpdateAtomic: read-check-write transactions racing on one record:
// a one-time code is consumed once, and a counter loses no increment.
func testUpdateAtomic(t *testing.T, open Opener) {
	s := open(t, Config{})
	if err := s.Update(func(tx store.Tx) error { return tx.Put("code", "a", []byte("once")) }); err != nil {
		t.Fatal(err)
	}
	const racers = 12
	var wg sync.WaitGroup
	var mu sync.Mutex
	winners := 0
	for range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Update(func(tx store.Tx) error {
				if _, err := tx.Get("code", "a"); err != nil {
					return err
				}
				return tx.Delete("code", "a")
			})
			if err == nil {
				mu.Lock()
				winners++
				mu.Unlock()
			} else if !errors.Is(err, store.ErrNotFound) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if winners != 1 {
		t.Fatalf("%d updates consumed one code, want 1", winners)
	}
	// A chain: each update reads the last link and appends the next, as
	// the audit chain does; no two may claim the same place, and none
	// fails for having raced.
	for range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				err := s.Update(func(tx store.Tx) error {
					n := 0
					if id, _, err := tx.Last("chain"); err == nil {
						if n, err = strconv.Atoi(id); err != nil {
							return fmt.Errorf("link id %q: %w", id, err)
						}
					} else if !errors.Is(err, store.ErrNotFound) {
						return err
					}
					// The seam promises conflicts on what Get read, a
					// missing record included (Badger sees no phantom
					// in a range read): read the slot, as audit does.
					next := fmt.Sprintf("%08d", n+1)
					if _, err := tx.Get("chain", next); !errors.Is(err, store.ErrNotFound) {
						return fmt.Errorf("link %s exists already: %v", next, err)
					}
					return tx.Put("chain", next, []byte("link"))
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	links := 0
	s.View(func(tx store.Tx) error {
		return tx.Each("chain", func(string, []byte) error { links++; return nil })
	})
	if links != racers*5 {
		t.Fatalf("%d links after %d appends: concurrent updates overwrote each other", links, racers*5)
	}
}

func testErasure(t *testing.T, open Opener) {
	rec := func(op syncproto.Op) (string, bool) {
		var b struct{ Rec string }
		json.Unmarshal(op.Body, &b)
		return b.Rec, op.Kind == "rec.erase"
	}
	s := open(t, Config{
		Feeds: func(op syncproto.Op) []string {
			if op.Kind == "other.note" {
				return []string{"elsewhere"}
			}
			return []string{"recs"}
		},
		Erasure: &store.Erasure{Record: rec, Redact: func(op syncproto.Op) syncproto.Op {
			op.Kind, op.Body = "rec.erased", []byte(`{"gone":true}`)
			return op
		}},
	})
	op := func(seq uint64, kind, r string) syncproto.Op {
		return syncproto.Op{Seq: seq, HLC: seq, Kind: kind, Body: []byte(fmt.Sprintf(`{"rec":%q,"face":"secret"}`, r))}
	}
	pushOps(t, s, "desk", op(1, "rec.put", "a"), op(2, "rec.put", "b"), op(3, "other.note", "a"), op(4, "rec.put", "a"))
	// The erasure and the record's next op in one batch.
	pushOps(t, s, "desk", op(5, "rec.erase", "a"), op(6, "rec.put", "a"))
	want := map[uint64]string{1: "rec.erased", 2: "rec.put", 3: "other.note", 4: "rec.erased", 5: "rec.erase", 6: "rec.put"}
	got := all(t, s, store.FeedAll)
	if len(got) != 6 {
		t.Fatalf("%d ops, want 6", len(got))
	}
	for _, o := range got {
		if o.Kind != want[o.Seq] || o.Global != o.Seq || o.Device != "desk" {
			t.Errorf("op %d: kind %s global %d device %s, want %s global %d", o.Seq, o.Kind, o.Global, o.Device, want[o.Seq], o.Seq)
		}
		if o.Kind == "rec.erased" && bytes.Contains(o.Body, []byte("secret")) {
			t.Errorf("op %d still holds the data: %s", o.Seq, o.Body)
		}
	}
	if recs := all(t, s, "recs"); len(recs) != 5 {
		t.Fatalf("feed recs holds %d ops, want 5 (the redacted ones keep their place)", len(recs))
	}
	if m := markOf(t, s, "desk"); m != 6 {
		t.Fatalf("mark %d after erasure, want 6", m)
	}
}

// testConcurrent: many devices push at once, with resends; the global
// sequence is gapless, each op is held once, and each device's ops keep
// their order.
// FullPush returns n ops whose encoded push is just under
// syncproto.MaxFrameSize: the largest push a session accepts.
func FullPush(t testing.TB, n int) []syncproto.Op {
	t.Helper()
	body := fmt.Sprintf(`{"note":%q}`, strings.Repeat("あ", (syncproto.MaxFrameSize/n-120)/3))
	ops := make([]syncproto.Op, n)
	for i := range ops {
		ops[i] = syncproto.Op{Seq: uint64(i + 1), HLC: uint64(i + 1), Kind: "shelter.note", Body: []byte(body)}
	}
	frame, err := syncproto.Encode(&syncproto.Push{Ops: ops})
	if err != nil {
		t.Fatal(err)
	}
	if len(frame) > syncproto.MaxFrameSize || len(frame) < syncproto.MaxFrameSize*9/10 {
		t.Fatalf("a full push encodes to %d bytes, want just under %d", len(frame), syncproto.MaxFrameSize)
	}
	return ops
}

// testFullPushes: eight devices push a full frame each at once, more
// than one transaction of an engine may hold together; every push is
// acknowledged and stored.
func testFullPushes(t *testing.T, open Opener) {
	s := open(t, Config{Feeds: evenFeeds})
	const devices = 8
	ops := FullPush(t, syncproto.MaxOpsPerPush)
	var wg sync.WaitGroup
	for d := range devices {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dev := fmt.Sprintf("dev-%d", d)
			if mark, _, err := s.AppendNew(context.Background(), dev, ops); err != nil || mark != uint64(len(ops)) {
				t.Errorf("%s: mark %d, %v; want %d", dev, mark, err, len(ops))
			}
		}()
	}
	wg.Wait()
	if got, want := s.Head(), uint64(devices*len(ops)); got != want {
		t.Fatalf("head %d, want %d", got, want)
	}
}

// testPullFitsAFrame: ops whose bodies are mostly characters that JSON
// encoders escape (each < becomes six bytes), pulled with the hub's
// budget of half a frame's bytes, encode to frames the protocol accepts.
// A store that counted fewer bytes than Encode writes made the hub fail
// every pull of the feed past such ops, for good.
func testPullFitsAFrame(t *testing.T, open Opener) {
	s := open(t, Config{})
	body := []byte(`"` + strings.Repeat("<", 12<<10) + `"`)
	const n = 60
	for first := uint64(1); first <= n; first += 20 {
		var ops []syncproto.Op
		for seq := first; seq < first+20; seq++ {
			ops = append(ops, syncproto.Op{Seq: seq, HLC: seq, Kind: "test.op", Body: body})
		}
		if _, _, err := s.AppendNew(context.Background(), "dev-a", ops); err != nil {
			t.Fatal(err)
		}
	}
	for after := uint64(0); after < n; {
		got := since(t, s, store.FeedAll, after, syncproto.MaxOpsPerPush, syncproto.MaxFrameSize/2)
		if len(got) == 0 {
			t.Fatalf("no ops after %d of %d", after, n)
		}
		after = got[len(got)-1].Global
		if _, err := syncproto.Encode(&syncproto.Ops{Feed: store.FeedAll, Ops: got, Cursor: after}); err != nil {
			t.Fatalf("a pull of %d ops does not fit a frame: %v", len(got), err)
		}
	}
}

func testConcurrent(t *testing.T, open Opener) {
	s := open(t, Config{Feeds: evenFeeds})
	const devices, batches, perBatch = 40, 5, 4
	var wg sync.WaitGroup
	for d := range devices {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dev := fmt.Sprintf("dev-%d", d)
			for b := range batches {
				var seqs []uint64
				for i := range perBatch {
					seqs = append(seqs, uint64(b*perBatch+i+1))
				}
				if b > 0 {
					seqs = append(seqs, uint64(b*perBatch)) // a resend of the last op
				}
				mark, _, err := s.AppendNew(context.Background(), dev, Ops(seqs...))
				if err != nil {
					t.Error(err)
					return
				}
				if mark != uint64((b+1)*perBatch) {
					t.Errorf("%s: mark %d after batch %d", dev, mark, b)
					return
				}
			}
		}()
	}
	wg.Wait()
	got := all(t, s, store.FeedAll)
	if len(got) != devices*batches*perBatch || s.Head() != uint64(len(got)) {
		t.Fatalf("%d ops stored, head %d, want %d", len(got), s.Head(), devices*batches*perBatch)
	}
	last := map[string]uint64{}
	for i, op := range got {
		if op.Global != uint64(i+1) {
			t.Fatalf("global sequence has a gap at %d: %d", i, op.Global)
		}
		if op.Seq != last[op.Device]+1 {
			t.Fatalf("device %s: seq %d after %d", op.Device, op.Seq, last[op.Device])
		}
		last[op.Device] = op.Seq
	}
	if n := len(all(t, s, "even")); n != len(got)/2 {
		t.Fatalf("feed even holds %d ops, want %d", n, len(got)/2)
	}
}

func testErrors(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t, Config{})
	if _, _, err := s.AppendNew(ctx, "bad/id", Ops(1)); err == nil {
		t.Fatal("an append with an invalid device id succeeded")
	}
	if _, _, err := s.AppendNew(ctx, "d", []syncproto.Op{{Seq: 1, Kind: "test.op"}, {Kind: "test.op"}}); !errors.Is(err, store.ErrNoSeq) {
		t.Fatalf("an append with an op of seq 0 = %v, want ErrNoSeq", err)
	}
	if s.Head() != 0 {
		t.Fatal("a refused append stored something")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AppendNew(ctx, "d", Ops(1)); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("append after Close = %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("a second Close: %v", err)
	}
}
