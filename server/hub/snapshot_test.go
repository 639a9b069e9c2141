package hub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/state"
	"smartpass.city/smartpass/app/synclog"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/server/hub"
	"smartpass.city/smartpass/syncproto"
	"smartpass.city/smartpass/syncproto/wsconn"
)

const park = "kaga-playpark"

// seedTemplates has the city desk record n templates for the play park,
// then replace every tenth and delete every seventh, plus a few for
// another facility. It returns the ops pushed.
func seedTemplates(t *testing.T, s *server, n int) int {
	t.Helper()
	key := s.enroll(t, "desk", "kaga-hq", scope.Registrar)
	vec := make([]float32, 128)
	var ops []syncproto.Op
	add := func(kind string, body any) {
		b, _ := json.Marshal(body)
		ops = append(ops, syncproto.Op{Seq: uint64(len(ops) + 1), HLC: uint64(len(ops) + 1), Kind: kind, Body: b})
	}
	put := func(i int, facilities ...string) {
		vec[i%128] += 1
		add(template.OpPut, template.Template{Resident: fmt.Sprintf("r%05d", i), Model: "test-128", Facilities: facilities, Vec: template.Pack(vec)})
	}
	for i := range n {
		put(i, park)
	}
	for i := 0; i < n; i += 10 {
		put(i, park)
	}
	for i := 0; i < n; i += 7 {
		add(template.OpDelete, template.Delete{Resident: fmt.Sprintf("r%05d", i), Facilities: []string{park}})
	}
	for i := range 20 {
		put(n+i, "kaga-medical")
	}
	if err := wsconn.PushAll(context.Background(), s.url, "desk", key, ops); err != nil {
		t.Fatal(err)
	}
	return len(ops)
}

// cutter passes frames through, but cuts the chunk with index cut short on
// the first connection only, and records the Pull frames the device sent.
type cutter struct {
	synclog.Conn
	cut     uint64
	once    *atomic.Bool
	mu      *sync.Mutex
	pulls   *[]syncproto.Pull
	reports *[]syncproto.Error // the Error frames the device sent
}

func (c cutter) Send(ctx context.Context, b []byte) error {
	if f, err := syncproto.Decode(b); err == nil {
		c.mu.Lock()
		switch f := f.(type) {
		case *syncproto.Pull:
			*c.pulls = append(*c.pulls, *f)
		case *syncproto.Error:
			*c.reports = append(*c.reports, *f)
		}
		c.mu.Unlock()
	}
	return c.Conn.Send(ctx, b)
}

func (c cutter) Recv(ctx context.Context) ([]byte, error) {
	b, err := c.Conn.Recv(ctx)
	if err != nil {
		return b, err
	}
	if f, derr := syncproto.Decode(b); derr == nil {
		if ch, ok := f.(*syncproto.Chunk); ok && ch.Index == c.cut && c.once.CompareAndSwap(false, true) {
			return b[:len(b)/2], nil
		}
	}
	return b, nil
}

func TestSnapshotBootstrapResumes(t *testing.T) {
	s := start(t, hub.Options{})
	const n = 6000
	seedTemplates(t, s, n)
	want := state.Fold(mustSince(t, s, scope.TemplateFeed(park))).Templates
	if len(want) == 0 {
		t.Fatal("no templates to bootstrap")
	}

	key := s.enroll(t, "park-1", park, scope.PlayPark)
	var once atomic.Bool
	var mu sync.Mutex
	var pulls []syncproto.Pull
	var reports []syncproto.Error
	dial := func(ctx context.Context) (synclog.Conn, error) {
		c, err := wsconn.Dial(ctx, s.url)
		if err != nil {
			return nil, err
		}
		return cutter{Conn: c, cut: 1, once: &once, mu: &mu, pulls: &pulls, reports: &reports}, nil
	}
	store := synclog.NewMemStore("park-1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e, err := synclog.New(ctx, store, dial, synclog.Options{Signer: key, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	go e.Run(ctx)
	feed := scope.TemplateFeed(park)
	waitFor(t, "the snapshot to complete", func() bool {
		c, _ := store.Cursor(ctx, feed)
		return c != 0
	})
	if !once.Load() {
		t.Fatal("the test never cut a chunk: the snapshot had a single chunk")
	}
	// The device tells the server why it dropped the session. (Whether
	// the server reads that report depends on the failing link: here its
	// writer may hit the closed socket first. TestDeviceReportIsLogged
	// checks the server's side on a link that holds.)
	mu.Lock()
	reported := slices.ContainsFunc(reports, func(e syncproto.Error) bool { return e.Code == syncproto.CodeMalformed })
	mu.Unlock()
	if !reported {
		t.Fatalf("the device did not report the cut chunk: it sent %+v", reports)
	}
	ops, _ := store.All(ctx)
	got := state.Fold(ops).Templates
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("the terminal holds %d templates, the server's feed folds to %d", len(got), len(want))
	}
	// Compacted: replaced and deleted templates did not travel as puts.
	puts := 0
	for _, op := range ops {
		if op.Kind == template.OpPut {
			puts++
		}
	}
	if puts != len(want) {
		t.Fatalf("the terminal stored %d template puts for %d templates: the snapshot was not compacted", puts, len(want))
	}
	// The second session resumed at chunk 1 of the same snapshot.
	mu.Lock()
	defer mu.Unlock()
	var snaps []syncproto.Pull
	for _, p := range pulls {
		if p.Feed == feed {
			snaps = append(snaps, p)
		}
	}
	if len(snaps) < 2 || !snaps[0].Snapshot || snaps[0].ResumeAt != 0 || snaps[1].ResumeFrom != 1 || snaps[1].ResumeAt == 0 {
		t.Fatalf("template pulls = %+v, want a fresh snapshot, then a resume from chunk 1", snaps)
	}
	// Live: a template recorded now reaches the terminal by the feed.
	d := raw(t, s, "desk")
	b, _ := json.Marshal(template.Template{Resident: "r-new", Model: "test-128", Facilities: []string{park}, Vec: template.Pack([]float32{1, 2})})
	mark, _ := s.log.Mark("desk")
	sendFrame(t, d, &syncproto.Push{Ops: []syncproto.Op{{Seq: mark + 1, HLC: mark + 1, Kind: template.OpPut, Body: b}}})
	waitFor(t, "the new template to arrive live", func() bool {
		ops, _ := store.All(ctx)
		_, ok := state.Fold(ops).Templates["r-new"]
		return ok
	})
}

func mustSince(t *testing.T, s *server, feed string) []syncproto.Op {
	t.Helper()
	ops, err := s.log.Since(feed, 0, 1<<20, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	return ops
}

func TestSnapshotRefusals(t *testing.T) {
	s := start(t, hub.Options{})
	s.enroll(t, "park-2", park, scope.PlayPark)
	c := raw(t, s, "park-2")
	for _, tc := range []struct {
		name string
		pull syncproto.Pull
	}{
		{"snapshot of a cursor feed", syncproto.Pull{Feed: scope.FacilityFeed(park), Snapshot: true}},
		{"snapshot with a cursor", syncproto.Pull{Feed: scope.TemplateFeed(park), Snapshot: true, After: 3}},
		{"resume of another history", syncproto.Pull{Feed: scope.TemplateFeed(park), Snapshot: true, ResumeAt: 1 << 40, ResumeFrom: 1}},
	} {
		sendFrame(t, c, &tc.pull)
		wantError(t, c, syncproto.CodeInvalid, false)
	}
	// A chunk that does not exist.
	sendFrame(t, c, &syncproto.Pull{Feed: scope.TemplateFeed(park), Snapshot: true, ResumeAt: s.log.Head(), ResumeFrom: 5})
	wantError(t, c, syncproto.CodeInvalid, false)
	// A device may not send chunks.
	sendFrame(t, c, &syncproto.Chunk{Feed: scope.TemplateFeed(park), At: 1})
	wantError(t, c, syncproto.CodeSequence, false)
}

// TestDeviceReportIsLogged: an Error frame a device sends (a chunk it
// could not read) is logged where staff look, and the session goes on.
func TestDeviceReportIsLogged(t *testing.T) {
	s := start(t, hub.Options{})
	c := raw(t, s, "tab-report")
	sendFrame(t, c, &syncproto.Error{Code: syncproto.CodeMalformed, Message: "chunk 1 cut short", Fatal: false})
	waitFor(t, "the device's report in the server's log", func() bool {
		l := s.logs.String()
		return strings.Contains(l, `msg="sync: device reported an error"`) && strings.Contains(l, "device=tab-report") && strings.Contains(l, "code=malformed")
	})
	// Not fatal: the same session still takes the device's ops.
	sendFrame(t, c, &syncproto.Push{Ops: []syncproto.Op{checkInOp(daishoji, 1)}})
	if a, ok := recvFrame(t, c).(*syncproto.Ack); !ok || a.Acked != 1 {
		t.Fatalf("after a non-fatal report the server answered %+v", a)
	}
}
