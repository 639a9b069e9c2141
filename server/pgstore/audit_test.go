package pgstore

import (
	"fmt"
	"sync"
	"testing"

	"smartpass.city/smartpass/server/audit"
	"smartpass.city/smartpass/server/store/pgtest"
)

// TestAuditChainDoesNotForkAcrossServers: two stores on one tenant (two
// server processes) append to the audit chain at once; the chain holds
// every entry once and verifies, because each append is a serialisable
// transaction that PostgreSQL runs again when the other took its place.
func TestAuditChainDoesNotForkAcrossServers(t *testing.T) {
	c := pgtest.Start(t)
	key := testKey(t)
	var logs []*audit.Log
	for range 2 {
		logs = append(logs, audit.New(openTenant(t, c.URL("postgres"), Options{Tenant: "kaga", Key: key})))
	}
	const perWriter = 25
	var wg sync.WaitGroup
	for i, l := range logs {
		for w := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := range perWriter {
					if _, err := l.Append(fmt.Sprintf("server-%d", i), "test.append", fmt.Sprintf("w%d-%d", w, n), ""); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	want := len(logs) * 3 * perWriter
	for i, l := range logs {
		seen := map[string]bool{}
		n, err := l.Verify(func(e audit.Entry) { seen[e.Actor+"/"+e.Subject] = true })
		if err != nil {
			t.Fatalf("server %d: the chain does not verify: %v", i, err)
		}
		if n != want || len(seen) != want {
			t.Fatalf("server %d: %d entries, %d distinct, want %d", i, n, len(seen), want)
		}
	}
}
