package pgstore

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/server/store/pgtest"
	"smartpass.city/smartpass/server/store/storetest"
	"smartpass.city/smartpass/syncproto"
)

// exec runs SQL on the test cluster, as an operator or an older server
// would.
func exec(t *testing.T, url, sql string, args ...any) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// count returns the single integer sql returns.
func count(t *testing.T, url, sql string, args ...any) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// TestRecordIndexOfAnOlderDatabase: ops written without their rec (by a
// server from before the record index, on the schema it had; or by a
// store opened without an erasure) get it at the next Open with an
// erasure, so an erasure still reaches them; that Open marks the tenant
// indexed, so the one after reads no op.
func TestRecordIndexOfAnOlderDatabase(t *testing.T) {
	c := pgtest.Start(t)
	url := c.URL("postgres")
	cfg := storetest.RecConfig()
	tests := []struct {
		name   string
		tenant string
		// older makes the tenant's database as a server before the index
		// left it, once its ops are written.
		older func(t *testing.T)
	}{
		{"the schema before the index", "kaga", func(t *testing.T) {
			exec(t, url, "ALTER TABLE ops DROP COLUMN rec; ALTER TABLE tenants DROP COLUMN rec_indexed")
		}},
		{"written by a store without an erasure", "nomi", func(t *testing.T) {
			if n := count(t, url, "SELECT count(*) FROM ops o JOIN tenants t ON t.id = o.tenant WHERE t.name = 'nomi' AND o.rec IS NOT NULL"); n != 0 {
				t.Fatalf("%d ops carry a rec, written without an erasure", n)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := testKey(t)
			s := openTenant(t, url, Options{Tenant: tt.tenant, Key: key, Feeds: cfg.Feeds})
			storetest.WriteOlderLog(t, s)
			s.Close()
			tt.older(t)
			s = openTenant(t, url, Options{Tenant: tt.tenant, Key: key, Feeds: cfg.Feeds, Erasure: cfg.Erasure})
			if n := count(t, url, "SELECT count(*) FROM ops o JOIN tenants t ON t.id = o.tenant WHERE t.name = $1 AND o.rec IS NOT NULL AND t.rec_indexed", tt.tenant); n != 2500 {
				t.Fatalf("%d ops indexed at Open, want 2500 and the tenant marked", n)
			}
			storetest.EraseInAnOlderLog(t, s)
			if again := openTenant(t, url, Options{Tenant: tt.tenant, Key: key, Feeds: cfg.Feeds, Erasure: cfg.Erasure}); again.backfill {
				t.Fatal("the Open after the backfill backfills again")
			}
		})
	}
}

// TestEraseChecksTheRecord: an op whose rec matches the erased record's
// but which is about another record (a hash collision, made here by
// copying the rec) is read and passed over, not redacted; ops about
// records without an erasure keep their rec, and a redacted op's rec
// follows its new record (none, here).
func TestEraseChecksTheRecord(t *testing.T) {
	c := pgtest.Start(t)
	url := c.URL("postgres")
	cfg := storetest.RecConfig()
	s := openTenant(t, url, Options{Tenant: "kaga", Feeds: cfg.Feeds, Erasure: cfg.Erasure})
	ctx := context.Background()
	put := []syncproto.Op{storetest.RecOp(1, "rec.put", "a"), storetest.RecOp(2, "rec.put", "b"), storetest.RecOp(3, "rec.put", "a")}
	if _, _, err := s.AppendNew(ctx, "desk", put); err != nil {
		t.Fatal(err)
	}
	exec(t, url, "UPDATE ops SET rec = (SELECT rec FROM ops WHERE tenant = $1 AND global = 1) WHERE tenant = $1 AND global = 2", s.tenant)
	if _, _, err := s.AppendNew(ctx, "desk", []syncproto.Op{storetest.RecOp(4, "rec.erase", "a")}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Since(store.FeedAll, 0, 10, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"rec.erased", "rec.put", "rec.erased", "rec.erase"}
	if len(got) != len(want) {
		t.Fatalf("%d ops, want %d", len(got), len(want))
	}
	for i, op := range got {
		if op.Kind != want[i] {
			t.Errorf("op %d is %s, want %s", op.Global, op.Kind, want[i])
		}
	}
	var b struct{ Rec string }
	if json.Unmarshal(got[1].Body, &b); b.Rec != "b" {
		t.Errorf("op 2's body %s, want record b's", got[1].Body)
	}
	if n := count(t, url, "SELECT count(*) FROM ops WHERE tenant = $1 AND rec IS NULL", s.tenant); n != 2 {
		t.Errorf("%d ops without a rec, want the 2 redacted ones", n)
	}
}

// TestRecHash: the index's value depends on the record, the tenant and
// the store key, and is never the record id.
func TestRecHash(t *testing.T) {
	h1, err := newRecHasher(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := newRecHasher(bytes.Repeat([]byte{2}, 32))
	base := h1.hash(1, "resident-1")
	tests := []struct {
		name string
		got  []byte
		same bool
	}{
		{"the same record", h1.hash(1, "resident-1"), true},
		{"another record", h1.hash(1, "resident-2"), false},
		{"another tenant", h1.hash(2, "resident-1"), false},
		{"another key", h2.hash(1, "resident-1"), false},
	}
	for _, tt := range tests {
		if same := bytes.Equal(tt.got, base); same != tt.same {
			t.Errorf("%s: equal %v, want %v", tt.name, same, tt.same)
		}
	}
	if len(base) != recHashLen || bytes.Contains(base, []byte("resident")) {
		t.Errorf("hash %x", base)
	}
}

// TestEraseReadsThroughTheIndex: on analysed tables, in custom and
// generic plans, erase's query reads the ops through the record index
// and probes the feeds by index: no sequential scan of either table.
func TestEraseReadsThroughTheIndex(t *testing.T) {
	c := pgtest.Start(t)
	cfg := storetest.RecConfig()
	s := openTenant(t, c.URL("postgres"), Options{Feeds: cfg.Feeds, Erasure: cfg.Erasure})
	storetest.WriteOlderLog(t, s)
	ctx := context.Background()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "ANALYZE ops; ANALYZE feeds"); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
		if _, err := conn.Exec(ctx, "SET plan_cache_mode = "+mode); err != nil {
			t.Fatal(err)
		}
		rows, err := conn.Query(ctx, "EXPLAIN "+eraseQuery, s.tenant, s.recs.hash(s.tenant, "r7"), int64(3000), []string{"recs"})
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		plan := strings.Join(lines, "\n")
		if strings.Contains(plan, "Seq Scan") || !strings.Contains(plan, "ops_rec") || !strings.Contains(plan, "feeds_pkey") {
			t.Errorf("%s: erase's plan does not read through the indexes:\n%s", mode, plan)
		}
	}
	if _, err := conn.Exec(ctx, "RESET plan_cache_mode"); err != nil {
		t.Fatal(err)
	}
}
