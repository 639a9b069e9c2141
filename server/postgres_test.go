package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/server/serverproc"
	"smartpass.city/smartpass/server/store/pgtest"
	"smartpass.city/smartpass/syncproto"
	"smartpass.city/smartpass/syncproto/wsconn"
)

// TestTwoServersOnePostgresTenant: two server processes serve one tenant
// of one PostgreSQL cluster (-store, -tenant). A tablet enrolled through
// one pushes through the other; each serves what the other stored, a
// resend through the first is acknowledged, not stored again, and a
// revocation through one refuses the tablet at the other.
func TestTwoServersOnePostgresTenant(t *testing.T) {
	c := pgtest.Start(t)
	url := c.URL("postgres")
	keyFile := filepath.Join(t.TempDir(), "store.key") // one key for the tenant, created by the first server
	start := func(demo bool) *serverproc.Proc {
		args := []string{"-data", t.TempDir(), "-key-file", keyFile, "-store", url, "-tenant", "kaga", "-dev"}
		if demo {
			args = append(args, "-demo")
		}
		p := startServer(t, serverproc.FreeAddr(t), args...)
		p.WaitHealthy(t)
		return p
	}
	one := start(true)
	two := start(false)
	key := one.Enroll(t, "tab-pg", testShelter, "shelter")

	conn, w := serverproc.Dial(t, two.Addr, "tab-pg", key)
	if w.Head != demoHead || w.Acked != 0 {
		t.Fatalf("welcome from the second server: head %d acked %d, want %d 0", w.Head, w.Acked, demoHead)
	}
	conn.Send(&syncproto.Push{Ops: testOps(1, 10)})
	if a, ok := conn.Recv().(*syncproto.Ack); !ok || a.Acked != 10 {
		t.Fatal("no ack from the second server")
	}
	conn.Conn().Close()

	// The first server learns the head by notification (or its poll).
	count := func(p *serverproc.Proc, want int) int {
		deadline := time.Now().Add(10 * time.Second)
		for {
			n := p.Count(t, shelter.OpEvacueeAdd)
			if n == want || time.Now().After(deadline) {
				return n
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if n := count(one, 10); n != 10 {
		t.Fatalf("the first server serves %d of the 10 check-ins the second stored", n)
	}
	conn, w = serverproc.Dial(t, one.Addr, "tab-pg", key)
	if w.Acked != 10 {
		t.Fatalf("the first server's welcome acks %d, want 10", w.Acked)
	}
	conn.Send(&syncproto.Push{Ops: testOps(5, 12)}) // 5..10 again
	if a, ok := conn.Recv().(*syncproto.Ack); !ok || a.Acked != 12 {
		t.Fatal("no ack for the resend from the first server")
	}
	conn.Conn().Close()
	if n := count(two, 12); n != 12 {
		t.Fatalf("the second server serves %d check-ins, want 12, each once", n)
	}
	// A revocation through one server ends the tablet's live session at
	// the other (its recheck) and refuses it there from then on.
	live, _ := serverproc.Dial(t, two.Addr, "tab-pg", key)
	one.Revoke(t, "tab-pg")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		if _, err := live.Conn().Recv(ctx); err != nil {
			if ctx.Err() != nil {
				t.Fatal("the second server kept the revoked tablet's session open")
			}
			break
		}
	}
	ws, err := wsconn.Dial(context.Background(), "ws://"+two.Addr+"/sync")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if _, err := syncproto.Handshake(context.Background(), ws, "tab-pg", "test", key); err == nil {
		t.Fatal("the second server let in a tablet the first revoked")
	}
	for _, p := range []*serverproc.Proc{one, two} {
		ops := p.Ops(t)
		for i, op := range ops {
			if op.Global != uint64(i+1) {
				t.Fatalf("%s: op %d has global %d: a gap or a double", p.Addr, i, op.Global)
			}
		}
	}
}
