package jpki_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"smartpass.city/smartpass/app/jpki"
)

// medianIssue is the median time of n calls of Issue.
func medianIssue(nonces *jpki.Nonces, n int) time.Duration {
	d := make([]time.Duration, n)
	for i := range d {
		start := time.Now()
		nonces.Issue()
		d[i] = time.Since(start)
	}
	slices.Sort(d)
	return d[n/2]
}

// TestNonceIssueStaysFlat (issue 16, finding 9b): issuing swept every
// outstanding nonce under the lock, so the median issue went from 0.34 to
// 3.1 ms after 40,000 nonces, and a flood of them slowed every card
// check. Now it costs the same with 40,000 outstanding. Failed before
// the fix (the median grew a hundredfold).
func TestNonceIssueStaysFlat(t *testing.T) {
	var nonces jpki.Nonces
	before := medianIssue(&nonces, 2000)
	for range 40000 {
		nonces.Issue()
	}
	after := medianIssue(&nonces, 2000)
	t.Logf("median issue: %s fresh, %s with 40,000 outstanding", before, after)
	if after > 5*before+20*time.Microsecond {
		t.Fatalf("median issue %s with 40,000 outstanding, %s fresh: it grows with the nonces kept", after, before)
	}
}

// TestNoncesBounded: past MaxOutstanding the oldest nonces are forgotten,
// the newest still work, and expired ones are refused whatever their
// place.
func TestNoncesBounded(t *testing.T) {
	now := time.Now()
	nonces := jpki.Nonces{TTL: time.Minute, MaxOutstanding: 100, Now: func() time.Time { return now }}
	var issued [][]byte
	for range 150 {
		issued = append(issued, nonces.Issue())
		now = now.Add(time.Millisecond)
	}
	for i, n := range issued {
		err := nonces.Use(n)
		if kept := i >= 50; kept != (err == nil) {
			t.Fatalf("nonce %d of 150 (max 100 kept): %v", i, err)
		}
	}
	old := nonces.Issue()
	now = now.Add(2 * time.Minute)
	fresh := nonces.Issue()
	if err := nonces.Use(old); !errors.Is(err, jpki.ErrNonce) {
		t.Fatalf("an expired nonce: %v", err)
	}
	if err := nonces.Use(fresh); err != nil {
		t.Fatalf("a fresh nonce after the expired were dropped: %v", err)
	}
	if err := nonces.Use(fresh[:16]); !errors.Is(err, jpki.ErrNonce) {
		t.Fatalf("half a nonce: %v", err)
	}
}

// BenchmarkNonceIssue40000: one issue with 40,000 nonces outstanding.
func BenchmarkNonceIssue40000(b *testing.B) {
	var nonces jpki.Nonces
	for range 40000 {
		nonces.Issue()
	}
	for b.Loop() {
		nonces.Issue()
	}
}
